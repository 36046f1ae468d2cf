"""What publishing a course spec would change in the database, said before anything changes."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.assignments.models import Review, Revision, Submission
from app.content.models import Course, CourseMedia, Item, ItemTranslation
from app.content.spec import CourseSpec
from app.content.sync import _plain
from app.extensions import db
from app.quizzes.authoring import quiz_structure
from app.quizzes.models import QuizAttempt
from app.quizzes.spec import Quiz


@dataclass
class ChangeSummary:
    """Items added, changed (with the languages whose text changed) and retired; languages
    added and removed; media; and quiz or rubric changes that touch existing work."""

    slug: str
    is_new_course: bool = False
    is_unchanged: bool = False
    course_settings_changed: bool = False
    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    retired: list[str] = field(default_factory=list)
    languages_added: list[str] = field(default_factory=list)
    languages_removed: list[str] = field(default_factory=list)
    media_changed: int = 0
    quizzes_with_attempts: dict[str, int] = field(default_factory=dict)
    rubrics_with_reviews: dict[str, int] = field(default_factory=dict)


def summarise_changes(spec: CourseSpec) -> ChangeSummary:
    """Compare a loaded course with what the database holds for its slug. Reads only."""
    summary = ChangeSummary(slug=spec.slug)
    course = db.session.scalar(select(Course).where(Course.slug == spec.slug))
    if course is None:
        summary.is_new_course = True
        summary.added = [item.slug for item in spec.items]
        summary.languages_added = list(spec.languages)
        return summary
    if course.source_hash == spec.source_hash and course.retired_at is None:
        summary.is_unchanged = True
        return summary
    summary.course_settings_changed = (
        course.titles != spec.titles or course.summaries != spec.summaries_html
        or float(course.estimated_hours) != float(spec.estimated_hours) or course.is_open != bool(spec.open)
        or course.completion != _plain(dict(spec.completion or {})) or course.retired_at is not None)
    summary.languages_added = [lang for lang in spec.languages if lang not in course.languages]
    summary.languages_removed = [lang for lang in course.languages if lang not in spec.languages]
    items = {item.slug: item for item in db.session.scalars(select(Item).where(Item.course_id == course.id))}
    translations: dict[int, dict[str, ItemTranslation]] = {}
    for row in db.session.scalars(select(ItemTranslation).join(Item).where(Item.course_id == course.id)):
        translations.setdefault(row.item_id, {})[row.lang] = row
    live = set()
    for position, item_spec in enumerate(spec.items):
        live.add(item_spec.slug)
        item = items.get(item_spec.slug)
        if item is None or item.retired_at is not None:
            summary.added.append(item_spec.slug)
            continue
        rows = translations.get(item.id, {})
        langs = sorted(lang for lang, tr in item_spec.translations.items()
                       if lang not in rows or rows[lang].source_hash != tr.source_hash)
        langs += sorted(lang for lang in rows if lang not in item_spec.translations)
        moved = (item.kind, item.position, item.required) != (item_spec.kind, position, bool(item_spec.required))
        if langs or moved:
            summary.changed[item_spec.slug] = langs
        _affected_work(summary, item, item_spec, rows.get("en"))
    summary.retired = sorted(slug for slug, item in items.items() if slug not in live and item.retired_at is None)
    old_media = {row.path: row.sha256 for row in db.session.scalars(
        select(CourseMedia).where(CourseMedia.course_id == course.id))}
    summary.media_changed = len(set(old_media.items()) ^ set(spec.media.items()))
    return summary


def _affected_work(summary: ChangeSummary, item: Item, item_spec, stored: ItemTranslation | None) -> None:
    """Call out a quiz whose questions or grading change while attempts exist, and a rubric
    that changes while reviews exist (they keep the scores they were given)."""
    base = item_spec.translations["en"]
    old = (stored.data or {}) if stored is not None else {}
    if base.quiz is not None and old.get("quiz") is not None:
        if quiz_structure(base.quiz) != quiz_structure(Quiz.from_dict(old["quiz"])):
            attempts = db.session.scalar(select(func.count()).select_from(QuizAttempt)
                                         .where(QuizAttempt.item_id == item.id))
            if attempts:
                summary.quizzes_with_attempts[item_spec.slug] = attempts
    if base.rubric is not None and old.get("rubric") is not None and _plain(base.rubric) != old["rubric"]:
        reviews = db.session.scalar(select(func.count()).select_from(Review).join(Revision)
                                    .join(Submission).where(Submission.item_id == item.id))
        if reviews:
            summary.rubrics_with_reviews[item_spec.slug] = reviews
