"""A cohort's schedule: when each course item opens and when it is due (issue 14).

The model:

- ``Item.pacing`` (``{"opens": weeks, "due": weeks}``) comes from course.yml's ``pacing`` (weeks
  after a cohort's start): the course's default rhythm. Week ``n`` opens on ``starts_on + 7·n`` days; an item due in
  week ``n`` is due at the end of the day ``starts_on + 7·n − 1`` (``due: 1`` = by the end of the
  first week).
- ``CohortItemDate`` (cohort, item) holds the cohort's own dates; a row overrides the course's
  pacing for that item (an empty date in a row means "no date").
- Dates are days in the cohort's time zone (``Cohort.time_zone``, Asia/Tbilisi by default): an
  item opens at the start of its opening day and is due at the end of its due day.
- ``ItemRelease`` opens one item early for one learner (app/learning/access.py reads it).

A learner's schedule in a course comes from the cohort their work in it belongs to
(:func:`app.cohorts.scope.cohort_of_work`); learners in no cohort have no dates.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, select

from app.cohorts.models import LEARNER, Cohort, CohortCourse, CohortItemDate, ItemRelease, Membership
from app.content.models import Item
from app.extensions import db
from app.learning.access import NO_SCHEDULE, ItemDates, Schedule, today_in


@dataclass(frozen=True)
class Pacing:
    """What the default dates are computed from (an Item's pacing)."""

    id: int
    opens_week: int | None
    due_week: int | None

    @classmethod
    def of(cls, item_id: int, pacing: dict | None) -> Pacing:
        pacing = pacing or {}
        return cls(item_id, pacing.get("opens"), pacing.get("due"))


def paced_dates(item: Pacing, starts_on: date | None) -> ItemDates:
    """The item's dates from the course's pacing and the cohort's start (no start: no dates)."""
    if starts_on is None:
        return ItemDates()
    opens = starts_on + timedelta(days=7 * item.opens_week) if item.opens_week is not None else None
    due = starts_on + timedelta(days=7 * item.due_week - 1) if item.due_week is not None else None
    return ItemDates(opens_on=opens, due_on=due)


def effective_dates(items: Iterable[Pacing], starts_on: date | None,
                    rows: dict[int, CohortItemDate]) -> dict[int, ItemDates]:
    """Each item's dates in the cohort: its CohortItemDate row, else the course's pacing. Items
    without either have no entry."""
    found: dict[int, ItemDates] = {}
    for item in items:
        row = rows.get(item.id)
        dates = (ItemDates(opens_on=row.opens_on, due_on=row.due_on) if row is not None
                 else paced_dates(item, starts_on))
        if dates.opens_on is not None or dates.due_on is not None:
            found[item.id] = dates
    return found


def cohort_dates(cohort: Cohort, course_ids: Iterable[int] | None = None) -> dict[int, ItemDates]:
    """The dates of every live item of the cohort's courses (or of ``course_ids``): two queries."""
    ids = list(course_ids) if course_ids is not None else cohort.course_ids
    items = db.session.execute(
        select(Item.id, Item.pacing).where(Item.course_id.in_(ids), Item.retired_at.is_(None))).all()
    rows = {row.item_id: row for row in db.session.scalars(
        select(CohortItemDate).where(CohortItemDate.cohort_id == cohort.id))}
    return effective_dates([Pacing.of(*item) for item in items], cohort.starts_on, rows)


def learner_schedule(user, course, now: datetime) -> Schedule:
    """The learner's schedule in the course (registered with learning in create_app): two
    queries, one for a learner in no cohort with the course."""
    cohort = db.session.scalar(
        select(Cohort)
        .join(Membership, Membership.cohort_id == Cohort.id)
        .join(CohortCourse, and_(CohortCourse.cohort_id == Cohort.id, CohortCourse.course_id == course.id))
        .where(Membership.user_id == user.id, Membership.role == LEARNER)
        .order_by(Membership.created_at, Membership.id).limit(1))  # the rule of scope.cohort_of_work
    if cohort is None:
        return NO_SCHEDULE
    released = exists().where(ItemRelease.cohort_id == cohort.id, ItemRelease.user_id == user.id,
                              ItemRelease.item_id == Item.id).correlate(Item)
    rows = db.session.execute(
        select(Item.id, Item.pacing, CohortItemDate, released)
        .outerjoin(CohortItemDate, and_(CohortItemDate.item_id == Item.id, CohortItemDate.cohort_id == cohort.id))
        .where(Item.course_id == course.id, Item.retired_at.is_(None))).all()
    dates = effective_dates([Pacing.of(item_id, pacing) for item_id, pacing, _row, _released in rows],
                            cohort.starts_on,
                            {row.item_id: row for _id, _pacing, row, _released in rows if row is not None})
    return Schedule(cohort_id=cohort.id, time_zone=cohort.time_zone, today=today_in(cohort.time_zone, now),
                    dates=dates, released=frozenset(item_id for item_id, _p, _r, rel in rows if rel))


def register() -> None:
    """Hand learning the learners' schedules (create_app)."""
    from app.learning.access import register_schedule_source

    register_schedule_source(learner_schedule)
