"""Quiz attempts under concurrent requests (docs/security.md DATA-4), on SQLite and on PostgreSQL.

Two requests carrying the same sequence number reach the server at once: exactly one is
taken and the other is refused with 409, on both databases, and a hand-in grades exactly
the answers that end up stored. Each race is repeated, since one run may happen to
serialise by itself.
"""
from __future__ import annotations

import json

from sqlalchemy import select

from app.content.models import ItemTranslation
from app.extensions import db
from app.quizzes import grading
from app.quizzes.spec import Quiz
from app.quizzes.models import QuizAttempt
from tests.quizzes.test_attempt_routes import attempt_id, make_quiz, start
from tests.support.concurrency import client_with_session, race

TRIALS = 12
RIGHT = {"q.duty": "o2", "q.council": "Sakrebulo"}  # 100%
WRONG = {"q.duty": "o1", "q.council": "city hall"}  # 0%
JSON = {"Accept": "application/json"}


def signed_in(app, factories):
    """A new learner signed in: their session cookie, for several 'tabs'."""
    user = factories.make_user()
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": "correct horse battery"}).status_code == 302
    return client, client.get_cookie("nergi_session").value


def post_later(app, cookie, location, answers, action):
    """A request to be sent by race(): a tab posting the attempt form with sequence 0."""
    def post():
        response = client_with_session(app, cookie).post(
            location, data={**answers, "action": action, "sequence": "0"}, headers=JSON if action == "save" else {})
        return response.status_code, response.get_data(as_text=True)
    return post


def stored(app, location):
    """The attempt as stored, and the grade of exactly the answers stored."""
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id(location))
        translation = db.session.scalar(select(ItemTranslation).where(ItemTranslation.item_id == attempt.item_id))
        quiz = Quiz.from_dict(translation.data["quiz"])
        layout = grading.attempt_layout(quiz, attempt.seed)
        regraded = grading.grade_attempt(quiz, grading.parse_answers(quiz, layout, attempt.answers))
        db.session.expunge(attempt)
        return attempt, regraded


def test_two_saves_with_one_sequence_keep_exactly_one(app, factories):
    course = make_quiz(factories, app)
    for _trial in range(TRIALS):
        client, cookie = signed_in(app, factories)
        location = start(client, course)
        (status_a, body_a), (status_b, body_b) = race(post_later(app, cookie, location, RIGHT, "save"),
                                                      post_later(app, cookie, location, WRONG, "save"))
        assert sorted([status_a, status_b]) == [200, 409]
        winner, loser_body = (RIGHT, body_b) if status_a == 200 else (WRONG, body_a)
        attempt, _regraded = stored(app, location)
        assert attempt.sequence == 1
        assert attempt.answers == {"duty": [{"o1": "a", "o2": "b"}[winner["q.duty"]]],
                                   "council": [winner["q.council"]]}
        # The refused tab is told the stored number, so its next save is taken.
        assert json.loads(loser_body) == {"error": "stale", "sequence": 1}


def test_a_save_racing_the_hand_in_never_changes_graded_answers(app, factories):
    course = make_quiz(factories, app)
    outcomes = set()
    for _trial in range(TRIALS):
        client, cookie = signed_in(app, factories)
        location = start(client, course)
        (save_status, _s), (submit_status, _page) = race(post_later(app, cookie, location, RIGHT, "save"),
                                                         post_later(app, cookie, location, WRONG, "submit"))
        attempt, regraded = stored(app, location)
        if submit_status == 302:  # the hand-in won: the save is refused, the graded answers stay
            assert save_status == 409
            assert attempt.is_finished and attempt.sequence == 1
            assert attempt.answers == {"duty": ["a"], "council": ["city hall"]}
            assert (attempt.points, attempt.percent, attempt.passed) == (regraded.points, regraded.percent, False)
            assert attempt.results == {r.question_id: {"points": r.points, "max": r.max_points,
                                                       "correct": r.grade.is_correct} for r in regraded.per_question}
        else:  # the save won: the hand-in with the old number is refused and the attempt stays open
            assert (save_status, submit_status) == (200, 409)
            assert not attempt.is_finished and attempt.sequence == 1 and attempt.points is None
            assert attempt.answers == {"duty": ["b"], "council": ["Sakrebulo"]}
        outcomes.add(submit_status)
    assert outcomes <= {302, 409}
