"""The demo cohort: "YPP 2025 — Marneuli" over the demo accounts of `flask --app wsgi demo`."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from app.assignments.models import MentorLink
from app.auth.models import User
from app.cohorts.models import LEARNER, MENTOR, TRAINER, Cohort, CohortCourse, CohortItemDate, Membership
from app.cohorts.services import enrol_in_courses
from app.content.models import Course
from app.core import audit
from app.extensions import db

DEMO_COHORT = "YPP 2025 — Marneuli"
DEMO_ROLES = {
    "trainer@example.org": TRAINER,
    "mentor1@example.org": MENTOR,
    "mentor2@example.org": MENTOR,
    "learner1@example.org": LEARNER,
    "learner2@example.org": LEARNER,
    "learner3@example.org": LEARNER,
    "learner4@example.org": LEARNER,
}


def create_demo_cohort() -> Cohort | None:
    """Make (or complete) the demo cohort with every live course, the demo trainer, mentors and
    learners, and attach the demo mentor links that belong to no cohort yet. Adds and flushes;
    the caller commits. Returns None when the demo accounts do not exist.
    """
    found = {email: User.by_email(email) for email in DEMO_ROLES}
    people = {email: user for email, user in found.items() if user is not None}
    if len(people) < len(found):
        return None
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == DEMO_COHORT))
    if cohort is None:
        cohort = Cohort(name=DEMO_COHORT, municipality="Marneuli", language="ka",
                        starts_on=date(2025, 3, 1), ends_on=date(2025, 11, 30))
        db.session.add(cohort)
        db.session.flush()
        audit.record("cohort_create", target=f"Cohort:{cohort.id}", name=cohort.name, demo=True)
    course_ids = list(db.session.scalars(select(Course.id).where(Course.retired_at.is_(None))))
    present = set(db.session.scalars(select(CohortCourse.course_id).where(CohortCourse.cohort_id == cohort.id)))
    db.session.add_all(CohortCourse(cohort_id=cohort.id, course_id=course_id)
                       for course_id in course_ids if course_id not in present)
    members = set(db.session.scalars(select(Membership.user_id).where(Membership.cohort_id == cohort.id)))
    db.session.add_all(Membership(cohort_id=cohort.id, user_id=user.id, role=DEMO_ROLES[email])
                       for email, user in people.items() if user.id not in members)
    learners = [people[email].id for email, role in DEMO_ROLES.items() if role == LEARNER]
    mentors = [people[email].id for email, role in DEMO_ROLES.items() if role == MENTOR]
    db.session.execute(update(MentorLink).where(
        MentorLink.cohort_id.is_(None), MentorLink.ended_at.is_(None), MentorLink.learner_id.in_(learners),
        MentorLink.mentor_id.in_(mentors)).values(cohort_id=cohort.id))
    db.session.flush()
    # Every learner of the cohort (not only the demo ones) is enrolled in each of its courses.
    enrol_in_courses(list(db.session.scalars(select(Membership.user_id).where(
        Membership.cohort_id == cohort.id, Membership.role == LEARNER))), course_ids)
    _demo_schedule(cohort)
    db.session.expire(cohort)
    return cohort


def _demo_schedule(cohort: Cohort) -> None:
    """One module a week from the Monday three weeks ago, once: the demo then shows dates, work
    due this week and work overdue."""
    from app.cohorts import schedule

    if db.session.scalar(select(CohortItemDate.item_id).where(CohortItemDate.cohort_id == cohort.id).limit(1)):
        return
    today = date.today()
    start = today - timedelta(days=today.weekday() + 21)
    db.session.expire(cohort, ["courses"])
    schedule.fill_weekly(schedule.Operator(), cohort, start)
