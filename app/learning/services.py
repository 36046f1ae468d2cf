"""Enrolment and progress rules for learners."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.content.models import LESSON, Course, Item
from app.core.authz import AccessDenied, policy, require
from app.core.errors import InvalidInput
from app.extensions import db
from app.learning import access
from app.learning.models import Enrolment, Progress

# Called with (user, item) after each new completion, in the same transaction; the
# certificates feature registers the one that issues a certificate when the course is done.
COMPLETION_HOOKS: list = []


def register_completion_hook(hook) -> None:
    """Call ``hook(user, item)`` after each new completion (create_app registers them)."""
    if hook not in COMPLETION_HOOKS:
        COMPLETION_HOOKS.append(hook)


class NotALesson(InvalidInput):
    """Only lessons are marked done by hand; quizzes are passed and assignments approved."""


def is_enrolled(user, course: Course) -> bool:
    return db.session.scalar(
        select(Enrolment.id).where(Enrolment.user_id == user.id, Enrolment.course_id == course.id)
    ) is not None


@policy("course.view")
def _may_view(user, course: Course) -> bool:
    return course.retired_at is None and (course.is_open or is_enrolled(user, course))


@policy("course.enrol")
def _may_enrol(user, course: Course) -> bool:
    return course.retired_at is None and course.is_open


def enrol(user, course: Course) -> Enrolment:
    """Enrol the user in an open course (once; enrolling again returns the existing row).

    Raises AccessDenied for a closed or retired course.
    """
    existing = db.session.scalar(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.course_id == course.id))
    if existing is not None:
        return existing
    require(user, "course.enrol", course, hide=True)
    return _insert_once(Enrolment(user_id=user.id, course_id=course.id),
                        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.course_id == course.id))


def record_completion(user, item: Item) -> Progress:
    """Record that the user finished the item (idempotent)."""
    existing = db.session.scalar(
        select(Progress).where(Progress.user_id == user.id, Progress.item_id == item.id))
    if existing is not None:
        return existing
    progress = _insert_once(Progress(user_id=user.id, item_id=item.id),
                            select(Progress).where(Progress.user_id == user.id, Progress.item_id == item.id))
    for hook in COMPLETION_HOOKS:
        hook(user, item)
    return progress


def _insert_once(row, existing_query):
    """Insert a row guarded by a unique constraint; if a concurrent request inserted it first,
    return theirs instead of failing the whole transaction (a savepoint keeps the rest)."""
    savepoint = db.session.begin_nested()
    try:
        db.session.add(row)
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        return db.session.scalar(existing_query)
    return row


def mark_lesson_done(user, item: Item) -> Progress:
    """Mark a lesson done, enrolling the learner in an open course on the way.

    Raises NotALesson for quizzes and assignments, AccessDenied when the course is closed to them.
    """
    if item.kind != LESSON:
        raise NotALesson(item.slug)
    if item.retired_at is not None:
        raise AccessDenied("course.view", item, hide=True)
    require(user, "course.view", item.course, hide=True)
    access.require_open(user, item)
    enrol(user, item.course)
    return record_completion(user, item)
