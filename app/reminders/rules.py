"""Which reminders are due: pure rules over facts the job gathers (app/reminders/jobs.py).

No database and no clock here: the caller passes the facts and ``now``, so the rules are tested as
a table (tests/reminders/test_rules.py), like the at-risk rules (app/cohorts/risk.py).

Every reminder has a key naming its occasion; the key is unique in the ``reminder`` table, so a
reminder is recorded, and sent, once, whatever the number of workers and restarts:

- ``due_soon:<learner>:<item>:<due day>``: the item is due within the next 48 hours (the end of
  its due day in the cohort's time zone), is open to the learner and not finished or handed in.
  A changed due day is a new occasion.
- ``overdue:<learner>:<item>:<due day>``: the due moment has passed, the item is not finished or
  handed in; only during the OVERDUE_WINDOW after it, so that a worker started late (or a date
  set in the past) does not send reminders about work long overdue.
- ``review_waiting:<mentor>:<revision>``: a handed-in revision has waited longer than the
  cohort's review target (``review_target_days``; 0 switches it off) for a review, to each mentor
  whose link reaches the submission.
- ``trainer_summary:<cohort>:<trainer>:<ISO week>``: once a week to each trainer of a running
  cohort with learners, from Monday at DIGEST_HOUR in the cohort's time zone (a worker that was
  down on Monday sends it later that week).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.learning.access import due_moment

DUE_SOON, OVERDUE, REVIEW_WAITING, TRAINER_SUMMARY = "due_soon", "overdue", "review_waiting", "trainer_summary"
KINDS = (DUE_SOON, OVERDUE, REVIEW_WAITING, TRAINER_SUMMARY)
DUE_SOON_WINDOW = timedelta(hours=48)
OVERDUE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Task:
    """One learner and one item with a due day in their cohort."""

    user_id: int
    item_id: int
    due_on: date
    time_zone: str
    finished: bool = False  # lesson done, quiz passed, assignment approved (Progress)
    handed_in: bool = False  # an assignment submitted, waiting for its review
    is_open: bool = True  # neither its opening day nor its requirements hold it back


@dataclass(frozen=True)
class WaitingRevision:
    """A handed-in revision nobody has reviewed yet, and the mentors who reach it."""

    revision_id: int
    submission_id: int
    submitted_at: datetime
    target_days: int
    mentor_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class CohortFacts:
    cohort_id: int
    time_zone: str
    trainer_ids: tuple[int, ...] = ()
    learner_count: int = 0
    starts_on: date | None = None
    ends_on: date | None = None


@dataclass(frozen=True)
class Due:
    """A reminder to send: its kind, recipient, key and what it is about."""

    kind: str
    user_id: int
    key: str
    about: dict[str, int | str] = field(default_factory=dict, compare=False)


def task_reminder(task: Task, now: datetime) -> Due | None:
    """``due_soon`` or ``overdue`` for this task at ``now``, or None."""
    if task.finished or task.handed_in:
        return None
    moment = due_moment(task.due_on, task.time_zone)
    about: dict[str, int | str] = {"item": task.item_id, "due_on": task.due_on.isoformat()}
    occasion = f"{task.user_id}:{task.item_id}:{task.due_on.isoformat()}"
    if moment - DUE_SOON_WINDOW <= now < moment:
        return Due(DUE_SOON, task.user_id, f"{DUE_SOON}:{occasion}", about) if task.is_open else None
    if moment <= now < moment + OVERDUE_WINDOW:
        return Due(OVERDUE, task.user_id, f"{OVERDUE}:{occasion}", about)
    return None


def review_reminders(revision: WaitingRevision, now: datetime) -> list[Due]:
    """``review_waiting`` to each mentor, once the revision has waited longer than the target."""
    if revision.target_days <= 0 or now - revision.submitted_at <= timedelta(days=revision.target_days):
        return []
    about: dict[str, int | str] = {"submission": revision.submission_id, "revision": revision.revision_id}
    return [Due(REVIEW_WAITING, mentor_id, f"{REVIEW_WAITING}:{mentor_id}:{revision.revision_id}", about)
            for mentor_id in sorted(set(revision.mentor_ids))]


def iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def summary_reminders(cohort: CohortFacts, now: datetime, digest_hour: int) -> list[Due]:
    """``trainer_summary`` to each trainer, from Monday at ``digest_hour`` (cohort's time) on."""
    local = now.astimezone(ZoneInfo(cohort.time_zone))
    today = local.date()
    running = ((cohort.starts_on is None or cohort.starts_on <= today)
               and (cohort.ends_on is None or today <= cohort.ends_on))
    if not cohort.learner_count or not running or (local.weekday() == 0 and local.hour < digest_hour):
        return []
    week = iso_week(today)
    about: dict[str, int | str] = {"cohort": cohort.cohort_id, "week": week}
    return [Due(TRAINER_SUMMARY, trainer_id, f"{TRAINER_SUMMARY}:{cohort.cohort_id}:{trainer_id}:{week}", about)
            for trainer_id in sorted(set(cohort.trainer_ids))]


def due_reminders(*, tasks: Iterable[Task] = (), revisions: Iterable[WaitingRevision] = (),
                  cohorts: Iterable[CohortFacts] = (), now: datetime, digest_hour: int) -> list[Due]:
    """Every reminder due at ``now``, in a fixed order (so that two workers meet the same keys
    in the same order), without duplicate keys."""
    found: dict[str, Due] = {}
    for task in tasks:
        due = task_reminder(task, now)
        if due is not None:
            found.setdefault(due.key, due)
    for revision in revisions:
        for due in review_reminders(revision, now):
            found.setdefault(due.key, due)
    for cohort in cohorts:
        for due in summary_reminders(cohort, now, digest_hour):
            found.setdefault(due.key, due)
    return [found[key] for key in sorted(found)]
