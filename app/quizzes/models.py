"""Quiz attempts as stored: the answers, the grade and the content hash graded against."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import Model

IN_PROGRESS, FINISHED = "in_progress", "finished"


class QuizAttempt(Model):
    __tablename__ = "quiz_attempt"
    # One row per attempt number: ten simultaneous "start" requests can make only one.
    __table_args__ = (UniqueConstraint("user_id", "item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    lang: Mapped[str] = mapped_column(String(5))
    seed: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default=IN_PROGRESS, index=True)
    # Raw answers as the form sent them (question id -> list of values, or prompt -> token).
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Bumped by every save: an older form posted again (back button) is refused.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    points: Mapped[float | None] = mapped_column(Float)
    max_points: Mapped[float | None] = mapped_column(Float)
    percent: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    # Per question: {"points", "max", "correct"}; the report reads it.
    results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    item = relationship("Item")

    @property
    def is_finished(self) -> bool:
        return self.state == FINISHED
