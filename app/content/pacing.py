"""Modules and weekly pacing: pure functions shared by course.yml's ``pacing: weekly`` and the
trainer's "one module a week from the start date" (app/cohorts/schedule.py).

A **module** is a lesson with the quizzes that follow it; an assignment is a module of its own,
and so is a quiz that no lesson comes before. One module a week: module ``k`` (from 0) opens in
week ``k`` and is due by the end of that week (``{"opens": k, "due": k + 1}``, weeks after the
cohort's start; app/cohorts/schedule.py turns weeks into days).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence


def modules(items: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Group ``(slug, kind)`` pairs, in course order, into modules (lists of slugs)."""
    grouped: list[list[str]] = []
    for slug, kind in items:
        if kind == "quiz" and grouped and not _ends_module(grouped[-1]):
            grouped[-1].append(slug)
        else:
            grouped.append([slug])
        if kind == "assignment":
            grouped[-1].append("\0end")  # nothing joins an assignment's module
    return [[slug for slug in module if slug != "\0end"] for module in grouped]


def _ends_module(module: Sequence[str]) -> bool:
    return bool(module) and module[-1] == "\0end"


def weekly(items: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """One module a week: each slug's ``{"opens": week, "due": week + 1}``."""
    return {slug: {"opens": week, "due": week + 1}
            for week, module in enumerate(modules(items)) for slug in module}
