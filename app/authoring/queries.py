"""Read-only queries for the authoring pages."""
from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import User
from app.content.models import Course
from app.extensions import db


def course_by_slug(slug: str) -> Course | None:
    """The course with this address, or None (an upload may be of a course not yet published)."""
    return db.session.scalar(select(Course).where(Course.slug == slug))


def account_by_email(email: str) -> User | None:
    """The account with this e-mail address, in any case."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
