"""Idempotency keys: one row per write replayed from a phone, so that a retry never doubles it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import Model, db


class IdempotencyKey(Model):
    """A write the server has done for a key the browser chose. It is stored in the same
    transaction as the write itself, so either both exist or neither does."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the request's kind and payload: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer, default=200)
    response: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    @classmethod
    def claim(cls, user_id: int, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
        """The key's row and whether it is new. A new row is added (flushed) and must be committed
        with the write; an existing one carries what the first request stored. The caller
        compares fingerprints.

        Two requests with one key at once: the second's insert waits on the unique index until
        the first commits, then fails, and the stored row is read instead (on SQLite, BEGIN
        IMMEDIATE already makes the second wait). Offline replay (app/offline/services.py) and
        trainers' messages (app/cohorts/announcements.py) use it.
        """
        query = select(cls).where(cls.user_id == user_id, cls.key == key)
        row = db.session.scalar(query)
        if row is not None:
            return row, False
        row = cls(user_id=user_id, key=key, fingerprint=fingerprint, status=0, response={})
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # the other request's row, which made our insert fail
            return db.session.execute(query.execution_options(populate_existing=True)).scalar_one(), False
        return row, True
