"""Read-only queries for the learner's pages; each page makes a fixed number of queries."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, exists, func, select

from app.assignments.models import Submission
from app.content.models import Course, CourseMedia, Item, ItemTranslation
from app.extensions import db
from app.learning import access
from app.learning.models import Enrolment, Progress


@dataclass
class CourseCard:
    course: Course
    enrolled: bool
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass
class ItemRow:
    item: Item
    title: str
    lang: str
    done: bool
    # Why the learner cannot enter it yet (app/learning/access.py), and its dates in their cohort.
    lock: access.Lock | None = None
    dates: access.ItemDates = access.NO_DATES
    overdue: bool = False


@dataclass
class Outline:
    course: Course
    rows: list[ItemRow] = field(default_factory=list)
    enrolled: bool = False
    schedule: access.Schedule = access.NO_SCHEDULE

    @property
    def required_rows(self) -> list[ItemRow]:
        return [row for row in self.rows if row.item.required]

    @property
    def done(self) -> int:
        return sum(1 for row in self.required_rows if row.done)

    @property
    def total(self) -> int:
        return len(self.required_rows)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    def find(self, item_slug: str) -> ItemRow | None:
        """The live item with this slug, or None."""
        return next((row for row in self.rows if row.item.slug == item_slug), None)

    @property
    def next_row(self) -> ItemRow | None:
        """Where to continue: the first item not yet finished that is open (else the first not
        finished)."""
        return (next((row for row in self.rows if not row.done and row.lock is None), None)
                or next((row for row in self.rows if not row.done), None))

    def titles_of(self, slugs) -> list[str]:
        """The titles of the live items with these slugs (for "after …" in the outline)."""
        rows = self.by_slug()
        return [rows[slug].title for slug in slugs if slug in rows]

    @property
    def locked_ids(self) -> list[int]:
        """The items the learner cannot enter yet."""
        return [row.item.id for row in self.rows if row.lock is not None]

    def by_slug(self) -> dict[str, ItemRow]:
        return {row.item.slug: row for row in self.rows}

    def neighbours(self, item: Item) -> tuple[ItemRow | None, ItemRow | None]:
        slugs = [row.item.slug for row in self.rows]
        if item.slug not in slugs:
            return None, None
        index = slugs.index(item.slug)
        before = self.rows[index - 1] if index > 0 else None
        after = self.rows[index + 1] if index + 1 < len(self.rows) else None
        return before, after


def course_cards(user, *, enrolled_only: bool = False) -> list[CourseCard]:
    """Courses the user can see, with their progress: three queries whatever the numbers."""
    enrolled_ids = set(db.session.scalars(select(Enrolment.course_id).where(Enrolment.user_id == user.id)))
    courses = db.session.scalars(
        select(Course).where(Course.retired_at.is_(None)).order_by(Course.slug)).all()
    courses = [c for c in courses if c.id in enrolled_ids or (c.is_open and not enrolled_only)]
    counted = (Item.required.is_(True)) & (Item.retired_at.is_(None))
    rows = db.session.execute(
        select(Item.course_id, func.count(Item.id), func.count(Progress.id))
        .outerjoin(Progress, and_(Progress.item_id == Item.id, Progress.user_id == user.id))
        .where(counted).group_by(Item.course_id)
    ).all()
    totals = {course_id: (total, done) for course_id, total, done in rows}
    return [CourseCard(course=c, enrolled=c.id in enrolled_ids,
                       done=totals.get(c.id, (0, 0))[1], total=totals.get(c.id, (0, 0))[0])
            for c in courses]


def course_outline(user, course: Course, lang: str) -> Outline:
    """The course's live items in order, titled in lang (else English), with the user's progress."""
    # One statement for the items, their titles and the user's progress (issue 18: every page
    # with an outline ran four before).
    def title_in(title_lang: str):
        return (select(ItemTranslation.title)
                .where(ItemTranslation.item_id == Item.id, ItemTranslation.lang == title_lang)
                .correlate(Item).scalar_subquery())

    done_here = exists().where(Progress.user_id == user.id, Progress.item_id == Item.id).correlate(Item)
    # Work handed in and waiting for its review is not overdue: the learner did their part.
    handed_in = exists().where(Submission.user_id == user.id, Submission.item_id == Item.id,
                               Submission.submitted_at.is_not(None)).correlate(Item)
    rows = db.session.execute(
        select(Item, title_in(lang), title_in("en"), done_here, handed_in)
        .where(Item.course_id == course.id, Item.retired_at.is_(None)).order_by(Item.position)
    ).all()
    enrolled = db.session.scalar(
        select(Enrolment.id).where(Enrolment.user_id == user.id, Enrolment.course_id == course.id)) is not None
    schedule = access.schedule_for(user, course)
    outline = Outline(course=course, enrolled=enrolled, schedule=schedule)
    done_slugs = {item.slug for item, _title, _title_en, done, _handed_in in rows if done}
    found = access.locks([access.ItemFacts(id=item.id, slug=item.slug, requires=tuple(item.requires or ()))
                          for item, *_rest in rows], done_slugs, schedule)
    for item, title, title_en, done, handed_in in rows:
        shown, shown_title = (lang, title) if title is not None else ("en", title_en)
        dates = schedule.of(item.id)
        outline.rows.append(ItemRow(item=item, title=shown_title if shown_title is not None else item.slug,
                                    lang=shown, done=bool(done), lock=found.get(item.id), dates=dates,
                                    overdue=access.is_overdue(dates, bool(done or handed_in), schedule.today)))
    return outline


def translation_for(item: Item, lang: str) -> ItemTranslation | None:
    """The item's text in lang, else in English (the caller tells the reader which)."""
    found = {t.lang: t for t in db.session.scalars(
        select(ItemTranslation).where(ItemTranslation.item_id == item.id,
                                      ItemTranslation.lang.in_({lang, "en"})))}
    return found.get(lang) or found.get("en")


def cohorts_led_by(user, limit: int = 20) -> list:
    """The cohorts on the person's home page: all of them for an admin, else those they train;
    the latest first. One query."""
    from app.cohorts.models import Cohort, Membership

    query = select(Cohort).order_by(Cohort.starts_on.desc(), Cohort.name).limit(limit)
    if not user.is_admin:
        query = query.join(Membership, Membership.cohort_id == Cohort.id).where(
            Membership.user_id == user.id, Membership.role == "trainer")
    return list(db.session.scalars(query))


def course_media(course: Course, path: str) -> CourseMedia | None:
    """The course's media file at this path (relative to the course folder), or None."""
    return db.session.scalar(select(CourseMedia).where(CourseMedia.course_id == course.id,
                                                       CourseMedia.path == path))
