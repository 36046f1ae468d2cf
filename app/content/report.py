"""What ``flask courses check`` prints: every problem, or one summary line per course."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.content.loader import LoadResult

_PLURALS = {"lesson": "lessons", "quiz": "quizzes", "assignment": "assignments"}


def format_report(result: LoadResult) -> tuple[int, list[str]]:
    """Return the exit code and the lines to print for a load result.

    With problems: exit code 1 and one ``path:line: message`` line per problem, sorted by path
    then line. Without: exit code 0 and one line per course, e.g.
    ``rba-five-principles: 17 items (8 lessons, 8 quizzes, 1 assignment), languages en ka az hy``.
    Never raises.
    """
    if result.problems:
        ordered = sorted(result.problems, key=lambda problem: (problem.path, problem.line, problem.message))
        return 1, [str(problem) for problem in ordered]
    lines = []
    for course in sorted(result.courses, key=lambda course: course.slug):
        counts = []
        for kind, plural in _PLURALS.items():
            number = sum(1 for item in course.items if item.kind == kind)
            if number:
                counts.append(f"{number} {kind if number == 1 else plural}")
        total = len(course.items)
        noun = "item" if total == 1 else "items"
        detail = f" ({', '.join(counts)})" if counts else ""
        lines.append(f"{course.slug}: {total} {noun}{detail}, languages {' '.join(course.languages)}")
    lines.extend(f"{warning.path}:{warning.line}: warning: {warning.message}" for warning in result.warnings)
    return 0, lines
