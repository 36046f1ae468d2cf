"""A cohort with a rhythm: a course in three languages, a due date, two learners (Georgian and
Russian), a mentor with a submission waiting, a trainer; and helpers to run the worker at a
given moment and read what the SMTP sink received."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import pytest
from flask_babel import force_locale

from app.assignments.models import SUBMITTED, MentorLink, Revision, Submission
from app.cohorts.models import LEARNER, MENTOR, TRAINER, Cohort, CohortCourse, CohortItemDate, Membership
from app.core.worker import run_round
from app.extensions import db
from app.learning.models import Enrolment, Progress
from app.reminders.services import DIGEST_SUBJECT, SUBJECTS
from tests.support.smtp import text_body

DUE_ON = date(2026, 3, 11)  # a Wednesday: due at the end of it in Tbilisi, 20:00 UTC
SUBMITTED_AT = datetime(2026, 3, 5, 12, 0, tzinfo=timezone.utc)
JOINED_AT = datetime(2026, 2, 1, 9, 0, tzinfo=timezone.utc)


def utc(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


@dataclass
class Rhythm:
    course: Any
    cohort_id: int
    nino: Any  # learner, Georgian; her assignment waits for the mentor
    ivan: Any  # learner, Russian
    mentor: Any
    trainer: Any
    submission_id: int
    revision_id: int

    @property
    def lesson(self):
        return self.course.items[0]


def build_rhythm(app, factories, *, preferences: dict[str, str] | None = None) -> Rhythm:
    preferences = preferences or {}
    course = factories.make_course(items=("lesson", "quiz", "assignment"), languages=("en", "ka", "ru"))
    people = {
        "nino": factories.make_user("nino@example.org", name="Nino Beridze", locale="ka"),
        "ivan": factories.make_user("ivan@example.org", name="Ivan Petrov", locale="ru"),
        "mentor": factories.make_user("mentor@example.org", name="Giorgi Mentor", locale="en"),
        "trainer": factories.make_user("trainer@example.org", name="Tamar Trainer", locale="en"),
    }
    with app.app_context():
        from app.auth.models import User

        for key, choice in preferences.items():
            db.session.get(User, people[key].id).reminders = choice
        cohort = Cohort(name="YPP 2026 — Marneuli", starts_on=date(2026, 3, 2), ends_on=date(2026, 4, 30),
                        time_zone="Asia/Tbilisi", review_target_days=2)
        db.session.add(cohort)
        db.session.flush()
        db.session.add(CohortCourse(cohort_id=cohort.id, course_id=course.id))
        for key, role in (("nino", LEARNER), ("ivan", LEARNER), ("mentor", MENTOR), ("trainer", TRAINER)):
            db.session.add(Membership(cohort_id=cohort.id, user_id=people[key].id, role=role, created_at=JOINED_AT))
        for key in ("nino", "ivan"):
            db.session.add(Enrolment(user_id=people[key].id, course_id=course.id))
        db.session.add(MentorLink(mentor_id=people["mentor"].id, learner_id=people["nino"].id, cohort_id=cohort.id))
        db.session.add(CohortItemDate(cohort_id=cohort.id, item_id=course.items[0].id, due_on=DUE_ON))
        submission = Submission(user_id=people["nino"].id, item_id=course.items[2].id, cohort_id=cohort.id,
                                state=SUBMITTED, draft_body="text", submitted_at=SUBMITTED_AT)
        db.session.add(submission)
        db.session.flush()
        revision = Revision(submission_id=submission.id, number=1, body="text", form_token=f"rev-{submission.id}",
                            submitted_at=SUBMITTED_AT)
        db.session.add(revision)
        db.session.commit()
        cohort_id, submission_id, revision_id = cohort.id, submission.id, revision.id
    return Rhythm(course=course, cohort_id=cohort_id, submission_id=submission_id, revision_id=revision_id, **people)


@pytest.fixture
def rhythm(app, factories) -> Rhythm:
    return build_rhythm(app, factories)


def finish(app, user, item, at: datetime) -> None:
    with app.app_context():
        db.session.add(Progress(user_id=user.id, item_id=item.id, completed_at=at))
        db.session.commit()


def run_at(app, now: datetime) -> dict[str, str]:
    with app.app_context():
        return run_round(app, now=now)


def translated(app, text, lang: str) -> str:
    """A (lazy) string in the language, as an e-mail in that language says it."""
    with app.test_request_context(), force_locale(lang):
        return str(text)


def greeting(app, lang: str, name: str) -> str:
    from flask_babel import gettext

    with app.test_request_context(), force_locale(lang):
        return gettext("Hello %(name)s,", name=name)


def due_soon_sentence(app, lang: str, item: str, course: str, due: str) -> str:
    from flask_babel import gettext

    with app.test_request_context(), force_locale(lang):
        return gettext("“%(item)s” in the course “%(course)s” is due on %(due)s, and you have not finished it yet.",
                       item=item, course=course, due=due)


def subject_of(app, kind: str, lang: str) -> str:
    return translated(app, DIGEST_SUBJECT if kind == "digest" else SUBJECTS[kind], lang)


def received(smtp_server) -> list[tuple[str, str, str]]:
    """(to, subject, plain text) of every message the sink received, in order."""
    return [(message["To"], str(message["Subject"]), text_body(message)) for message in smtp_server.messages]
