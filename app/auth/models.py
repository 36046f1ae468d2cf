"""Accounts: users and their single-use tokens (password reset, invitation)."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import Model, db

# How reminder e-mails reach a person (User.reminders): each as it happens, in one summary a day,
# or not at all (the in-app notices only). The reminders package reads these.
REMINDERS_IMMEDIATE, REMINDERS_DAILY, REMINDERS_NONE = "immediate", "daily", "none"
REMINDER_PREFERENCES = (REMINDERS_IMMEDIATE, REMINDERS_DAILY, REMINDERS_NONE)


class User(UserMixin, Model):
    __tablename__ = "user"
    # Columns with only a server default (reminders) are read when first used, not fetched by
    # each INSERT (so rows can also be written at an older schema, as the migration tests do).
    __mapper_args__ = {"eager_defaults": False}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(5), default="en")
    municipality: Mapped[str] = mapped_column(String(100), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    # How reminders arrive by e-mail: "immediate", "daily" (one digest a day) or "none" (notices only).
    # Deferred: loaded when read (the pages that show it undefer it), so older schemas still load users.
    reminders: Mapped[str] = mapped_column(String(10), server_default="immediate", deferred=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on sign-out, password change, deactivation and role change: every cookie that
    # carries an older version stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account and self.password_hash is not None

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def end_sessions(self) -> None:
        """Make every existing session and remember-me cookie of this user invalid."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @staticmethod
    def by_email(email: str) -> User | None:
        return db.session.scalar(select(User).where(User.email == normalise_email(email)))

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


class AuthToken(Model):
    """A single-use token sent by e-mail. Only its SHA-256 is stored."""

    __tablename__ = "auth_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # "reset" | "invite"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


