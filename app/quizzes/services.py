"""Attempt rules: start (within the attempts allowed), save, submit (server clock), results.

Functions add and flush; the route commits once.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.content.models import QUIZ, Item, ItemTranslation
from app.core import audit
from app.core.authz import AccessDenied, has_role, policy, require
from app.core.errors import Conflict, InvalidInput
from app.database import utcnow
from app.extensions import db
from app.learning.access import require_open
from app.learning.services import enrol, record_completion
from app.quizzes import grading
from app.quizzes.models import FINISHED, IN_PROGRESS, QuizAttempt
from app.quizzes.spec import Quiz
from app.quizzes.types import MAX_TYPED_ANSWER

# Answers that arrive this long after the time limit still count (the network is slow).
GRACE = timedelta(seconds=15)


class NoAttemptsLeft(Conflict):
    pass


class StaleForm(Conflict):
    """The form is older than the answers already saved (the back button, another tab)."""


class TimeUp(Conflict):
    """The time limit has passed: these answers were not taken (the server's clock decides)."""


class AnswerTooLong(InvalidInput):
    """A typed answer is over MAX_TYPED_ANSWER characters; str(error) says which, translated."""


def check_answer_lengths(answers: dict[str, Any]) -> None:
    """Raise AnswerTooLong for a typed answer over MAX_TYPED_ANSWER characters.

    Grading would take such an answer for no answer; refusing it says so while the learner can
    still shorten it, and keeps the stored answers small.
    """
    for values in answers.values():
        for value in values if isinstance(values, list) else []:
            if isinstance(value, str) and len(value) > MAX_TYPED_ANSWER:
                raise AnswerTooLong(str(_l(
                    "An answer is longer than %(max)s characters (it starts “%(start)s…”). "
                    "Shorten it and send it again.", max=MAX_TYPED_ANSWER, start=value[:40].strip())))


def quiz_of(translation: ItemTranslation) -> Quiz:
    return Quiz.from_dict(translation.data["quiz"])


@policy("attempt.view")
def _may_view_attempt(user, attempt: QuizAttempt) -> bool:
    return attempt.user_id == user.id


@policy("quiz.report")
def _may_see_report(user, item: Item) -> bool:
    """Admins (always), and trainers of a cohort that has the item's course (role provider)."""
    return has_role(user, item, "trainer")


def attempts_of(user, item: Item) -> list[QuizAttempt]:
    return list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.user_id == user.id, QuizAttempt.item_id == item.id).order_by(QuizAttempt.number)))


def start_attempt(user, item: Item, translation: ItemTranslation) -> QuizAttempt:
    """Resume the open attempt, or start the next one if the settings allow another.

    Raises NoAttemptsLeft, AccessDenied when the course is closed to the user, ItemLocked when
    the quiz is not open to them yet (its date, or items to finish first). The
    (user, item, number) constraint makes concurrent starts collide instead of overshooting.
    """
    if item.kind != QUIZ:
        raise AccessDenied("course.view", item, hide=True)
    require(user, "course.view", item.course, hide=True)
    require_open(user, item)
    attempts = attempts_of(user, item)
    open_attempt = next((a for a in attempts if a.state == IN_PROGRESS), None)
    if open_attempt is not None:
        return open_attempt
    settings = quiz_of(translation).settings
    if not grading.may_start_attempt(settings, len(attempts)):
        raise NoAttemptsLeft()
    enrol(user, item.course)
    now = utcnow()
    attempt = QuizAttempt(user_id=user.id, item_id=item.id, number=len(attempts) + 1, lang=translation.lang,
                          seed=secrets.randbelow(2**31), state=IN_PROGRESS, started_at=now,
                          deadline_at=grading.attempt_deadline(settings, now),
                          content_hash=translation.source_hash, answers={}, sequence=0)
    db.session.add(attempt)
    db.session.flush()
    audit.record("quiz_attempt_start", actor=user, target=f"QuizAttempt:{attempt.id}", number=attempt.number)
    return attempt


def lock_attempt(attempt: QuizAttempt) -> None:
    """Re-read the attempt and hold its row until the transaction ends.

    Every change to an attempt checks its state and sequence first; two requests that both
    read sequence n would otherwise both write (PostgreSQL's READ COMMITTED lets them), and
    one acknowledged answer would be lost, or a hand-in would grade other answers than the
    ones stored. SELECT … FOR UPDATE makes the second wait and then see the first's commit.
    SQLite ignores FOR UPDATE; there BEGIN IMMEDIATE (app/database.py) already serialises.
    """
    db.session.refresh(attempt, with_for_update=True)


