"""The completion rule of a course (course.yml `completion`) and the learner's progress toward it."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.content.models import ASSIGNMENT, LESSON, QUIZ, Course, Item
from app.extensions import db
from app.learning.models import Progress


@dataclass
class Part:
    done: int
    total: int

    @property
    def complete(self) -> bool:
        return self.done >= self.total


@dataclass
class CompletionStatus:
    lessons: Part
    quizzes: Part
    assignments: Part
    average: float | None
    min_average: float

    @property
    def average_ok(self) -> bool:
        return self.min_average <= 0 or (self.average is not None and self.average >= self.min_average)

    @property
    def complete(self) -> bool:
        return (self.lessons.complete and self.quizzes.complete and self.assignments.complete
                and self.average_ok)


def completion_status(user_id: int, course: Course) -> CompletionStatus:
    """Where the learner stands against the course's rule: three queries.

    Progress rows mean: a lesson marked done, a quiz passed, an assignment approved. The
    average is over the required quizzes' best scores (0 for a quiz never finished).
    """
    from app.quizzes.services import best_scores

    rule = dict(course.completion or {})
    items = db.session.scalars(select(Item).where(
        Item.course_id == course.id, Item.retired_at.is_(None), Item.required.is_(True))).all()
    finished = set(db.session.scalars(select(Progress.item_id).where(
        Progress.user_id == user_id, Progress.item_id.in_([i.id for i in items]))))

    def part(kind: str, enabled: bool) -> Part:
        of_kind = [i for i in items if i.kind == kind]
        if not enabled:
            return Part(0, 0)
        return Part(sum(1 for i in of_kind if i.id in finished), len(of_kind))

    quizzes = [i.id for i in items if i.kind == QUIZ]
    scores = best_scores([user_id], quizzes)
    average = (sum(scores.get((user_id, q), 0.0) for q in quizzes) / len(quizzes)) if quizzes else None
    return CompletionStatus(
        lessons=part(LESSON, rule.get("lessons", "required") == "required"),
        quizzes=part(QUIZ, rule.get("quizzes", "passed") == "passed"),
        assignments=part(ASSIGNMENT, rule.get("assignments", "approved") == "approved"),
        average=round(average, 1) if average is not None else None,
        min_average=float(rule.get("min_average_quiz_score", 0) or 0),
    )
