"""course.yml's ``requires`` and ``pacing``: read, expanded into plain slugs, checked (issue 14).

``requires`` maps an item slug to what must be finished first: item slugs, and three words that
the loader expands into slugs (the item itself is never among them):

- ``lessons``: every required lesson of the course (``required: false`` items are left out);
- ``quizzes``: every required quiz of the course;
- ``previous``: every item of the module before the item's own (:func:`app.content.pacing.modules`).

``pacing`` is ``weekly`` (:func:`app.content.pacing.weekly`) or a mapping of item slugs to
``{opens: weeks, due: weeks}`` after a cohort's start: ``opens: n`` opens the item n weeks after the
start day (0: on it), ``due: n`` makes it due by the end of the n-th week (the day before week n
opens). So ``opens`` is a whole number from 0, ``due`` one from 1, and ``due > opens``.

Everything here is pure: :func:`expand` takes the raw values (as course_file.py read them), the
items ``(slug, kind)`` in course order and a ``line(key...)`` function, and returns the expanded
values and the problems, each at the line of the value that causes it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.content import pacing as pacing_rules
from app.content.problems import Problem

WORDS = ("lessons", "quizzes", "previous")
PACING_KEYS = ("opens", "due")

Line = Callable[..., int]


@dataclass
class Sequencing:
    """The expanded values: each item's required slugs (course order) and its pacing."""

    requires: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pacing: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def expand(raw_requires: Any, raw_pacing: Any, items: Sequence[tuple[str, str]], *,
           path: str, line: Line, optional: frozenset[str] = frozenset()) -> Sequencing:
    """Expand and check ``requires`` and ``pacing`` (None: the key is absent) for ``items``
    (``(slug, kind)`` in course order; ``optional``: the slugs of items with ``required: false``)."""
    result = Sequencing()
    order = {slug: index for index, (slug, _kind) in enumerate(items)}

    def report(message: str, *key: str | int) -> None:
        result.problems.append(Problem(path, line(*key), message))

    if raw_requires is not None:
        _expand_requires(raw_requires, items, order, result, report, optional)
        if not result.problems:
            cycle = find_cycle(result.requires, [slug for slug, _kind in items])
            if cycle:
                report(f"requires makes a cycle: {' → '.join(cycle)}", "requires", cycle[0])
    if raw_pacing is not None:
        result.pacing = _pacing(raw_pacing, items, order, report)
    return result


def _expand_requires(raw: Any, items: Sequence[tuple[str, str]], order: dict[str, int],
                     result: Sequencing, report: Callable[..., None], optional: frozenset[str]) -> None:
    if not isinstance(raw, dict):
        report("requires must map item slugs to lists of what must be finished first, "
               "e.g. 'requires: {final-essay: [lessons, quizzes]}'", "requires")
        return
    kinds = dict(items)
    module_of: dict[str, int] = {}
    modules = pacing_rules.modules(items)
    for index, module in enumerate(modules):
        for slug in module:
            module_of[slug] = index
    for key, value in raw.items():
        slug = str(key)
        if slug not in order:
            report(f"requires: unknown item {slug!r} (not in items)", "requires", slug)
            continue
        entries = value if isinstance(value, list) else [value] if isinstance(value, str) else None
        if entries is None or not entries:
            report(f"requires.{slug} must be a list of item slugs and the words {', '.join(WORDS)}",
                   "requires", slug)
            continue
        needed: set[str] = set()
        for index, entry in enumerate(entries):
            at = ("requires", slug, index) if isinstance(value, list) else ("requires", slug)
            if not isinstance(entry, str):
                report(f"requires.{slug}: {entry!r} is not an item slug or one of {', '.join(WORDS)}", *at)
            elif entry == slug:
                report(f"requires.{slug}: an item cannot require itself", *at)
            elif entry in order:
                needed.add(entry)
            elif entry == "lessons":
                needed |= {other for other, kind in items if kind == "lesson" and other != slug
                           and other not in optional}
            elif entry == "quizzes":
                needed |= {other for other, kind in items if kind == "quiz" and other != slug
                           and other not in optional}
            elif entry == "previous":
                place = module_of.get(slug, 0)
                if place == 0:
                    report(f"requires.{slug}: 'previous' names the module before, but {slug!r} "
                           f"is in the first module", *at)
                else:
                    needed |= set(modules[place - 1])
            else:
                report(f"requires.{slug}: unknown item or word {entry!r} "
                       f"(an item slug, or one of {', '.join(WORDS)})", *at)
        if kinds.get(slug) is not None:
            result.requires[slug] = tuple(sorted(needed, key=order.__getitem__))


def find_cycle(requires: dict[str, tuple[str, ...]], slugs: Sequence[str]) -> list[str]:
    """A cycle of requirements as ``[a, b, …, a]`` (the first found in course order), or []."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(slug: str) -> list[str]:
        state[slug] = 1
        path.append(slug)
        for needed in requires.get(slug, ()):
            if state.get(needed) == 1:
                return [*path[path.index(needed):], needed]
            if needed not in state:
                found = visit(needed)
                if found:
                    return found
        path.pop()
        state[slug] = 2
        return []

    for slug in slugs:
        if slug not in state:
            found = visit(slug)
            if found:
                return found
    return []


def _pacing(raw: Any, items: Sequence[tuple[str, str]], order: dict[str, int],
            report: Callable[..., None]) -> dict[str, dict[str, int]]:
    if raw == "weekly":
        return pacing_rules.weekly(items)
    if not isinstance(raw, dict):
        report("pacing must be 'weekly' or map item slugs to {opens: weeks, due: weeks}", "pacing")
        return {}
    found: dict[str, dict[str, int]] = {}
    for key, value in raw.items():
        slug = str(key)
        if slug not in order:
            report(f"pacing: unknown item {slug!r} (not in items)", "pacing", slug)
            continue
        if not isinstance(value, dict) or not value:
            report(f"pacing.{slug} must be a mapping such as {{opens: 1, due: 2}} (weeks after the start)",
                   "pacing", slug)
            continue
        weeks: dict[str, int] = {}
        for name, weeks_value in value.items():
            if name not in PACING_KEYS:
                report(f"pacing.{slug}: unknown key {str(name)!r} (opens, due)", "pacing", slug, str(name))
                continue
            least = 0 if name == "opens" else 1
            if (isinstance(weeks_value, bool) or not isinstance(weeks_value, int)
                    or weeks_value < least or weeks_value > 520):
                report(f"pacing.{slug}.{name} must be a whole number of weeks from {least} to 520",
                       "pacing", slug, str(name))
                continue
            weeks[str(name)] = weeks_value
        if "opens" in weeks and "due" in weeks and weeks["due"] <= weeks["opens"]:
            report(f"pacing.{slug}: due ({weeks['due']}) must be greater than opens ({weeks['opens']}): "
                   f"'due: n' is the end of the n-th week, the day before 'opens: n'",
                   "pacing", slug, "due")
            continue
        if weeks:
            found[slug] = weeks
    return found
