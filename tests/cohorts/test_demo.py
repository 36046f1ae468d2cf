"""The demo cohort over the demo accounts."""
from __future__ import annotations

from sqlalchemy import func, select

from app.assignments.models import MentorLink
from app.cohorts.demo import DEMO_COHORT, create_demo_cohort
from app.cohorts.models import Cohort, CohortCourse, Membership
from app.learning.models import Enrolment
from app.extensions import db


def test_demo_cohort(app, runner, factories):
    assert runner.invoke(args=["cohorts", "demo"]).exit_code == 1  # no demo accounts yet
    assert runner.invoke(args=["demo"]).exit_code == 0
    courses = [factories.make_course(), factories.make_course()]
    for _ in range(2):  # twice: the second run changes nothing
        result = runner.invoke(args=["cohorts", "demo"])
        assert result.exit_code == 0 and DEMO_COHORT in result.output
    with app.app_context():
        cohort = db.session.scalar(select(Cohort).where(Cohort.name == DEMO_COHORT))
        roles = dict(db.session.execute(select(Membership.role, func.count()).where(
            Membership.cohort_id == cohort.id).group_by(Membership.role)).all())
        assert roles == {"trainer": 1, "mentor": 2, "learner": 4}
        assert set(db.session.scalars(select(CohortCourse.course_id))) == {c.id for c in courses}
        assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 8
        # The demo's mentor links now belong to the cohort.
        assert {link.cohort_id for link in db.session.scalars(select(MentorLink))} == {cohort.id}
        assert create_demo_cohort().id == cohort.id


def test_the_demo_cohort_has_a_weekly_schedule_that_is_under_way(app, runner, factories):
    from datetime import date, timedelta

    from app.cohorts import schedule

    assert runner.invoke(args=["demo"]).exit_code == 0
    factories.make_course(items=("lesson", "quiz", "lesson", "assignment", "lesson", "lesson"))
    assert runner.invoke(args=["cohorts", "demo"]).exit_code == 0
    with app.app_context():
        cohort = db.session.scalar(select(Cohort).where(Cohort.name == DEMO_COHORT))
        items = schedule.schedule_items(cohort)
        today = date.today()
        assert all(item.own and item.opens_on and item.due_on for item in items)
        assert min(item.opens_on for item in items) <= today - timedelta(days=21)
        assert any(item.due_on < today for item in items)  # something is overdue
        assert any(item.opens_on <= today <= item.due_on for item in items)  # something is due this week
        assert any(item.opens_on > today for item in items)  # and something is not open yet
        version = cohort.schedule_version
    assert runner.invoke(args=["cohorts", "demo"]).exit_code == 0
    with app.app_context():  # run again: the schedule is kept as it is
        assert db.session.scalar(select(Cohort.schedule_version).where(Cohort.name == DEMO_COHORT)) == version
