"""Which cohort a learner's work belongs to, and which mentor links reach it.

A submission belongs to one cohort: the one through which the learner takes the course when
they hand the work in (the first cohort they joined as a learner among those that have the
course), or none. It stays there while the learner is a learner of that cohort and the cohort
has the course, so enrolling the learner in a second cohort later moves nothing.

A mentor link reaches a submission when both carry the same cohort, the cohort has the
submission's course, and the mentor and the learner still hold those roles in it; a link
without a cohort reaches only work done outside any cohort. Trainers are answered in access.py
with the same rule.
"""
from __future__ import annotations

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from app.assignments.models import MentorLink, Submission
from app.cohorts.models import LEARNER, MENTOR, CohortCourse, Membership
from app.content.models import Item
from app.extensions import db


def cohort_of_work(learner_id: int, course_id: int, current: int | None = None) -> int | None:
    """The cohort that the learner's work in the course belongs to (one query).

    `current` (the submission's cohort so far) is kept while it is still valid; otherwise the
    first cohort the learner joined as a learner among those that have the course; None when
    no cohort of theirs has it.
    """
    cohorts = list(db.session.scalars(
        select(Membership.cohort_id)
        .join(CohortCourse, and_(CohortCourse.cohort_id == Membership.cohort_id, CohortCourse.course_id == course_id))
        .where(Membership.user_id == learner_id, Membership.role == LEARNER)
        .order_by(Membership.created_at, Membership.id)))
    if current is not None and current in cohorts:
        return current
    return cohorts[0] if cohorts else None


def holds_in_cohort(cohort_id, user_id, course_id, role: str):
    """SQL: in cohort `cohort_id`, which has course `course_id`, the user holds `role`."""
    return and_(
        exists().where(CohortCourse.cohort_id == cohort_id, CohortCourse.course_id == course_id),
        exists().where(Membership.cohort_id == cohort_id, Membership.user_id == user_id, Membership.role == role))


def link_reaches_submission(link=MentorLink, submission=Submission, course_id=Item.course_id):
    """SQL: the active mentor link `link` reaches the submission `submission` of course `course_id`
    (the three are columns of the enclosing query)."""
    learner = aliased(Membership)
    in_cohort = and_(
        link.cohort_id == submission.cohort_id,
        holds_in_cohort(link.cohort_id, link.mentor_id, course_id, MENTOR),
        exists().where(learner.cohort_id == link.cohort_id, learner.user_id == link.learner_id,
                       learner.role == LEARNER))
    outside = and_(link.cohort_id.is_(None), submission.cohort_id.is_(None))
    return and_(link.learner_id == submission.user_id, link.ended_at.is_(None), or_(outside, in_cohort))


def mentor_ids_of(submission: Submission) -> set[int]:
    """The mentors whose current link reaches this submission (one query)."""
    return set(db.session.scalars(
        select(MentorLink.mentor_id)
        .select_from(Submission)
        .join(Item, Item.id == Submission.item_id)
        .join(MentorLink, link_reaches_submission())
        .where(Submission.id == submission.id)))
