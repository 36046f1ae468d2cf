"""Read-only queries for the authoring pages."""
from __future__ import annotations

from sqlalchemy import exists, func, select

from app.auth.models import User
from app.authoring.models import CourseAuthor
from app.content.models import Course
from app.extensions import db


def course_by_slug(slug: str) -> Course | None:
    """The course with this address, or None (an upload may be of a course not yet published)."""
    return db.session.scalar(select(Course).where(Course.slug == slug))


def account_by_email(email: str) -> User | None:
    """The account with this e-mail address, in any case."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def authors_any_expression(user_id: int):
    """For the header facts: is the user an author of some course? (An EXISTS, no query.)"""
    return exists().where(CourseAuthor.user_id == user_id)
