"""Issued certificates. One active certificate per learner and course (a partial unique index:
a revoked one may be followed by a reissued one)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import Model


class Certificate(Model):
    __tablename__ = "certificate"
    __table_args__ = (
        Index("uq_certificate_active_user_course", "user_id", "course_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # canonical, no hyphens
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="SET NULL"), index=True)
    lang: Mapped[str] = mapped_column(String(5), default="en")
    learner_name: Mapped[str] = mapped_column(String(200))  # as it was at issue
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str] = mapped_column(String(200), default="")
    status_index: Mapped[int] = mapped_column(Integer, unique=True)
    salt: Mapped[str] = mapped_column(String(64))
    credential_jwt: Mapped[str] = mapped_column(Text)
    offline_token: Mapped[str] = mapped_column(Text)

    user = relationship("User")
    course = relationship("Course")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
