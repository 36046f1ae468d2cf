"""Cohort fixtures: a small world of people and two cohorts, and helpers that write activity
(progress, quiz attempts, submissions, reviews) straight to the database, in bulk when asked."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import insert

from app.assignments.models import Review, Revision, Submission
from app.auth.models import User
from app.cohorts.models import LEARNER, MENTOR, TRAINER, Cohort, CohortCourse, Membership
from app.cohorts.scope import cohort_of_work
from app.content.models import Item
from app.learning.models import Progress
from app.learning.models import Enrolment
from app.extensions import db
from app.quizzes.models import FINISHED, IN_PROGRESS, QuizAttempt

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
_tokens = itertools.count(1)


@dataclass
class World:
    admin: Any
    trainer: Any
    other_trainer: Any
    mentor: Any
    mentor2: Any
    learner: Any
    learner2: Any
    outsider: Any
    course: Any
    other_course: Any
    cohort_id: int
    other_cohort_id: int

    def item(self, n: int):
        return self.course.items[n - 1]


def make_cohort(app, *, name: str = "YPP 2025 — Marneuli", courses=(), trainers=(), mentors=(), learners=(),
                **fields) -> int:
    """A cohort with its courses and members (learners enrolled in its courses); returns its id."""
    with app.app_context():
        cohort = Cohort(name=name, language=fields.pop("language", "en"), **fields)
        db.session.add(cohort)
        db.session.flush()
        db.session.add_all(CohortCourse(cohort_id=cohort.id, course_id=course.id) for course in courses)
        for role, people in ((TRAINER, trainers), (MENTOR, mentors), (LEARNER, learners)):
            db.session.add_all(Membership(cohort_id=cohort.id, user_id=user.id, role=role) for user in people)
        db.session.add_all(Enrolment(user_id=user.id, course_id=course.id) for user in learners for course in courses)
        db.session.commit()
        return cohort.id


@pytest.fixture
def world(app, factories) -> World:
    course = factories.make_course(items=("lesson", "quiz", "assignment", "lesson"))
    other_course = factories.make_course(items=("lesson",))
    people = {key: factories.make_user(name=name) for key, name in (
        ("admin", "Admin"), ("trainer", "Tamar Trainer"), ("other_trainer", "Other Trainer"),
        ("mentor", "Giorgi Mentor"), ("mentor2", "Leyla Mentor"), ("learner", "Nino Learner"),
        ("learner2", "Aygün Learner"), ("outsider", "Outside Learner"))}
    with app.app_context():
        db.session.get(User, people["admin"].id).is_admin = True
        db.session.commit()
    people["admin"].is_admin = True
    cohort_id = make_cohort(app, courses=[course], trainers=[people["trainer"]],
                            mentors=[people["mentor"], people["mentor2"]],
                            learners=[people["learner"], people["learner2"]], municipality="Marneuli",
                            created_at=NOW - timedelta(days=60))
    other_id = make_cohort(app, name="YPP 2025 — Dmanisi", courses=[course, other_course],
                           trainers=[people["other_trainer"]], learners=[people["outsider"]])
    return World(course=course, other_course=other_course, cohort_id=cohort_id, other_cohort_id=other_id, **people)


# -- activity, written straight to the tables ---------------------------------------------------

def add_progress(app, user_id: int, item_id: int, at: datetime = NOW) -> None:
    with app.app_context():
        db.session.add(Progress(user_id=user_id, item_id=item_id, completed_at=at))
        db.session.commit()


def add_attempts(app, user_id: int, item_id: int, results: list[bool | None], at: datetime = NOW,
                 percents: list[float] | None = None) -> None:
    """One attempt per result: True passed, False failed, None still open."""
    with app.app_context():
        for number, passed in enumerate(results, start=1):
            percent = (percents or [None] * len(results))[number - 1]
            if percent is None and passed is not None:
                percent = 90.0 if passed else 30.0
            db.session.add(QuizAttempt(
                user_id=user_id, item_id=item_id, number=number, lang="en", seed=1,
                state=IN_PROGRESS if passed is None else FINISHED, answers={}, sequence=0,
                started_at=at, finished_at=None if passed is None else at, percent=percent, passed=passed))
        db.session.commit()


def add_submission(app, user_id: int, item_id: int, state: str, *, submitted_at: datetime = NOW,
                   updated_at: datetime | None = None, reviews: list[dict] = (), cohort_id: int | None = None) -> int:
    """A submission in the given state with one revision, and the given reviews of it. It belongs
    to `cohort_id`, or else to the cohort the app would give it (app/cohorts/scope.py)."""
    with app.app_context():
        if cohort_id is None:
            cohort_id = cohort_of_work(user_id, db.session.get(Item, item_id).course_id)
        submission = Submission(user_id=user_id, item_id=item_id, state=state, draft_body="text", cohort_id=cohort_id,
                                submitted_at=None if state == "draft" else submitted_at,
                                created_at=submitted_at, updated_at=updated_at or submitted_at)
        db.session.add(submission)
        db.session.flush()
        if state != "draft":
            revision = Revision(submission_id=submission.id, number=1, body="text",
                                form_token=f"token-{next(_tokens):020d}", submitted_at=submitted_at)
            db.session.add(revision)
            db.session.flush()
            for review in reviews:
                db.session.add(Review(revision_id=revision.id, **review))
        db.session.commit()
        return submission.id


def bulk_learners(app, cohort_id: int, count: int, items, *, start: int = 0) -> list[int]:
    """`count` learners in the cohort, each with some progress, attempts and a submission (bulk inserts)."""
    with app.app_context():
        base = db.session.execute(insert(User).returning(User.id), [
            {"email": f"bulk{start + n}@example.org", "name": f"Bulk {start + n:05d}", "locale": "en",
             "municipality": ("Marneuli", "Bolnisi", "Tsalka")[n % 3], "organisation": "", "is_admin": False,
             "is_active_account": True, "session_version": 1, "created_at": NOW} for n in range(count)]).scalars().all()
        ids = list(base)
        db.session.execute(insert(Membership), [
            {"cohort_id": cohort_id, "user_id": user_id, "role": LEARNER, "created_at": NOW} for user_id in ids])
        lessons = [item for item in items if item.kind == "lesson"]
        quizzes = [item for item in items if item.kind == "quiz"]
        assignments = [item for item in items if item.kind == "assignment"]
        progress, attempts, submissions = [], [], []
        for n, user_id in enumerate(ids):
            for item in lessons[: n % (len(lessons) + 1)]:
                progress.append({"user_id": user_id, "item_id": item.id, "completed_at": NOW - timedelta(days=n % 30)})
            for item in quizzes:
                attempts.append({"user_id": user_id, "item_id": item.id, "number": 1, "lang": "en", "seed": 1,
                                 "state": FINISHED, "answers": {}, "sequence": 0, "results": {},
                                 "started_at": NOW, "finished_at": NOW, "percent": float(n % 101),
                                 "passed": n % 101 >= 50, "content_hash": ""})
            for item in assignments[:1]:
                submissions.append({"user_id": user_id, "item_id": item.id, "cohort_id": cohort_id,
                                    "state": ("draft", "submitted", "changes_requested", "approved")[n % 4],
                                    "draft_body": "", "created_at": NOW, "updated_at": NOW, "submitted_at": NOW,
                                    "version": 1})
        for rows, model in ((progress, Progress), (attempts, QuizAttempt), (submissions, Submission)):
            if rows:
                db.session.execute(insert(model), rows)
        db.session.commit()
        return ids
