"""Courses as loaded from courses/ by the sync step, and learners' enrolments and progress.

Slugs come from the files and never change, so progress survives any edit of titles or text.
Rendered HTML is stored per item and language: a request never parses Markdown.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import Model

LESSON, QUIZ, ASSIGNMENT = "lesson", "quiz", "assignment"


class Course(Model):
    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    source_hash: Mapped[str] = mapped_column(String(64), default="")
    titles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    summaries: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # sanitised HTML
    audience: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    estimated_hours: Mapped[float] = mapped_column(Float, default=0)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    completion: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The published upload (app/authoring) whose files this course shows; None: courses/.
    # No foreign key: course_upload refers to courses by slug, and a cycle would buy nothing.
    upload_id: Mapped[int | None] = mapped_column(Integer)

    items: Mapped[list[Item]] = relationship(back_populates="course", order_by="Item.position")

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles.get("en") or self.slug

    def summary(self, lang: str) -> str:
        return self.summaries.get(lang) or self.summaries.get("en") or ""


class Item(Model):
    __tablename__ = "item"
    # Columns with only a server default are read when first used, not fetched by each INSERT
    # (so rows can also be written at an older schema, as the migration tests do).
    __mapper_args__ = {"eager_defaults": False}
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Sequencing and pacing from course.yml: the slugs of the items that must be finished first,
    # and the default dates in weeks after a cohort's start (a cohort's schedule may override).
    # Server defaults only: rows written without them (older schemas, in the migration tests) work.
    requires: Mapped[list[str]] = mapped_column(JSON, server_default="[]")
    # {"opens": weeks, "due": weeks} (either may be missing): app/cohorts/schedule.py.
    pacing: Mapped[dict[str, int]] = mapped_column(JSON, server_default="{}")
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship(back_populates="items")
    translations: Mapped[list[ItemTranslation]] = relationship(back_populates="item")


class ItemTranslation(Model):
    __tablename__ = "item_translation"
    __table_args__ = (UniqueConstraint("item_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(300))
    html: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Kind-specific data: quiz settings and questions, or assignment options and rubric.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[Item] = relationship(back_populates="translations")


class CourseMedia(Model):
    """A picture or download in a course folder, served under a URL that carries its hash."""

    __tablename__ = "course_media"
    __table_args__ = (UniqueConstraint("course_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
