"""The quiz report for trainers: attempts, pass rate, facility per question, common wrong answers.

A trainer's report covers the learners of the cohorts they train that have the course; an
admin's covers every learner, in a cohort or not. Both may narrow it to one of those cohorts.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from markupsafe import escape
from sqlalchemy import Select, select

from app.cohorts.access import learners_of, report_cohorts
from app.cohorts.models import Cohort
from app.content.models import Item
from app.core.authz import AccessDenied, can, policy, require
from app.extensions import db
from app.quizzes.models import FINISHED, QuizAttempt
from app.quizzes.spec import Quiz
from app.quizzes.types import Matching  # noqa: F401  (prompts of matching questions)


@dataclass
class QuestionStats:
    question_id: str
    text_html: str
    answered: int = 0
    fully_correct: int = 0
    wrong_choices: Counter = field(default_factory=Counter)

    @property
    def facility(self) -> float | None:
        return round(100 * self.fully_correct / self.answered, 1) if self.answered else None


@dataclass
class QuizReport:
    attempts: int
    learners: int
    pass_rate: float | None
    average: float | None
    questions: list[QuestionStats]


@dataclass
class ReportScope:
    """Whose attempts a report covers."""

    cohorts: list[Cohort]  # the cohorts the reader may narrow the report to
    cohort: Cohort | None  # the one chosen, if any
    learners: Select | None  # SQL giving the learners' ids; None: every learner

    @property
    def everyone(self) -> bool:
        return self.learners is None


@policy("quiz.report_all")
def _may_see_every_learner(user, item: Item) -> bool:
    """Every learner's attempts, in a cohort or none: admins only (authz lets them pass)."""
    return False


def report_scope(user, item: Item, cohort_id: int | None = None) -> ReportScope:
    """Whose attempts the user's report of this quiz covers, narrowed to one cohort on request.

    Raises AccessDenied: for people who get no report, and (hidden, 404) for a cohort that is
    not among the user's.
    """
    require(user, "quiz.report", item)
    every = can(user, "quiz.report_all", item)
    cohorts = report_cohorts(user, item.course_id, every=every)
    chosen = None
    if cohort_id is not None:
        chosen = next((cohort for cohort in cohorts if cohort.id == cohort_id), None)
        if chosen is None:
            raise AccessDenied("quiz.report", item, hide=True)
    if chosen is not None:
        learners = learners_of([chosen.id])
    else:
        learners = None if every else learners_of([cohort.id for cohort in cohorts])
    return ReportScope(cohorts=cohorts, cohort=chosen, learners=learners)


def quiz_report(item, quiz: Quiz, scope: ReportScope) -> QuizReport:
    """Statistics over the finished attempts of the item by the scope's learners (one query)."""
    query = select(QuizAttempt).where(QuizAttempt.item_id == item.id, QuizAttempt.state == FINISHED)
    if scope.learners is not None:
        query = query.where(QuizAttempt.user_id.in_(scope.learners))
    attempts = db.session.scalars(query).all()
    option_text = {q.id: {o.id: o.text_html or str(escape(o.text_md)) for o in q.options} for q in quiz.questions}
    stats = {q.id: QuestionStats(q.id, q.text_html) for q in quiz.questions if q.type != "description"}
    for attempt in attempts:
        for question_id, outcome in (attempt.results or {}).items():
            if question_id not in stats:
                continue
            stat = stats[question_id]
            stat.answered += 1
            if outcome.get("correct"):
                stat.fully_correct += 1
                continue
            chosen = attempt.answers.get(question_id)
            if isinstance(chosen, list):
                for value in chosen:
                    label = option_text.get(question_id, {}).get(value, value)
                    stat.wrong_choices[label] += 1
    passed = sum(1 for a in attempts if a.passed)
    return QuizReport(
        attempts=len(attempts), learners=len({a.user_id for a in attempts}),
        pass_rate=round(100 * passed / len(attempts), 1) if attempts else None,
        average=round(sum(a.percent or 0 for a in attempts) / len(attempts), 1) if attempts else None,
        questions=list(stats.values()))


def correct_answers_html(quiz: Quiz) -> dict[str, list[str]]:
    """What counted as right, per question, for the result page once answers may be shown."""
    out: dict[str, list[str]] = {}
    for question in quiz.questions:
        if question.type == "matching":
            out[question.id] = [f"{p.text_html or escape(p.text_md)} → {p.match_html or escape(p.match_md)}"
                                for p in Matching.prompts(question)]
        elif question.type in ("single", "multiple", "true-false", "short", "numerical"):
            out[question.id] = [o.text_html or str(escape(o.text_md)) for o in question.options
                                if o.weight > 0 and not o.is_catch_all]
    return out
