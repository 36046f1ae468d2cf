"""Attempts: grading, the final score over attempts, the per-attempt layout, and when
answers may be shown.  Pure functions; the time they use is passed in."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.quizzes.spec import GRADING_METHODS, Quiz, QuizSettings
from app.quizzes.types import QUESTION_TYPES, Answer, Grade, Matching


@dataclass(frozen=True)
class QuestionResult:
    """One question's grade within an attempt."""

    question_id: str
    points: float
    max_points: float
    grade: Grade


@dataclass(frozen=True)
class AttemptResult:
    """A graded attempt: points out of max_points, the percentage, whether it passed,
    and the result of every graded question in authored order."""

    points: float
    max_points: float
    percent: float
    passed: bool
    per_question: list[QuestionResult] = field(default_factory=list)


def grade_attempt(quiz: Quiz, answers: Mapping[str, Answer]) -> AttemptResult:
    """Grade ``answers`` (question id -> parsed answer) against ``quiz``.

    A missing answer counts as empty; descriptions (and any type this code does not
    know) carry no points.  ``percent`` is rounded to 4 places and compared with the
    pass mark after rounding, so 3 × 33.333% reaches a pass mark of 100.  A quiz
    without points has percent 0.  Never raises.
    """
    results = []
    for question in quiz.questions:
        qtype = QUESTION_TYPES.get(question.type)
        if qtype is None or not qtype.is_graded:
            continue
        answer = answers.get(question.id, qtype.empty_answer())
        grade = qtype.grade(question, answer)
        results.append(QuestionResult(question.id, grade.fraction * question.points, question.points, grade))
    points = sum(result.points for result in results)
    max_points = sum(result.max_points for result in results)
    percent = round(100 * points / max_points, 4) if max_points > 0 else 0.0
    return AttemptResult(
        points=round(points, 6),
        max_points=max_points,
        percent=percent,
        passed=percent >= quiz.settings.pass_mark,
        per_question=results,
    )


def final_score(method: str, percents_in_order: Sequence[float]) -> float | None:
    """The quiz score from the attempts' percentages, oldest first, by ``method``
    (highest, last, first or average); None when there is no attempt.

    Raises ValueError for an unknown method.
    """
    if method not in GRADING_METHODS:
        raise ValueError(f"unknown grading method {method!r}")
    if not percents_in_order:
        return None
    if method == "highest":
        return max(percents_in_order)
    if method == "last":
        return percents_in_order[-1]
    if method == "first":
        return percents_in_order[0]
    return round(sum(percents_in_order) / len(percents_in_order), 4)


@dataclass(frozen=True)
class AttemptLayout:
    """The order in which one attempt shows the questions and, per question, the options
    (matching: the prompts) and the matching choices."""

    question_order: list[str]
    option_orders: dict[str, list[str]]
    choice_orders: dict[str, list[str]]


def _shuffled(ids: Sequence[str], seed: int, label: str) -> list[str]:
    """``ids`` in an order fixed by ``seed`` and ``label``.

    Sorting by SHA-256 rather than using ``random`` keeps the order identical across
    Python versions, so an attempt stored as a seed shows the same layout for ever.
    """
    def key(item: str) -> bytes:
        return hashlib.sha256(f"{seed}\x00{label}\x00{item}".encode()).digest()

    return sorted(ids, key=key)


def attempt_layout(quiz: Quiz, seed: int) -> AttemptLayout:
    """The layout of an attempt, deterministic from ``seed``.

    With ``shuffle_questions``, questions are shuffled within the groups that
    descriptions start (a description stays before the questions that follow it).
    With ``shuffle_options``, the options of single and multiple questions and the
    prompts of matching questions are shuffled; true/false keeps its order.  Matching
    choices are always shuffled: in authored order they would line up with the prompts.
    Never raises.
    """
    settings = quiz.settings
    order: list[str] = []
    group: list[str] = []
    for question in quiz.questions:
        if question.type == "description":
            order.extend(_shuffled(group, seed, "questions") if settings.shuffle_questions else group)
            order.append(question.id)
            group = []
        else:
            group.append(question.id)
    order.extend(_shuffled(group, seed, "questions") if settings.shuffle_questions else group)

    option_orders: dict[str, list[str]] = {}
    choice_orders: dict[str, list[str]] = {}
    for question in quiz.questions:
        ids = [option.id for option in question.options]
        label = f"options:{question.id}"
        if question.type in ("single", "multiple"):
            option_orders[question.id] = _shuffled(ids, seed, label) if settings.shuffle_options else ids
        elif question.type == "true-false":
            option_orders[question.id] = ids
        elif question.type == "matching":
            prompts = [prompt.id for prompt in Matching.prompts(question)]
            option_orders[question.id] = _shuffled(prompts, seed, label) if settings.shuffle_options else prompts
            choices = [choice.id for choice in Matching.choices(question)]
            choice_orders[question.id] = _shuffled(choices, seed, f"choices:{question.id}")
        else:
            option_orders[question.id] = []
    return AttemptLayout(order, option_orders, choice_orders)


def public_questions(quiz: Quiz, layout: AttemptLayout) -> list[dict[str, Any]]:
    """The public view of every question, in the attempt's order: all the browser may
    see before submission (see :mod:`app.quizzes.types`).  Never raises."""
    views = []
    for question_id in layout.question_order:
        question = quiz.question(question_id)
        if question is None or question.type not in QUESTION_TYPES:
            continue
        views.append(
            QUESTION_TYPES[question.type].public_view(
                question, layout.option_orders.get(question_id), layout.choice_orders.get(question_id)
            )
        )
    return views


def parse_answers(quiz: Quiz, layout: AttemptLayout, form: Mapping[str, Any]) -> dict[str, Answer]:
    """Answers from submitted values: ``form[question id]`` is a list of strings (a
    matching question's is a dict prompt id -> choice token).  Never raises."""
    answers: dict[str, Answer] = {}
    for question in quiz.questions:
        qtype = QUESTION_TYPES.get(question.type)
        if qtype is not None and qtype.is_graded:
            answers[question.id] = qtype.parse_answer(
                question, form.get(question.id), layout.choice_orders.get(question.id)
            )
    return answers


def feedback_visible(settings: QuizSettings, passed: bool, attempts_used: int) -> bool:
    """Whether the learner may now see the right answers and all feedback (the
    ``show_answers`` setting).  ``after_last_attempt`` never holds with unlimited
    attempts.  Before an attempt is submitted the answer is always no: callers only ask
    about submitted attempts."""
    if settings.show_answers == "always":
        return True
    if settings.show_answers == "after_passing":
        return passed
    if settings.show_answers == "after_passing_or_last_attempt":
        return passed or (settings.attempts is not None and attempts_used >= settings.attempts)
    if settings.show_answers == "after_last_attempt":
        return settings.attempts is not None and attempts_used >= settings.attempts
    return False


def may_start_attempt(settings: QuizSettings, attempts_used: int) -> bool:
    """Whether another attempt is allowed after ``attempts_used`` attempts."""
    return settings.attempts is None or attempts_used < settings.attempts


def attempt_deadline(settings: QuizSettings, started_at: datetime) -> datetime | None:
    """When an attempt started at ``started_at`` (server clock) must end; None if the
    quiz has no time limit."""
    if settings.time_limit is None:
        return None
    return started_at + timedelta(minutes=settings.time_limit)


