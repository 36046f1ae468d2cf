"""Enrolment and progress rules for learners."""
from __future__ import annotations

from sqlalchemy import select

from app.content.models import LESSON, Course, Enrolment, Item, Progress
from app.core.authz import AccessDenied, policy, require
from app.extensions import db


class NotALesson(Exception):
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
    enrolment = Enrolment(user_id=user.id, course_id=course.id)
    db.session.add(enrolment)
    db.session.flush()
    return enrolment


def record_completion(user, item: Item) -> Progress:
    """Record that the user finished the item (idempotent)."""
    existing = db.session.scalar(
        select(Progress).where(Progress.user_id == user.id, Progress.item_id == item.id))
    if existing is not None:
        return existing
    progress = Progress(user_id=user.id, item_id=item.id)
    db.session.add(progress)
    db.session.flush()
    return progress


def mark_lesson_done(user, item: Item) -> Progress:
    """Mark a lesson done, enrolling the learner in an open course on the way.

    Raises NotALesson for quizzes and assignments, AccessDenied when the course is closed to them.
    """
    if item.kind != LESSON:
        raise NotALesson(item.slug)
    if item.retired_at is not None:
        raise AccessDenied("course.view", item, hide=True)
    require(user, "course.view", item.course, hide=True)
    enrol(user, item.course)
    return record_completion(user, item)
