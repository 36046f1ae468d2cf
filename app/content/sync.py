"""Load validated course specs into the database, in the caller's single transaction.

A broken tree changes nothing (sync refuses before writing). Unchanged courses (same source
hash) are not touched, so a second run writes nothing. Items that disappear from the files are
retired, never deleted: learners' progress and attempts stay attached to their slugs.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select

from app.content.models import Course, CourseMedia, Item, ItemTranslation
from app.content.problems import Problem
from app.database import utcnow
from app.extensions import db


class InvalidCourses(Exception):
    """The files have problems; nothing was written."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s) in the course files")
        self.problems = problems


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def wrote_anything(self) -> bool:
        return bool(self.added or self.changed or self.retired)

    def lines(self) -> list[str]:
        if not self.wrote_anything:
            return [f"nothing to do: {len(self.unchanged)} course(s) unchanged"]
        out = [f"added {name}" for name in self.added]
        out += [f"changed {name}" for name in self.changed]
        out += [f"retired {name}" for name in self.retired]
        out.append(f"{len(self.unchanged)} course(s) unchanged")
        return out


def _plain(value: Any) -> Any:
    """Turn dataclasses (quiz and rubric models) into JSON-ready data."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _translation_data(spec) -> dict[str, Any]:
    data: dict[str, Any] = {"meta": _plain(dict(spec.meta or {}))}
    if getattr(spec, "quiz", None) is not None:
        data["quiz"] = _plain(spec.quiz)
    if getattr(spec, "rubric", None) is not None:
        data["rubric"] = _plain(spec.rubric)
    return data


def stored_hashes() -> dict[str, str]:
    """The source hash of every live course in the database, by slug.

    `courses sync` hands these to load_courses() first, so a course whose files (and renderer
    version, see app.content.loader.course_source_hash) are unchanged is not even parsed.
    """
    # Courses published from an upload are left out: the command decides about them (skip, or
    # replace with --force) only after loading the folder.
    rows = db.session.execute(select(Course.slug, Course.source_hash)
                              .where(Course.retired_at.is_(None), Course.upload_id.is_(None)))
    return {slug: source_hash for slug, source_hash in rows}


def sync_courses(courses: Iterable, problems: list[Problem], *, retire_missing: bool,
                 on_course: Callable[[str], None] | None = None,
                 unchanged: Iterable[str] = ()) -> SyncReport:
    """Write the course specs to the database (add + flush; the caller commits once).

    Raises InvalidCourses, before writing anything, when problems is not empty. With
    retire_missing, courses in the database but not in the files are retired. ``unchanged``
    are slugs that the loader found unchanged and skipped: they count as present.
    """
    if problems:
        raise InvalidCourses(list(problems))
    report = SyncReport()
    now = utcnow()
    existing = {course.slug: course for course in db.session.scalars(select(Course))}
    seen: set[str] = set(unchanged)
    report.unchanged.extend(unchanged)
    for spec in courses:
        seen.add(spec.slug)
        course = existing.get(spec.slug)
        if course is not None and course.source_hash == spec.source_hash and course.retired_at is None:
            report.unchanged.append(spec.slug)
        else:
            if course is None:
                course = Course(slug=spec.slug, created_at=now)
                db.session.add(course)
                report.added.append(spec.slug)
            else:
                report.changed.append(spec.slug)
            _write_course(course, spec, now)
        if on_course:
            on_course(spec.slug)
    if retire_missing:
        for slug, course in existing.items():
            # A course published from an upload is not in courses/: leave it alone.
            if slug not in seen and course.retired_at is None and course.upload_id is None:
                course.retired_at = now
                report.retired.append(slug)
    db.session.flush()
    return report


def _write_course(course: Course, spec, now) -> None:
    course.source_hash = spec.source_hash
    course.titles = dict(spec.titles)
    course.summaries = dict(spec.summaries_html)
    course.audience = dict(spec.audience or {})
    course.languages = list(spec.languages)
    course.estimated_hours = float(spec.estimated_hours)
    course.is_open = bool(spec.open)
    course.completion = _plain(dict(spec.completion or {}))
    course.retired_at = None
    course.updated_at = now
    db.session.flush()
    _write_items(course, spec, now)
    _write_media(course, spec)


def _write_items(course: Course, spec, now) -> None:
    items = {item.slug: item for item in db.session.scalars(select(Item).where(Item.course_id == course.id))}
    live = set()
    for position, item_spec in enumerate(spec.items):
        live.add(item_spec.slug)
        item = items.get(item_spec.slug)
        if item is None:
            item = Item(course_id=course.id, slug=item_spec.slug, created_at=now)
            db.session.add(item)
        base = item_spec.translations["en"]
        values = {"kind": item_spec.kind, "position": position, "required": bool(item_spec.required),
                  "minutes": int(base.minutes or 0), "retired_at": None,
                  "requires": list(item_spec.requires), "pacing": dict(item_spec.pacing)}
        if any(getattr(item, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(item, key, value)
            item.updated_at = now
        db.session.flush()
        _write_translations(item, item_spec, now)
    for slug, item in items.items():
        if slug not in live and item.retired_at is None:
            item.retired_at = now
            item.required = False
            item.updated_at = now


def _write_translations(item: Item, item_spec, now) -> None:
    rows = {row.lang: row for row in db.session.scalars(
        select(ItemTranslation).where(ItemTranslation.item_id == item.id))}
    for lang, tr in item_spec.translations.items():
        row = rows.get(lang)
        if row is not None and row.source_hash == tr.source_hash:
            continue
        if row is None:
            row = ItemTranslation(item_id=item.id, lang=lang)
            db.session.add(row)
        row.title = tr.title
        row.html = str(tr.html)
        row.objectives = list(tr.objectives or [])
        row.data = _translation_data(tr)
        row.source_hash = tr.source_hash
        row.updated_at = now
    gone = [lang for lang in rows if lang not in item_spec.translations]
    if gone:
        db.session.execute(delete(ItemTranslation).where(ItemTranslation.item_id == item.id,
                                                         ItemTranslation.lang.in_(gone)))


def _write_media(course: Course, spec) -> None:
    rows = {row.path: row for row in db.session.scalars(
        select(CourseMedia).where(CourseMedia.course_id == course.id))}
    for path, digest in spec.media.items():
        row = rows.get(path)
        if row is None:
            db.session.add(CourseMedia(course_id=course.id, path=path, sha256=digest))
        elif row.sha256 != digest:
            row.sha256 = digest
    gone = [path for path in rows if path not in spec.media]
    if gone:
        db.session.execute(delete(CourseMedia).where(CourseMedia.course_id == course.id,
                                                     CourseMedia.path.in_(gone)))
