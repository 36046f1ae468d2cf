"""Locks as a table (sequencing, opening dates, early releases), and a learner's schedule from
the course's pacing and the cohort's own dates (app/learning/access.py, app/cohorts/schedule.py)."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.cohorts.models import LEARNER, Cohort, CohortCourse, CohortItemDate, ItemRelease, Membership
from app.cohorts.schedule import Pacing, effective_dates, learner_schedule, paced_dates
from app.content.models import Course, Item
from app.extensions import db
from app.learning.access import (
    ItemDates,
    ItemFacts,
    ItemLocked,
    Lock,
    Schedule,
    due_moment,
    is_overdue,
    locks,
    require_open,
    today_in,
)

A, B, C = ItemFacts(1, "a"), ItemFacts(2, "b", ("a",)), ItemFacts(3, "c", ("a", "b"))
TODAY = date(2026, 3, 10)


def schedule(dates=None, released=()):
    return Schedule(cohort_id=1, today=TODAY, dates={k: ItemDates(*v) for k, v in (dates or {}).items()},
                    released=frozenset(released))


@pytest.mark.parametrize("done, sched, expected", [
    # sequencing only
    (set(), Schedule(), {2: Lock(missing=("a",)), 3: Lock(missing=("a", "b"))}),
    ({"a"}, Schedule(), {3: Lock(missing=("b",))}),
    ({"a", "b"}, Schedule(), {}),
    # an opening day after today locks; today or before does not
    ({"a", "b"}, schedule({1: (date(2026, 3, 11), None)}), {1: Lock(opens_on=date(2026, 3, 11))}),
    ({"a", "b"}, schedule({1: (TODAY, None)}), {}),
    ({"a", "b"}, schedule({1: (date(2026, 3, 1), None)}), {}),
    # both reasons at once
    (set(), schedule({2: (date(2026, 4, 1), None)}),
     {2: Lock(opens_on=date(2026, 4, 1), missing=("a",)), 3: Lock(missing=("a", "b"))}),
    # an early release lifts both
    (set(), schedule({2: (date(2026, 4, 1), None)}, released={2}), {3: Lock(missing=("a", "b"))}),
])
def test_locks(done, sched, expected):
    assert locks([A, B, C], done, sched) == expected


def test_a_requirement_naming_no_live_item_is_ignored():
    assert locks([ItemFacts(1, "a", ("retired",))], set(), Schedule()) == {}


@pytest.mark.parametrize("due, done, today, expected", [
    (date(2026, 3, 9), False, TODAY, True),
    (TODAY, False, TODAY, False),  # due at the end of the day
    (date(2026, 3, 9), True, TODAY, False),
    (None, False, TODAY, False),
    (date(2026, 3, 9), False, None, False),
])
def test_overdue(due, done, today, expected):
    assert is_overdue(ItemDates(due_on=due), done, today) is expected


def test_days_are_the_cohort_time_zone_days():
    # 21:30 UTC on 9 March is already 10 March in Tbilisi (UTC+4)
    assert today_in("Asia/Tbilisi", datetime(2026, 3, 9, 21, 30, tzinfo=UTC)) == date(2026, 3, 10)
    assert due_moment(date(2026, 3, 10), "Asia/Tbilisi") == datetime(2026, 3, 10, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize("pacing, expected", [
    ({"opens": 0, "due": 1}, ItemDates(date(2026, 3, 2), date(2026, 3, 8))),
    ({"opens": 2}, ItemDates(date(2026, 3, 16), None)),
    ({"due": 3}, ItemDates(None, date(2026, 3, 22))),
    ({}, ItemDates()),
])
def test_pacing_weeks_become_days(pacing, expected):
    assert paced_dates(Pacing.of(1, pacing), date(2026, 3, 2)) == expected


def test_a_cohort_row_overrides_the_pacing_and_no_start_means_no_dates():
    row = CohortItemDate(cohort_id=1, item_id=1, opens_on=None, due_on=date(2026, 5, 1))
    items = [Pacing.of(1, {"opens": 0, "due": 1}), Pacing.of(2, {"opens": 1, "due": 2})]
    assert effective_dates(items, date(2026, 3, 2), {1: row}) == {
        1: ItemDates(None, date(2026, 5, 1)), 2: ItemDates(date(2026, 3, 9), date(2026, 3, 15))}
    assert effective_dates(items, None, {}) == {}


def test_a_learner_in_a_cohort_is_held_back_until_the_opening_day_unless_released(app, factories):
    learner, other = factories.make_user(), factories.make_user()
    course = factories.make_course(items=("lesson", "lesson"))
    with app.app_context():
        first, second = db.session.query(Item).filter_by(course_id=course.id).order_by(Item.position).all()
        second.pacing = {"opens": 1, "due": 2}
        cohort = Cohort(name="Marneuli", starts_on=date(2026, 3, 2))
        db.session.add(cohort)
        db.session.flush()
        db.session.add_all([CohortCourse(cohort_id=cohort.id, course_id=course.id),
                            Membership(cohort_id=cohort.id, user_id=learner.id, role=LEARNER)])
        db.session.commit()
        course_row = db.session.get(Course, course.id)
        monday = datetime(2026, 3, 3, 8, tzinfo=UTC)
        found = learner_schedule(learner, course_row, monday)
        assert found.cohort_id == cohort.id and found.today == date(2026, 3, 3)
        assert found.of(second.id) == ItemDates(date(2026, 3, 9), date(2026, 3, 15))
        with pytest.raises(ItemLocked) as refused:
            require_open(learner, second, now=monday)
        assert refused.value.lock == Lock(opens_on=date(2026, 3, 9))
        require_open(learner, second, now=datetime(2026, 3, 8, 20, 0, tzinfo=UTC))  # 9 March in Tbilisi
        require_open(other, second, now=monday)  # in no cohort: no dates
        db.session.add(ItemRelease(cohort_id=cohort.id, item_id=second.id, user_id=learner.id))
        db.session.commit()
        require_open(learner, second, now=monday)
        require_open(learner, first, now=monday)


def test_the_lesson_page_says_why_and_marking_it_done_is_refused(app, client, auth, factories):
    learner = factories.make_user()
    course = factories.make_course(items=("lesson", "lesson"))
    with app.app_context():
        second = db.session.query(Item).filter_by(course_id=course.id, slug="item2").one()
        second.requires = ["item1"]
        db.session.commit()
    auth.login_as(learner)
    client.post(f"/courses/{course.slug}/enrol")
    page = client.get(f"/courses/{course.slug}/item2")
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "Finish these first" in text and f'href="/courses/{course.slug}/item1"' in text
    assert "Text of item 2" not in text
    assert client.post(f"/courses/{course.slug}/item2/done").status_code in (400, 403)
    with app.app_context():
        from app.learning.models import Progress
        assert db.session.query(Progress).filter_by(user_id=learner.id).count() == 0
