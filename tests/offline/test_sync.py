"""Writes made offline and replayed (POST /offline/sync): each key is done once, on SQLite and
PostgreSQL, and the server's rules (closed attempts, time limits, newer saves) still decide."""
from __future__ import annotations

import uuid
from datetime import timedelta

from freezegun import freeze_time
from sqlalchemy import func, select

from app.assignments.models import Submission
from app.learning.models import Progress
from app.extensions import db
from app.offline.models import IdempotencyKey
from app.offline.services import purge_old_keys
from app.quizzes.models import QuizAttempt
from tests.quizzes.test_attempt_routes import attempt_id, make_quiz, start
from tests.support.concurrency import client_with_session, race

TRIALS = 8


def key() -> str:
    return str(uuid.uuid4())


def sync(client, payload, idempotency_key=None):
    return client.post("/offline/sync", json=payload, headers={"Idempotency-Key": idempotency_key or key()})


def count(app, model, **where):
    with app.app_context():
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return db.session.scalar(query)


def test_mark_done_sent_twice_with_one_key_counts_once(client, auth, factories, app):
    course = factories.make_course(items=("lesson", "lesson"))
    user = factories.make_user()
    auth.login_as(user)
    same = key()
    first = sync(client, {"kind": "done", "course": course.slug, "item": "item1"}, same)
    again = sync(client, {"kind": "done", "course": course.slug, "item": "item1"}, same)
    assert first.status_code == again.status_code == 200
    assert first.json == again.json == {"done": True}
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert count(app, Progress, user_id=user.id) == 1
    assert count(app, IdempotencyKey, user_id=user.id) == 1


def test_quiz_answers_retried_after_a_lost_answer_are_not_a_conflict(client, auth, factories, app):
    """The first request was saved but its answer never reached the phone: the retry carries
    the old sequence number, and gets the first answer back instead of a 409."""
    course = make_quiz(factories, app)
    auth.login_as(factories.make_user())
    location = start(client, course)
    payload = {"kind": "quiz", "attempt": attempt_id(location), "sequence": 0,
               "answers": {"q.duty": ["o2"], "q.council": ["Sakrebulo"]}}
    same = key()
    first = sync(client, payload, same)
    again = sync(client, payload, same)
    assert first.status_code == again.status_code == 200
    assert first.json == again.json == {"saved": True, "sequence": 1}
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id(location))
        assert attempt.sequence == 1 and attempt.answers == {"duty": ["b"], "council": ["Sakrebulo"]}
    # Without the key, the same old form is what it is: stale.
    stale = sync(client, payload)
    assert stale.status_code == 409 and stale.json["error"] == "quiz_stale" and stale.json["sequence"] == 1


def test_draft_sent_twice_with_one_key_saves_once(client, auth, factories, app):
    course = factories.make_course(items=("assignment",))
    user = factories.make_user()
    auth.login_as(user)
    payload = {"kind": "draft", "course": course.slug, "item": "item1", "version": 0, "body": "Written on the bus"}
    same = key()
    first = sync(client, payload, same)
    again = sync(client, payload, same)
    assert first.status_code == again.status_code == 200 and first.json == again.json
    with app.app_context():
        [submission] = db.session.scalars(select(Submission).where(Submission.user_id == user.id)).all()
        assert submission.draft_body == "Written on the bus"
        assert first.json == {"saved": True, "version": submission.version}


def test_a_key_used_for_another_request_is_refused(client, auth, factories, app):
    course = factories.make_course(items=("lesson", "lesson"))
    user = factories.make_user()
    auth.login_as(user)
    same = key()
    assert sync(client, {"kind": "done", "course": course.slug, "item": "item1"}, same).status_code == 200
    other = sync(client, {"kind": "done", "course": course.slug, "item": "item2"}, same)
    assert other.status_code == 422 and other.json == {"error": "key_reused"}
    assert count(app, Progress, user_id=user.id) == 1


def test_keys_belong_to_one_user(client, auth, factories, app):
    course = factories.make_course()
    same = key()
    for user in (factories.make_user(), factories.make_user()):
        auth.login_as(user)
        response = sync(client, {"kind": "done", "course": course.slug, "item": "item1"}, same)
        assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers
        assert count(app, Progress, user_id=user.id) == 1
        auth.logout()


def signed_in_cookie(app, user) -> str:
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": "correct horse battery"}).status_code == 302
    return client.get_cookie("nergi_session").value


def test_one_key_sent_from_two_connections_at_once_is_done_once(app, factories):
    """A retry can overtake the first request: both get the same answer, one write."""
    course = factories.make_course(items=("assignment",))
    for _trial in range(TRIALS):
        user = factories.make_user()
        cookie = signed_in_cookie(app, user)
        same = key()
        payload = {"kind": "draft", "course": course.slug, "item": "item1", "version": 0, "body": "Once"}

        def post():
            response = client_with_session(app, cookie).post(
                "/offline/sync", json=payload, headers={"Idempotency-Key": same})
            return response.status_code, response.json

        results = race(post, post)
        assert [status for status, _body in results] == [200, 200], results
        assert results[0][1] == results[1][1]
        with app.app_context():
            [submission] = db.session.scalars(select(Submission).where(Submission.user_id == user.id)).all()
            assert results[0][1] == {"saved": True, "version": submission.version}
            assert submission.version == 2  # made (1) and written once (2); a second write makes 3
        assert count(app, IdempotencyKey, user_id=user.id) == 1


