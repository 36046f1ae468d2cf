"""Cohorts, their courses and their members."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
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
# The schedule's dates are in the cohort's time zone; a mentor should answer within this many days.
DEFAULT_TIME_ZONE = "Asia/Tbilisi"
DEFAULT_REVIEW_TARGET_DAYS = 3


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
    # The schedule (CohortItemDate): dates are days in this time zone; an item opens at the start
    # of its opening day and is due at the end of its due day.
    time_zone: Mapped[str] = mapped_column(String(64), server_default=DEFAULT_TIME_ZONE)
    # The mentors' turnaround target: a submission should be reviewed within this many days.
    review_target_days: Mapped[int] = mapped_column(Integer, server_default=str(DEFAULT_REVIEW_TARGET_DAYS))
    # Bumped by every change of the schedule: a form saved from an older version is refused.
    schedule_version: Mapped[int] = mapped_column(Integer, server_default="0")

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


class CohortItemDate(Model):
    """When one course item opens and when it is due, in one cohort (days in the cohort's time
    zone). No row, or an empty date: no date for that item (open from the start, never due)."""

    __tablename__ = "cohort_item_date"

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), primary_key=True, index=True)
    opens_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ItemRelease(Model):
    """A trainer opened one item early for one learner of a cohort: its opening date and its
    prerequisites no longer hold them back."""

    __tablename__ = "item_release"
    __table_args__ = (UniqueConstraint("cohort_id", "item_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarFeed(Model):
    """A secret calendar address: a learner's own (cohort_id None: every course of theirs) or a
    trainer's for one cohort. Resetting it replaces the token; the old address stops working."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Announcement(Model):
    """What a trainer wrote to a cohort, a group of its learners or one learner; the recipients
    are recorded (AnnouncementRecipient), each given a notice and an e-mail through the outbox."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")  # through the one sanitiser
    # Who it was for, as chosen ("all", "at_risk", "not_done:<item slug>", "learner"): a record.
    audience: Mapped[str] = mapped_column(String(200), default="all")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User")


class AnnouncementRecipient(Model):
    __tablename__ = "announcement_recipient"

    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id", ondelete="CASCADE"),
                                                 primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