def _check_open(user, attempt: QuizAttempt, sequence: int) -> None:
    require(user, "attempt.view", attempt, hide=True)
    require_open(user, attempt.item)
    lock_attempt(attempt)
    if attempt.state != IN_PROGRESS:
        raise StaleForm()
    if sequence != attempt.sequence:
        raise StaleForm()


def is_overdue(attempt: QuizAttempt) -> bool:
    return attempt.deadline_at is not None and utcnow() > attempt.deadline_at + GRACE


def save_answers(user, attempt: QuizAttempt, answers: dict[str, Any], sequence: int) -> None:
    """Keep the answers given so far. Raises StaleForm for an old form or a closed attempt,
    also when another request with the same sequence got there first; AnswerTooLong for a typed
    answer over the limit; and TimeUp after the time limit (the server's clock decides: the
    answers are not taken, and the caller closes the attempt with close_if_overdue)."""
    _check_open(user, attempt, sequence)
    if is_overdue(attempt):
        raise TimeUp()
    check_answer_lengths(answers)
    attempt.answers = answers
    attempt.sequence += 1


def finish_attempt(user, attempt: QuizAttempt, translation: ItemTranslation,
                   answers: dict[str, Any] | None, sequence: int | None) -> QuizAttempt:
    """Grade and close the attempt. Answers posted after the time limit are ignored; the
    answers saved before it are graded. Passing records the quiz as done for completion.

    Raises StaleForm for an old form (the newer answers are kept) or a finished attempt, and
    AnswerTooLong for a typed answer over the limit (in time; nothing is graded then). The
    attempt is locked first, so what is graded is exactly what is stored.
    """
    if sequence is not None:
        _check_open(user, attempt, sequence)
    else:  # closing an overdue attempt (close_if_overdue): always allowed
        lock_attempt(attempt)
        if attempt.state != IN_PROGRESS:
            raise StaleForm()
    if answers is not None and not is_overdue(attempt):
        check_answer_lengths(answers)
        attempt.answers = answers
    quiz = quiz_of(translation)
    layout = grading.attempt_layout(quiz, attempt.seed)
    result = grading.grade_attempt(quiz, grading.parse_answers(quiz, layout, attempt.answers))
    attempt.state = FINISHED
    attempt.finished_at = utcnow()
    attempt.sequence += 1
    attempt.content_hash = translation.source_hash
    attempt.points, attempt.max_points = result.points, result.max_points
    attempt.percent, attempt.passed = result.percent, result.passed
    attempt.results = {r.question_id: {"points": r.points, "max": r.max_points, "correct": r.grade.is_correct}
                       for r in result.per_question}
    if result.passed:
        record_completion(attempt_user(attempt), attempt.item)
    audit.record("quiz_attempt_finish", actor=user, target=f"QuizAttempt:{attempt.id}",
                 percent=result.percent, passed=result.passed)
    return attempt


def attempt_user(attempt: QuizAttempt):
    from app.auth.models import User

    return db.session.get(User, attempt.user_id)


def close_if_overdue(attempt: QuizAttempt, translation: ItemTranslation) -> bool:
    """Close an attempt whose time is up, grading what was saved. True when it was closed
    (False also when a concurrent request closed it first)."""
    if attempt.state == IN_PROGRESS and is_overdue(attempt):
        try:
            finish_attempt(attempt_user(attempt), attempt, translation, None, None)
        except StaleForm:
            return False
        return True
    return False


@dataclass
class QuizSummary:
    attempts: list[QuizAttempt]
    final_percent: float | None
    passed: bool
    may_start: bool


def summary(user, item: Item, translation: ItemTranslation) -> QuizSummary:
    attempts = attempts_of(user, item)
    finished = [a for a in attempts if a.state == FINISHED]
    settings = quiz_of(translation).settings
    # Finishing sets the percent, so every finished attempt has one.
    percents = [a.percent for a in finished if a.percent is not None]
    return QuizSummary(attempts=attempts,
                       final_percent=grading.final_score(settings.grading, percents),
                       passed=any(a.passed for a in finished),
                       may_start=grading.may_start_attempt(settings, len(attempts)))


def best_scores(user_ids: list[int], item_ids: list[int]) -> dict[tuple[int, int], float]:
    """Best finished percent per (user, item), one query (for dashboards and certificates)."""
    if not user_ids or not item_ids:
        return {}
    rows = db.session.execute(
        select(QuizAttempt.user_id, QuizAttempt.item_id, func.max(QuizAttempt.percent))
        .where(QuizAttempt.user_id.in_(user_ids), QuizAttempt.item_id.in_(item_ids),
               QuizAttempt.state == FINISHED)
        .group_by(QuizAttempt.user_id, QuizAttempt.item_id)).all()
    return {(u, i): p for u, i, p in rows if p is not None}  # finished attempts all have a percent
