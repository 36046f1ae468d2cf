"""The quiz syntax the content loader reads, handed to it rather than imported by it.

Content sits below quizzes in the layers (docs/architecture.md): it knows that a quiz item has a
body in some syntax, not how to parse one. ``create_app`` hands it the quizzes package's readers
with :func:`register_quiz_format` (``app.quizzes.authoring.QUIZ_FORMAT``); so do the tests and
scripts that load courses without an app.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class QuizFormat:
    """What the loader calls: read Markdown quiz bodies and GIFT files, render a parsed quiz's
    Markdown fields, and compare a translation's structure with its base."""

    parse_markdown: Callable[..., tuple[Any, list[Any]]]
    parse_gift: Callable[..., tuple[dict[Any, Any], Any, list[Any], list[Any]]]
    render: Callable[[Any, Callable[..., Any]], Any]
    structure_differences: Callable[[Any, Any], list[tuple[int, str]]]


_registered: list[QuizFormat] = []


def register_quiz_format(quiz_format: QuizFormat) -> None:
    """Use ``quiz_format`` for every course loaded from now on (one per process)."""
    _registered[:] = [quiz_format]


def quiz_format() -> QuizFormat:
    """The registered quiz format. Raises RuntimeError when nothing registered one."""
    if not _registered:
        raise RuntimeError("no quiz format registered: create_app registers app.quizzes.authoring.QUIZ_FORMAT "
                           "(call app.content.quiz_format.register_quiz_format first when loading courses "
                           "without an app)")
    return _registered[0]
