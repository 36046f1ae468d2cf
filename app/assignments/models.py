"""Mentor-reviewed assignments: submissions, revisions, files, reviews, mentor links, notices.

Nothing a learner or a mentor writes is ever overwritten: each submit makes a new revision,
each sent review is final (a correction is a new review), and every state change is audited.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import Model

DRAFT, SUBMITTED, CHANGES_REQUESTED, APPROVED = "draft", "submitted", "changes_requested", "approved"
APPROVE, REQUEST_CHANGES = "approve", "request_changes"


class IllegalTransition(Exception):
    """The submission is not in a state that allows this."""

    def __init__(self, state: str, action: str):
        super().__init__(f"cannot {action} a submission that is {state}")
        self.state = state
        self.action = action


class MentorLink(Model):
    """Who mentors whom, in which cohort. Ending a link keeps it as history (ended_at).

    A link made on a cohort's pages carries that cohort and reaches only the learner's work that
    belongs to it (app/cohorts/scope.py). A link without a cohort (the admins' Mentoring page)
    reaches only work done outside any cohort.
    """

    __tablename__ = "mentor_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    mentor = relationship("User", foreign_keys=[mentor_id])
    learner = relationship("User", foreign_keys=[learner_id])


class Submission(Model):
    """One learner's work on one assignment item, through its revisions."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("user_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    # The cohort the work belongs to (None: done outside any cohort). Its trainers and the mentors
    # linked to the learner in it are the only ones who reach the work. No ON DELETE: a cohort
    # with work cannot be deleted by accident, and work never drifts to "no cohort".
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=DRAFT, index=True)
    draft_body: Mapped[str] = mapped_column(Text, default="")
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Optimistic locking: every UPDATE checks and bumps it, so concurrent writers conflict.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    learner = relationship("User", foreign_keys=[user_id])
    claimed_by = relationship("User", foreign_keys=[claimed_by_id])
    item = relationship("Item")
    revisions: Mapped[list[Revision]] = relationship(back_populates="submission", order_by="Revision.number")

    # -- guarded state transitions ------------------------------------------------------
    def _require(self, action: str, *states: str) -> None:
        if self.state not in states:
            raise IllegalTransition(self.state, action)

    def edit_draft(self, body: str) -> None:
        self._require("edit", DRAFT, CHANGES_REQUESTED)
        self.draft_body = body
        self.updated_at = utcnow()

    def submit(self) -> None:
        self._require("submit", DRAFT, CHANGES_REQUESTED)
        self.state = SUBMITTED
        self.submitted_at = self.updated_at = utcnow()
        self.claimed_by_id = None
        self.claimed_at = None

    def approve(self) -> None:
        self._require("approve", SUBMITTED)
        self.state = APPROVED
        self.updated_at = utcnow()

    def request_changes(self) -> None:
        self._require("request changes on", SUBMITTED)
        self.state = CHANGES_REQUESTED
        self.updated_at = utcnow()

    def claim(self, mentor_id: int) -> None:
        self._require("claim", SUBMITTED)
        self.claimed_by_id = mentor_id
        self.claimed_at = utcnow()

    @property
    def is_editable(self) -> bool:
        return self.state in (DRAFT, CHANGES_REQUESTED)

    @property
    def latest_revision(self) -> Revision | None:
        return self.revisions[-1] if self.revisions else None


class Revision(Model):
    """A submitted version of the answer: frozen once made."""

    __tablename__ = "revision"
    __table_args__ = (UniqueConstraint("submission_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text, default="")
    # The submit form's one-time token: replaying the same form never makes a second revision.
    form_token: Mapped[str] = mapped_column(String(64), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="revisions")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="revision")
    reviews: Mapped[list[Review]] = relationship(back_populates="revision", order_by="Review.id")


class Attachment(Model):
    """A file attached to a submission: stored under a random name outside static/."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    # None while it belongs to the draft; set when the draft is submitted.
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("revision.id", ondelete="CASCADE"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    revision: Mapped[Revision | None] = relationship(back_populates="attachments")


class Review(Model):
    """A mentor's rubric scores and feedback on one revision. Sent reviews are never edited."""

    __tablename__ = "review"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revision.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # criterion id -> points
    total: Mapped[float] = mapped_column(Float, default=0)
    feedback: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    decision: Mapped[str] = mapped_column(String(20))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("review.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    revision: Mapped[Revision] = relationship(back_populates="reviews")
    mentor = relationship("User")


class CommentBankEntry(Model):
    """A mentor's reusable feedback snippet for one assignment.

    Its author always sees it. Shared, it is also seen by every mentor who reviews work on this
    assignment in the cohort it was saved in (cohort_id None: work done outside any cohort).
    """

    __tablename__ = "comment_bank_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author = relationship("User")


class MentorPreference(Model):
    """How a mentor wants to hear about new submissions: each one, or a daily digest."""

    __tablename__ = "mentor_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SubmissionMessage(Model):
    """One message of the conversation under a submission's feedback: the learner replies or
    asks, the mentor answers. Kept with the submission's history; never edited."""

    __tablename__ = "submission_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)  # through the one sanitiser
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User")
