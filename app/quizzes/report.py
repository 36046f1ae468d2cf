"""The quiz report for trainers: attempts, pass rate, facility per question, common wrong answers."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from markupsafe import escape
from sqlalchemy import select

from app.extensions import db
from app.quizzes.model import Quiz
from app.quizzes.models import FINISHED, QuizAttempt
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


def quiz_report(item, quiz: Quiz) -> QuizReport:
    """Statistics over all finished attempts of the item (one query)."""
    attempts = db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.item_id == item.id, QuizAttempt.state == FINISHED)).all()
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
