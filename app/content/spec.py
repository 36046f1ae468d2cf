"""The validated, rendered model of a course as read from its files (no database, no Flask).

The loader builds these frozen dataclasses; the sync step copies them into the database.
Paths are posix strings relative to the folder that was loaded (``rba/01-intro.en.md``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.content.problems import Problem

LANGUAGES: tuple[str, ...] = ("en", "ka", "az", "hy", "ru")
BASE_LANGUAGE = "en"
ITEM_KINDS: tuple[str, ...] = ("lesson", "quiz", "assignment")


@dataclass(frozen=True)
class TranslationSpec:
    """One item in one language: one file.

    ``html`` is the rendered, sanitised body (for a quiz, its introduction); ``meta`` holds
    the kind-specific front matter (quiz settings; assignment options and rubric);
    ``quiz`` is the parsed, rendered quiz (an ``app.quizzes.spec.Quiz``) or None;
    ``rubric`` is the validated assignment rubric or None. ``source_hash`` covers the file
    and the rendering policy (:func:`app.content.render.rendered_hash`).
    """

    lang: str
    path: str
    title: str
    minutes: int
    objectives: list[str]
    body_md: str
    html: str
    source_hash: str
    meta: dict[str, Any] = field(default_factory=dict)
    quiz: Any = None
    rubric: Any = None


@dataclass(frozen=True)
class ItemSpec:
    """An item of a course: its slug, kind and place, and its translations by language."""

    slug: str
    kind: str
    position: int
    required: bool
    translations: dict[str, TranslationSpec]
    base_path: str
    #: What must be finished first (item slugs, course order) and the default dates in weeks after
    #: a cohort's start ({"opens": n, "due": n}), from course.yml (app/content/sequencing.py).
    requires: tuple[str, ...] = ()
    pacing: dict[str, int] = field(default_factory=dict)

    @property
    def base(self) -> TranslationSpec:
        """The English translation, which every item has."""
        return self.translations[BASE_LANGUAGE]


@dataclass(frozen=True)
class CourseSpec:
    """A whole course as loaded from its folder.

    ``languages`` lists English and every language in which *all* items are translated;
    ``media`` maps each media file (``media/x.png``, relative to the course folder) to its
    sha256; ``source_hash`` is a sha256 over every file of the course and the rendering
    policy (:func:`app.content.render.rendering_fingerprint`), so a new allow-list re-renders it.
    """

    slug: str
    path: Path
    titles: dict[str, str]
    summaries_md: dict[str, str]
    summaries_html: dict[str, str]
    audience: dict[str, str]
    estimated_hours: float
    open: bool
    languages: list[str]
    items: list[ItemSpec]
    completion: dict[str, Any]
    media: dict[str, str]
    source_hash: str
    #: What the author should know but that does not stop the course (path:line: message).
    warnings: tuple[Problem, ...] = ()
