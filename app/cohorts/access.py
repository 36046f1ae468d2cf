"""Who holds which cohort role on what: the role provider and the cohort policies.

`has_role(user, target, "trainer")` is answered here for a Cohort, a Submission, a learner
(User), an Item, a Course and a QuizAttempt. A trainer's reach is the learners of the cohorts
they train, and only within those cohorts' courses; for a submission, only when it belongs to
one of those cohorts (scope.py), so a learner enrolled in a second cohort brings none of the
first cohort's work along. Admins pass every policy in authz itself.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from app.assignments.models import Submission
from app.auth.models import User
from app.cohorts.models import LEARNER, TRAINER, Cohort, CohortCourse, Membership
from app.cohorts.scope import holds_in_cohort
from app.content.models import Course, Item
from app.core.authz import has_role, is_signed_in, policy, register_role_provider
from app.extensions import db
from app.quizzes.models import QuizAttempt


def _trains_course(user_id: int, course_id: int):
    """SQL: the user trains a cohort that has the course."""
    return exists().where(Membership.user_id == user_id, Membership.role == TRAINER,
                          CohortCourse.cohort_id == Membership.cohort_id,
                          CohortCourse.course_id == course_id)


def _trains_learner_in_course(user_id: int, learner_id: int, course_id: int | None):
    """SQL: the user trains a cohort where learner_id is a learner (and that has the course)."""
    trainer, learner = aliased(Membership), aliased(Membership)
    condition = [trainer.user_id == user_id, trainer.role == TRAINER,
                 learner.cohort_id == trainer.cohort_id, learner.user_id == learner_id,
                 learner.role == LEARNER]
    if course_id is not None:
        condition += [CohortCourse.cohort_id == trainer.cohort_id, CohortCourse.course_id == course_id]
    return exists().where(*condition)


def _trains_cohort_work(user_id: int, submission: Submission):
    """SQL: the user trains the cohort the submission belongs to, whose learner its author is and
    which has its course."""
    learner = aliased(Membership)
    course_id = _course_of_item(submission.item_id)
    return and_(holds_in_cohort(submission.cohort_id, user_id, course_id, TRAINER),
                exists().where(learner.cohort_id == submission.cohort_id, learner.user_id == submission.user_id,
                               learner.role == LEARNER))


def _course_of_item(item_id: int):
    return select(Item.course_id).where(Item.id == item_id).scalar_subquery()


def cohort_roles(user: Any, target: Any) -> set[str]:
    """The cohort roles the user holds on the target (empty for anything else)."""
    if not is_signed_in(user) or target is None:
        return set()
    if isinstance(target, Cohort):
        return set(db.session.scalars(select(Membership.role).where(
            Membership.cohort_id == target.id, Membership.user_id == user.id)))
    if isinstance(target, Submission):
        if target.cohort_id is None:
            return set()
        check = _trains_cohort_work(user.id, target)
    elif isinstance(target, QuizAttempt):
        check = _trains_learner_in_course(user.id, target.user_id, _course_of_item(target.item_id))
    elif isinstance(target, User):
        check = _trains_learner_in_course(user.id, target.id, None)
    elif isinstance(target, Item):
        check = _trains_course(user.id, target.course_id)
    elif isinstance(target, Course):
        check = _trains_course(user.id, target.id)
    else:
        return set()
    return {TRAINER} if db.session.scalar(select(check)) else set()


def register() -> None:
    """Called by create_app: cohort roles count in the authorisation policies."""
    register_role_provider(cohort_roles)


def trains_any_expression(user_id: int):
    """SQL: does the user train at least one cohort? (for the site header)"""
    return exists().where(Membership.user_id == user_id, Membership.role == TRAINER)


def trains_any_cohort(user: Any) -> bool:
    """True when the user is a trainer of at least one cohort."""
    return is_signed_in(user) and db.session.scalar(select(exists().where(
        Membership.user_id == user.id, Membership.role == TRAINER))) is True


@policy("cohort.list")
def _may_list(user, target) -> bool:
    return trains_any_cohort(user)


@policy("cohort.view")
def _may_view(user, cohort: Cohort) -> bool:
    return has_role(user, cohort, TRAINER)


@policy("cohort.manage")
def _may_manage(user, cohort: Cohort) -> bool:
    return has_role(user, cohort, TRAINER)


@policy("cohort.admin")
def _only_admins(user, target) -> bool:
    # Creating cohorts, choosing their courses and appointing trainers stay with site admins.
    return False



def report_cohorts(user: Any, course_id: int, *, every: bool) -> list[Cohort]:
    """The cohorts with this course that the user's reports may cover: every one (for admins,
    `every`), or those the user trains."""
    query = (select(Cohort).join(CohortCourse, CohortCourse.cohort_id == Cohort.id)
             .where(CohortCourse.course_id == course_id).order_by(Cohort.name, Cohort.id))
    if not every:
        query = query.join(Membership, Membership.cohort_id == Cohort.id).where(
            Membership.user_id == user.id, Membership.role == TRAINER)
    return list(db.session.scalars(query))


def learners_of(cohort_ids: list[int]):
    """SQL: the ids of the learners of these cohorts."""
    return select(Membership.user_id).where(Membership.cohort_id.in_(cohort_ids), Membership.role == LEARNER)
