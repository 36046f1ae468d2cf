"""The reminder rules as a table: facts and a moment in, reminders (with their keys) out."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from app.reminders.rules import (CohortFacts, Task, WaitingRevision, due_reminders, iso_week, review_reminders,
                                 summary_reminders, task_reminder)

TBILISI = "Asia/Tbilisi"  # UTC+4, no summer time
DUE = date(2026, 3, 11)  # a Wednesday; due at the end of it: 2026-03-11 20:00 UTC


def utc(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


def task(**fields) -> Task:
    return Task(**{"user_id": 5, "item_id": 9, "due_on": DUE, "time_zone": TBILISI, **fields})


@pytest.mark.parametrize("facts, now, expected", [
    # more than 48 hours before the end of the due day: nothing yet
    (task(), utc(9, 19, 59), None),
    # 48 hours before, up to the last instant of the day (in Tbilisi): due soon
    (task(), utc(9, 20), "due_soon:5:9:2026-03-11"),
    (task(), utc(11, 19, 59), "due_soon:5:9:2026-03-11"),
    # finished, handed in, or not open to the learner: nothing
    (task(finished=True), utc(11), None),
    (task(handed_in=True), utc(11), None),
    (task(is_open=False), utc(11), None),
    # the due day over in Tbilisi (still the 11th in UTC): overdue
    (task(), utc(11, 20), "overdue:5:9:2026-03-11"),
    (task(is_open=False), utc(12), "overdue:5:9:2026-03-11"),  # locked by a requirement: still overdue
    (task(finished=True), utc(12), None),
    (task(handed_in=True), utc(12), None),
    # a week after the due moment: too late to remind
    (task(), utc(18, 19, 59), "overdue:5:9:2026-03-11"),
    (task(), utc(18, 20), None),
    # another time zone moves the due moment: end of the 11th in UTC
    (task(time_zone="UTC"), utc(11, 20), "due_soon:5:9:2026-03-11"),
    # a changed due day is a new occasion, with a new key
    (task(due_on=date(2026, 3, 13)), utc(12), "due_soon:5:9:2026-03-13"),
])
def test_task_reminders(facts, now, expected):
    due = task_reminder(facts, now)
    assert (due.key if due else None) == expected
    if due:
        assert due.user_id == 5 and due.about == {"item": 9, "due_on": facts.due_on.isoformat()}


def revision(**fields) -> WaitingRevision:
    return WaitingRevision(**{"revision_id": 70, "submission_id": 7, "submitted_at": utc(10),
                              "target_days": 3, "mentor_ids": (2, 3), **fields})


@pytest.mark.parametrize("facts, now, expected", [
    (revision(), utc(13), []),  # exactly the target: not longer than it yet
    (revision(), utc(13, 12, 1), ["review_waiting:2:70", "review_waiting:3:70"]),
    (revision(target_days=1), utc(11, 13), ["review_waiting:2:70", "review_waiting:3:70"]),
    (revision(target_days=0), utc(30), []),  # 0 switches it off
    (revision(mentor_ids=()), utc(30), []),  # nobody reaches it: nobody to remind
    (revision(mentor_ids=(3, 3)), utc(30), ["review_waiting:3:70"]),
    (revision(revision_id=71), utc(30), ["review_waiting:2:71", "review_waiting:3:71"]),  # a new revision
])
def test_review_reminders(facts, now, expected):
    assert [due.key for due in review_reminders(facts, now)] == expected


def cohort(**fields) -> CohortFacts:
    return CohortFacts(**{"cohort_id": 4, "time_zone": TBILISI, "trainer_ids": (8, 1), "learner_count": 3,
                          "starts_on": date(2026, 3, 1), "ends_on": None, **fields})


MONDAY = 9  # 2026-03-09 is a Monday, ISO week 11


@pytest.mark.parametrize("facts, now, expected", [
    # Monday 06:59 in Tbilisi (02:59 UTC): not yet; 07:00: to each trainer
    (cohort(), utc(MONDAY, 2, 59), []),
    (cohort(), utc(MONDAY, 3), ["trainer_summary:4:1:2026-W11", "trainer_summary:4:8:2026-W11"]),
    # later in the week (a worker that was down on Monday): the same week's key
    (cohort(), utc(13, 12), ["trainer_summary:4:1:2026-W11", "trainer_summary:4:8:2026-W11"]),
    # Sunday night in UTC is already Monday 03:00 in Tbilisi: before the hour, nothing
    (cohort(), utc(15, 23), []),
    # in another time zone, its own Monday
    (cohort(time_zone="UTC"), utc(16, 7), ["trainer_summary:4:1:2026-W12", "trainer_summary:4:8:2026-W12"]),
    # no learners, not started, or over: nothing
    (cohort(learner_count=0), utc(MONDAY, 8), []),
    (cohort(starts_on=date(2026, 3, 10)), utc(MONDAY, 8), []),
    (cohort(ends_on=date(2026, 3, 8)), utc(MONDAY, 8), []),
    (cohort(ends_on=date(2026, 3, 9)), utc(MONDAY, 8),
     ["trainer_summary:4:1:2026-W11", "trainer_summary:4:8:2026-W11"]),
    (cohort(trainer_ids=()), utc(MONDAY, 8), []),
])
def test_summary_reminders(facts, now, expected):
    assert [due.key for due in summary_reminders(facts, now, digest_hour=7)] == expected


def test_iso_week_at_the_turn_of_the_year():
    assert iso_week(date(2027, 1, 1)) == "2026-W53" and iso_week(date(2026, 1, 1)) == "2026-W01"


def test_due_reminders_are_sorted_by_key_without_duplicates():
    found = due_reminders(tasks=[task(user_id=6), task(), task()], revisions=[revision(submitted_at=utc(5))],
                          cohorts=[cohort()], now=utc(11, 12), digest_hour=7)
    assert [due.key for due in found] == [
        "due_soon:5:9:2026-03-11", "due_soon:6:9:2026-03-11", "review_waiting:2:70", "review_waiting:3:70",
        "trainer_summary:4:1:2026-W11", "trainer_summary:4:8:2026-W11"]
    assert due_reminders(now=utc(11), digest_hour=7) == []
