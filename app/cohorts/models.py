"""Cohorts, their courses and their members."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import Model

LEARNER, MENTOR, TRAINER = "learner", "mentor", "trainer"
ROLES = (LEARNER, MENTOR, TRAINER)

# Defaults of the at-risk rules; each cohort may change them (see risk.py).
DEFAULT_INACTIVE_DAYS = 14
DEFAULT_FAILED_ATTEMPTS = 2
DEFAULT_UNANSWERED_DAYS = 7
DEFAULT_BEHIND_POINTS = 25


class Cohort(Model):
    __tablename__ = "cohort"
    # facts_version has only a server default; it is read when first used, not fetched by each
    # INSERT (so rows can also be written at an older schema, as the migration tests do).
    __mapper_args__ = {"eager_defaults": False}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(5), default="en")
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    risk_inactive_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_INACTIVE_DAYS)
    risk_failed_attempts: Mapped[int] = mapped_column(Integer, default=DEFAULT_FAILED_ATTEMPTS)
    risk_unanswered_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_UNANSWERED_DAYS)
    risk_behind_points: Mapped[int] = mapped_column(Integer, default=DEFAULT_BEHIND_POINTS)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped in the transaction that changes a fact the dashboard computes per learner
    # (progress, quiz attempts, submissions, reviews, members, mentor links, names): the key of
    # the cached facts (app/cohorts/facts.py).
    facts_version: Mapped[int] = mapped_column(Integer, server_default="0")

    courses = relationship("Course", secondary="cohort_course", order_by="Course.slug")

    @property
    def course_ids(self) -> list[int]:
        return [course.id for course in self.courses]

    def __repr__(self) -> str:
        return f"<Cohort {self.id} {self.name!r}>"


class CohortCourse(Model):
    __tablename__ = "cohort_course"

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)


class Membership(Model):
    """One person in one cohort, with one role there."""

    __tablename__ = "cohort_membership"
    __table_args__ = (
        UniqueConstraint("cohort_id", "user_id"),
        CheckConstraint("role IN ('learner', 'mentor', 'trainer')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique (cohort_id, user_id) index also serves look-ups by cohort.
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cohort: Mapped[Cohort] = relationship()
    user = relationship("User")
