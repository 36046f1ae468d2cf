"""Quiz settings from an item's front matter (the keys listed in docs/authoring.md)."""
from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from typing import Any

from app.content.problems import Problem
from app.quizzes.spec import GRADING_METHODS, SHOW_ANSWERS, QuizSettings

#: Front-matter keys common to every item; the content loader checks them, we skip them.
COMMON_KEYS = frozenset({"kind", "title", "minutes", "required", "objectives"})

#: The quiz's own keys.
QUIZ_KEYS = (
    "pass_mark",
    "attempts",
    "grading",
    "shuffle_questions",
    "shuffle_options",
    "time_limit",
    "show_answers",
)


def validate_quiz_settings(
    meta: dict[Any, Any], *, path: str, line_of: Callable[[str], int]
) -> tuple[QuizSettings, list[Problem]]:
    """Read the quiz settings from ``meta`` (the whole front matter).

    Keys common to every item (``kind``, ``title``, ``minutes``, ``required``,
    ``objectives``) are skipped; any other key that is not a quiz setting is reported.
    Missing settings take their documented defaults; a bad value is reported and the
    default is used in its place, so the returned settings are always usable.
    ``line_of(key)`` gives the file line of a key, for the problems.  Never raises.
    """
    settings = QuizSettings()
    problems: list[Problem] = []

    def report(key: str, message: str) -> None:
        problems.append(Problem(path, _safe_line(line_of, key), message))

    for key in meta:
        if key in COMMON_KEYS or key in QUIZ_KEYS:
            continue
        name = str(key)
        hint = difflib.get_close_matches(name, [*QUIZ_KEYS, *COMMON_KEYS], n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        report(name, f"unknown front-matter key {name!r}{suggestion}")

    if "pass_mark" in meta:
        value = meta["pass_mark"]
        if _is_number(value) and 0 <= value <= 100:
            settings.pass_mark = float(value)
        else:
            report("pass_mark", "pass_mark must be a percentage from 0 to 100")

    if "attempts" in meta:
        value = meta["attempts"]
        if value == "unlimited":
            settings.attempts = None
        elif _is_whole(value) and value >= 1:
            settings.attempts = int(value)
        else:
            report("attempts", 'attempts must be a whole number of at least 1, or "unlimited"')

    if "grading" in meta:
        value = meta["grading"]
        if value in GRADING_METHODS:
            settings.grading = value
        else:
            report("grading", f"grading must be one of {', '.join(GRADING_METHODS)}")

    for key in ("shuffle_questions", "shuffle_options"):
        if key in meta:
            value = meta[key]
            if isinstance(value, bool):
                setattr(settings, key, value)
            else:
                report(key, f"{key} must be true or false")

    if "time_limit" in meta:
        value = meta["time_limit"]
        if value is None:
            settings.time_limit = None
        elif _is_whole(value) and value >= 1:
            settings.time_limit = int(value)
        else:
            report("time_limit", "time_limit must be a whole number of minutes, at least 1")

    if "show_answers" in meta:
        value = meta["show_answers"]
        if value in SHOW_ANSWERS:
            settings.show_answers = value
        else:
            report("show_answers", f"show_answers must be one of {', '.join(SHOW_ANSWERS)}")

    return settings, problems


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _is_whole(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


def _safe_line(line_of: Callable[[str], int], key: str) -> int:
    """Ask the caller for a key's line; a broken answer must not lose the problem."""
    try:
        line = int(line_of(key))
    except Exception:  # noqa: BLE001 - the callback is the caller's; keep reporting
        return 1
    return line if line >= 1 else 1
