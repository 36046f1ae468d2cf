"""Reading and checking ``course.yml`` (docs/authoring.md, "course.yml")."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.content import checks
from app.content.problems import Problem
from app.content.yamldoc import parse_yaml

COURSE_KEYS = ("title", "summary", "audience", "estimated_hours", "open", "example", "items", "completion",
               "requires", "pacing")
REQUIRED_COURSE_KEYS = ("title", "summary", "estimated_hours", "items")

#: The documented completion rule; each value is the only one the format defines so far.
COMPLETION_DEFAULTS: dict[str, Any] = {
    "lessons": "required",
    "quizzes": "passed",
    "assignments": "approved",
    "min_average_quiz_score": 0,
}


@dataclass
class CourseFile:
    """What course.yml says, with the line of each listed item slug."""

    path: str
    titles: dict[str, str] = field(default_factory=dict)
    summaries_md: dict[str, str] = field(default_factory=dict)
    audience: dict[str, str] = field(default_factory=dict)
    estimated_hours: float = 0.0
    open: bool = True
    #: A worked example for authors (format-tour): loaded by a whole-tree sync only where
    #: EXAMPLE_COURSES is on (development and tests), never into a production catalogue.
    example: bool = False
    items: list[tuple[str, int]] = field(default_factory=list)
    completion: dict[str, Any] = field(default_factory=lambda: dict(COMPLETION_DEFAULTS))
    #: ``requires`` and ``pacing`` as written (None: absent); the loader expands and checks them
    #: once it knows each item's kind (app/content/sequencing.py).
    requires: Any = None
    pacing: Any = None
    problems: list[Problem] = field(default_factory=list)
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)


def read_course_file(text: str, *, path: str) -> CourseFile:
    """Parse and check the text of a course.yml whose posix path is ``path``.

    Every problem (syntax, unknown or missing keys, wrong types, bad language codes, bad or
    duplicate item slugs, completion values) is in ``problems``. Never raises.
    """
    doc = parse_yaml(text, path=path, first_line=1, what="course.yml")
    course = CourseFile(path=path)
    data = doc.value
    if doc.problems:
        course.problems = doc.problems
        return course
    checks.check_keys(doc, data, at=(), allowed=COURSE_KEYS, required=REQUIRED_COURSE_KEYS, what="key")
    course.titles = checks.language_map(doc, data, "title", needs_base=True)
    course.summaries_md = checks.language_map(doc, data, "summary", needs_base=True)
    for lang in sorted(set(course.titles) ^ set(course.summaries_md)):
        if "title" in data and "summary" in data:
            where = "summary" if lang in course.titles else "title"
            doc.report(f"{where} has no {lang!r} text, but {'title' if where == 'summary' else 'summary'} has", where)
    course.audience = checks.language_map(doc, data, "audience", needs_base=False)
    if "estimated_hours" in data:
        hours = data["estimated_hours"]
        if checks.is_number(hours) and hours > 0:
            course.estimated_hours = float(hours)
        else:
            doc.report("estimated_hours must be a number greater than 0", "estimated_hours")
    course.open = checks.boolean(doc, data, "open", True)
    course.example = checks.boolean(doc, data, "example", False)
    course.items = _items(doc, data)
    course.completion = _completion(doc, data)
    course.requires = data.get("requires")
    course.pacing = data.get("pacing")
    course.problems = doc.problems
    course.lines = doc.lines
    return course


def _items(doc: Any, data: dict[str, Any]) -> list[tuple[str, int]]:
    if "items" not in data:
        return []
    value = data["items"]
    if not isinstance(value, list) or not value:
        doc.report("items must be a list of item slugs, at least one", "items")
        return []
    result: list[tuple[str, int]] = []
    seen: set[str] = set()
    for index, slug in enumerate(value):
        line = doc.line("items", index)
        if not isinstance(slug, str) or not checks.SLUG_RE.match(slug):
            doc.report(f"item slug {slug!r} must be {checks.SLUG_RULE}", "items", index)
        elif slug in seen:
            doc.report(f"item {slug!r} is listed twice", "items", index)
        else:
            seen.add(slug)
            result.append((slug, line))
    return result


def _completion(doc: Any, data: dict[str, Any]) -> dict[str, Any]:
    completion = dict(COMPLETION_DEFAULTS)
    if "completion" not in data:
        return completion
    value = data["completion"]
    if not isinstance(value, dict):
        doc.report("completion must be a mapping (lessons, quizzes, assignments, min_average_quiz_score)", "completion")
        return completion
    checks.check_keys(doc, value, at=("completion",), allowed=tuple(COMPLETION_DEFAULTS), required=(),
                      what="key in completion")
    for key in ("lessons", "quizzes", "assignments"):
        if key in value and value[key] != COMPLETION_DEFAULTS[key]:
            doc.report(f"completion.{key} must be {COMPLETION_DEFAULTS[key]!r}", "completion", key)
    if "min_average_quiz_score" in value:
        score = value["min_average_quiz_score"]
        if checks.is_number(score) and 0 <= score <= 100:
            completion["min_average_quiz_score"] = score
        else:
            doc.report("completion.min_average_quiz_score must be a percentage from 0 to 100",
                       "completion", "min_average_quiz_score")
    return completion
