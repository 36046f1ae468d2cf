"""CSV exports: UTF-8 with BOM, CRLF, neutralised formula cells, one column per rubric criterion."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from app.certificates.models import Certificate
from app.cohorts import exports, queries
from app.cohorts.models import Cohort
from app.extensions import db
from tests.cohorts.conftest import NOW, add_attempts, add_progress, add_submission


@pytest.mark.parametrize("value, expected", [
    ("=1+2", "'=1+2"), ("+995 555", "'+995 555"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"), ("Nino", "Nino"), ("a=b", "a=b"), ("", ""), (None, ""),
    (12, 12), (37.5, 37.5),
])
def test_neutralise(value, expected):
    assert exports.neutralise(value) == expected


def read(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8")[1:]
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture
def data(app, world, factories):
    lesson, quiz, assignment, _ = world.course.items
    with app.app_context():
        learner = db.session.get(type(world.learner), world.learner.id)
        learner.name, learner.organisation = "=HYPERLINK(\"http://evil.example\")", "@SUM(A1)"
        db.session.commit()
    add_progress(app, world.learner.id, lesson.id)
    add_attempts(app, world.learner.id, quiz.id, [False, True], percents=[40.0, 85.5])
    add_submission(app, world.learner.id, assignment.id, "approved", reviews=[
        {"mentor_id": world.mentor.id, "decision": "request_changes", "scores": {"participation": 0, "transparency": 1},
         "total": 1, "sent_at": NOW + timedelta(hours=1)},
        {"mentor_id": world.mentor.id, "decision": "approve", "scores": {"participation": 2, "transparency": 2},
         "total": 4, "sent_at": NOW + timedelta(hours=5)}])
    add_submission(app, world.outsider.id, assignment.id, "approved", reviews=[
        {"mentor_id": world.mentor.id, "decision": "approve", "scores": {"participation": 2, "transparency": 2},
         "total": 4, "sent_at": NOW}])
    with app.app_context():
        for n, (user, course) in enumerate(((world.learner, world.course), (world.outsider, world.course),
                                            (world.learner, world.other_course))):
            db.session.add(Certificate(code=f"CODE{n:012d}", user_id=user.id, course_id=course.id, lang="en",
                                       learner_name="x", issued_at=NOW, status_index=n, salt="s",
                                       credential_jwt="jwt", offline_token="t",
                                       revoked_at=NOW if n == 0 else None, revoked_reason="=mistake" if n == 0 else ""))
        db.session.commit()


def build(app, world, kind):
    with app.app_context():
        cohort = db.session.get(Cohort, world.cohort_id)
        return read(exports.build(kind, cohort, queries.columns_of(cohort, "en"), "en", NOW))


def test_progress_export(app, world, data):
    header, *rows = build(app, world, "progress")
    assert header[:8] == ["Name", "E-mail address", "Municipality", "Organisation", "Mentor", "Completion (%)",
                          "Last activity (Asia/Tbilisi)", "At risk"]
    assert header[8:] == ["1.1 Item 1 en", "1.2 Item 2 en", "1.3 Item 3 en", "1.4 Item 4 en"]
    by_email = {row[1]: row for row in rows}
    assert set(by_email) == {world.learner.email, world.learner2.email}  # not the other cohort's learner
    nino = by_email[world.learner.email]
    assert nino[0] == "'=HYPERLINK(\"http://evil.example\")" and nino[3] == "'@SUM(A1)"
    # Completion counts Progress rows (the quiz and the assignment here have none).
    assert nino[5] == "25.0" and nino[6] == "2025-06-01 16:00"
    assert nino[8:] == ["done", "passed", "approved", "not started"]


def test_quiz_grades_export(app, world, data):
    header, *rows = build(app, world, "quizzes")
    assert header == ["Name", "E-mail address", "Item", "Quiz", "Finished attempts", "Best score (%)", "Passed",
                      "Last finished (Asia/Tbilisi)"]
    assert rows == [["'=HYPERLINK(\"http://evil.example\")", world.learner.email, "1.2", "Item 2 en", "2", "85.5",
                     "yes", "2025-06-01 16:00"]]


def test_rubric_export_has_a_column_per_criterion_from_the_latest_review(app, world, data):
    header, *rows = build(app, world, "rubric")
    assert header[-2:] == ["Participation", "Transparency"]
    assert rows == [["'=HYPERLINK(\"http://evil.example\")", world.learner.email, "1.3", "Item 3 en", "approved", "1",
                     "2025-06-01 21:00", "Giorgi Mentor", "approved", "4", "2", "2"]]


def test_certificates_export(app, world, data):
    header, *rows = build(app, world, "certificates")
    assert header == ["Name", "E-mail address", "Course", "Certificate code", "Issued (Asia/Tbilisi)", "Revoked (Asia/Tbilisi)",
                      "Reason for revoking"]
    # Only this cohort's learners, and only in this cohort's courses.
    assert [(row[1], row[3], row[5], row[6]) for row in rows] == [
        (world.learner.email, "CODE000000000000", "2025-06-01 16:00", "'=mistake")]
