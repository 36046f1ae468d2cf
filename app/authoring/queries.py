"""Read-only queries for the authoring pages."""
from __future__ import annotations

from sqlalchemy import func, select

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


def authors_any_course(user_id: int) -> bool:
    """Whether the user is an author of at least one course."""
    return bool(db.session.scalar(select(func.count()).select_from(CourseAuthor).where(
        CourseAuthor.user_id == user_id)))
