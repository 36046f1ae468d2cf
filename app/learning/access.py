"""Whether a learner may enter a course item now, and if not, why and what opens it.

Two things hold an item back (issue 14):

- **sequencing**: course.yml's ``requires`` for the item (``Item.requires``, slugs of items of the
  same course that must be finished first: a lesson done, a quiz passed, an assignment approved);
- **the schedule**: the opening day of the item in the learner's cohort, in the cohort's time zone.

A trainer's early release for one learner lifts both. Learning sits below cohorts in the layers
(docs/architecture.md), so the cohorts package hands down the learner's schedule with
:func:`register_schedule_source` (create_app); without one, or for a learner in no cohort with the
course, only sequencing applies and nothing has dates.

The rules here are pure (:func:`locks`), tested as a table; the outline (queries.course_outline)
gives every row its :class:`Lock` and dates, the item page shows why an item is locked, and
:func:`require_open` is what the services of lessons, quizzes and assignments call before a write.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from app.core.errors import NotAllowed


@dataclass(frozen=True)
class ItemDates:
    """An item's days in one cohort: it opens at the start of ``opens_on`` and is due at the end
    of ``due_on`` (days in the cohort's time zone); None: no such date."""

    opens_on: date | None = None
    due_on: date | None = None


@dataclass(frozen=True)
class Schedule:
    """The learner's schedule in one course: the cohort it comes from, today's day in the
    cohort's time zone, each item's dates (by item id) and the items released early for them."""

    cohort_id: int | None = None
    time_zone: str = "Asia/Tbilisi"
    today: date | None = None
    dates: dict[int, ItemDates] = field(default_factory=dict)
    released: frozenset[int] = frozenset()

    def of(self, item_id: int) -> ItemDates:
        return self.dates.get(item_id, NO_DATES)


NO_DATES = ItemDates()
NO_SCHEDULE = Schedule()


@dataclass(frozen=True)
class Lock:
    """Why an item cannot be entered yet: its opening day (None when the date is not the reason)
    and the items to finish first (slugs, in course order)."""

    opens_on: date | None = None
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemFacts:
    """What :func:`locks` reads of an item."""

    id: int
    slug: str
    requires: tuple[str, ...] = ()


def locks(items: Iterable[ItemFacts], done: set[str], schedule: Schedule) -> dict[int, Lock]:
    """The locked items (by id) among ``items``, for a learner who has finished the items whose
    slugs are in ``done``. Pure: no database and no clock (``schedule.today`` is the day).

    - an item released early for the learner is never locked;
    - an item whose opening day is after today is locked until then;
    - an item with unfinished requirements is locked until they are finished (requirements that
      name no live item of the course are ignored: ``courses check`` refuses them in files).
    """
    items = list(items)
    live = {item.slug for item in items}
    found: dict[int, Lock] = {}
    for item in items:
        if item.id in schedule.released:
            continue
        opens_on = schedule.of(item.id).opens_on
        not_yet = opens_on if (opens_on is not None and schedule.today is not None
                               and opens_on > schedule.today) else None
        missing = tuple(slug for slug in item.requires if slug in live and slug not in done)
        if not_yet is not None or missing:
            found[item.id] = Lock(opens_on=not_yet, missing=missing)
    return found


def is_overdue(dates: ItemDates, done: bool, today: date | None) -> bool:
    """Past its due day and not finished."""
    return not done and dates.due_on is not None and today is not None and today > dates.due_on


def today_in(time_zone: str, now: datetime) -> date:
    """The day it is at ``now`` in the time zone."""
    return now.astimezone(ZoneInfo(time_zone)).date()


def due_moment(due_on: date, time_zone: str) -> datetime:
    """The end of the due day in the time zone (the first instant after it)."""
    return datetime.combine(due_on + timedelta(days=1), datetime.min.time(), ZoneInfo(time_zone))


# ---- the schedule handed down by the cohorts package ------------------------------------------

ScheduleSource = Callable[..., Schedule]  # (user, course, now) -> Schedule
_sources: list[ScheduleSource] = []


def register_schedule_source(source: ScheduleSource) -> None:
    """Use ``source(user, course, now)`` for a learner's schedule (create_app registers the
    cohorts package's; idempotent)."""
    _sources[:] = [source]


def schedule_for(user, course, now: datetime | None = None) -> Schedule:
    """The learner's schedule in the course (NO_SCHEDULE without a source or a cohort)."""
    from app.database import utcnow

    if not _sources or user is None or not getattr(user, "is_authenticated", False):
        return NO_SCHEDULE
    return _sources[0](user, course, now or utcnow())


# ---- refusing writes to a locked item ----------------------------------------------------------

class ItemLocked(NotAllowed):
    """The item is not open to this learner yet (its date, or items to finish first)."""

    def __init__(self, lock: Lock | str | None = None, item=None):
        super().__init__(lock if isinstance(lock, str) else _l("This item is not open to you yet."))
        self.lock = lock if isinstance(lock, Lock) else None
        #: The locked item, so that the page answering the refusal can say why (learning/routes.py).
        self.item = item


def lock_of(user, item, now: datetime | None = None) -> Lock | None:
    """The item's lock for this learner, or None when they may enter it (three queries)."""
    from sqlalchemy import select

    from app.content.models import Item
    from app.extensions import db
    from app.learning.models import Progress

    course = item.course
    rows = db.session.execute(
        select(Item.id, Item.slug, Item.requires)
        .where(Item.course_id == course.id, Item.retired_at.is_(None))).all()
    done = set(db.session.scalars(
        select(Item.slug).join(Progress, Progress.item_id == Item.id)
        .where(Progress.user_id == user.id, Item.course_id == course.id)))
    schedule = schedule_for(user, course, now)
    facts = [ItemFacts(id=row.id, slug=row.slug, requires=tuple(row.requires or ())) for row in rows]
    return locks(facts, done, schedule).get(item.id)


def require_open(user, item, now: datetime | None = None) -> None:
    """Raise ItemLocked when the item is not open to the learner yet (the services of lessons,
    quizzes and assignments call it before they write; nothing of the request is kept then)."""
    lock = lock_of(user, item, now)
    if lock is not None:
        raise ItemLocked(lock, item=item)