def test_answers_for_a_handed_in_attempt_are_refused_in_the_learners_language(client, auth, factories, app):
    course = make_quiz(factories, app)
    auth.login_as(factories.make_user(locale="ka"))
    location = start(client, course)
    assert client.post(location, data={"q.duty": "o2", "q.council": "Sakrebulo", "action": "submit",
                                       "sequence": "0"}).status_code == 302
    response = sync(client, {"kind": "quiz", "attempt": attempt_id(location), "sequence": 0,
                             "answers": {"q.duty": ["o1"]}})
    assert response.status_code == 409 and response.json["error"] == "quiz_closed"
    assert "ჩაბარდა" in response.json["message"]  # Georgian: "was handed in"
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id(location))
        assert attempt.passed and attempt.answers["duty"] == ["b"]
    assert count(app, IdempotencyKey) == 0  # a refusal is not remembered: nothing was written


def test_answers_after_the_time_limit_are_refused(client, auth, factories, app):
    course = make_quiz(factories, app, settings={"time_limit": 10})
    auth.login_as(factories.make_user())
    with freeze_time(None) as frozen:
        location = start(client, course)
        frozen.tick(timedelta(minutes=11))
        response = sync(client, {"kind": "quiz", "attempt": attempt_id(location), "sequence": 0,
                                 "answers": {"q.duty": ["o2"]}})
    assert response.status_code == 409 and response.json["error"] == "quiz_time_up"
    assert "time" in response.json["message"]
    with app.app_context():
        assert db.session.get(QuizAttempt, attempt_id(location)).answers == {}


def test_a_draft_changed_elsewhere_is_a_conflict_and_both_texts_survive(client, auth, factories, app):
    course = factories.make_course(items=("assignment",))
    user = factories.make_user()
    auth.login_as(user)
    assert client.post(f"/courses/{course.slug}/item1/work",
                       data={"body": "Typed in another tab", "version": "0", "action": "save"}).status_code == 302
    response = sync(client, {"kind": "draft", "course": course.slug, "item": "item1", "version": 0,
                             "body": "Typed offline"})
    assert response.status_code == 409 and response.json["error"] == "draft_conflict"
    assert response.json["saved"] == "Typed in another tab"
    assert "another tab" in response.json["message"]
    with app.app_context():
        [submission] = db.session.scalars(select(Submission).where(Submission.user_id == user.id)).all()
        assert submission.draft_body == "Typed in another tab"
        assert response.json["version"] == submission.version  # the phone may save over it, knowingly


def test_a_draft_for_submitted_work_is_refused(client, auth, factories, app):
    course = factories.make_course(items=("assignment",))
    user = factories.make_user()
    auth.login_as(user)
    client.post(f"/courses/{course.slug}/item1/work", data={"body": "Final", "version": "0", "action": "save"})
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.user_id == user.id))
        submission.submit()
        db.session.commit()
        version = submission.version
    response = sync(client, {"kind": "draft", "course": course.slug, "item": "item1", "version": version,
                             "body": "Late offline text"})
    assert response.status_code == 409 and response.json["error"] == "draft_submitted"
    with app.app_context():
        assert db.session.scalar(select(Submission.draft_body).where(Submission.user_id == user.id)) == "Final"


def test_another_learners_attempt_is_not_found(client, auth, factories, app):
    course = make_quiz(factories, app)
    auth.login_as(factories.make_user())
    location = start(client, course)
    auth.logout()
    auth.login_as(factories.make_user())
    response = sync(client, {"kind": "quiz", "attempt": attempt_id(location), "sequence": 0,
                             "answers": {"q.duty": ["o1"]}})
    assert response.status_code == 404 and response.json["error"] == "not_found"
    with app.app_context():
        assert db.session.get(QuizAttempt, attempt_id(location)).answers == {}


def test_bad_requests(client, auth, factories, app):
    course = factories.make_course()
    payload = {"kind": "done", "course": course.slug, "item": "item1"}
    anonymous = sync(client, payload)
    assert anonymous.status_code == 401 and anonymous.json["error"] == "signed_out"
    auth.login_as(factories.make_user())
    assert sync(client, payload, "short").status_code == 400
    assert client.post("/offline/sync", json=payload).status_code == 400  # no key
    assert sync(client, {"kind": "delete-everything"}).status_code == 400
    assert sync(client, {"kind": "quiz", "attempt": "1; drop", "sequence": 0, "answers": {}}).status_code == 400
    missing = sync(client, {"kind": "done", "course": course.slug, "item": "nope"})
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    assert count(app, Progress) == 0 and count(app, IdempotencyKey) == 0


def test_old_keys_are_forgotten_after_30_days(client, auth, factories, app):
    course = factories.make_course()
    user = factories.make_user()
    with freeze_time("2026-01-01 12:00:00"):
        auth.login_as(user)
        response = sync(client, {"kind": "done", "course": course.slug, "item": "item1"})
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        from datetime import datetime, timezone

        assert purge_old_keys(datetime(2026, 1, 30, tzinfo=timezone.utc)) == ""
        assert purge_old_keys(datetime(2026, 2, 1, tzinfo=timezone.utc)) == "1 idempotency keys removed"
    assert count(app, IdempotencyKey) == 0 and count(app, Progress) == 1
