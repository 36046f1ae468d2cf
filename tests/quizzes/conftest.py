"""Fixtures for the quiz tests: a stand-in render function and quick parsers.

The real ``render_markdown`` lives in app/content/render.py; these tests take a render
callable as the quiz code does, so they use a small escaping one.
"""
from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from markupsafe import Markup

from app.content.problems import Problem
from app.quizzes.authoring import parse_quiz_markdown, render_quiz
from app.quizzes.spec import Quiz

PATH = "courses/demo/02-check.en.md"
BASE_META = {"kind": "quiz", "title": "Check", "minutes": 5}


def escaping_render(text: str, *, link_resolver: object = None, inline: bool = False) -> Markup:
    """Escape the text; wrap it in <p> unless inline.  Enough to see what was rendered."""
    body = html.escape(text)
    return Markup(body if inline else f"<p>{body}</p>")


@pytest.fixture
def render() -> Callable[..., Markup]:
    return escaping_render


@pytest.fixture
def parse_md() -> Callable[..., tuple[Quiz, list[Problem]]]:
    """Parse a quiz body that starts on file line 8 (after a 7-line front matter)."""

    def parse(body: str, meta: dict | None = None, first_line: int = 8) -> tuple[Quiz, list[Problem]]:
        return parse_quiz_markdown(body, {**BASE_META, **(meta or {})}, path=PATH, first_line=first_line)

    return parse


@pytest.fixture
def parse_ok(parse_md) -> Callable[..., Quiz]:
    """Parse a quiz body that must have no problems; render it."""

    def parse(body: str, meta: dict | None = None) -> Quiz:
        quiz, problems = parse_md(body, meta)
        assert problems == []
        return render_quiz(quiz, escaping_render)

    return parse
