"""Typed answers have a size cap, and a save after the time limit says it was not taken
(issue 11, finding 8)."""
from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time

from app.extensions import db
from app.quizzes.models import QuizAttempt
from app.quizzes.types import MAX_TYPED_ANSWER
from tests.quizzes.test_attempt_routes import answer, attempt_id, make_quiz, start

JSON = {"Accept": "application/json"}


def saved_answers(app, location):
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id(location))
        return attempt.answers, attempt.sequence, attempt.is_finished


def test_a_typed_answer_over_the_limit_is_refused_and_kept_on_the_page(client, auth, factories, app):
    course = make_quiz(factories, app)
    auth.login_as(factories.make_user())
    location = start(client, course)
    assert answer(client, location, duty="b", council="Sakrebulo", action="save").status_code == 302
    too_long = "საკრებულო " + "x" * MAX_TYPED_ANSWER
    response = client.post(location, content_type="multipart/form-data",
                           data={"q.duty": "o1", "q.council": too_long, "action": "save", "sequence": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"An answer is longer than {MAX_TYPED_ANSWER} characters (it starts “საკრებულო" in page
    assert too_long in page  # what was typed is on the page again, to shorten
    assert saved_answers(app, location) == ({"duty": ["b"], "council": ["Sakrebulo"]}, 1, False)
    # Handing in is refused the same way: nothing is graded.
    response = client.post(location, data={"q.duty": "o2", "q.council": too_long, "action": "submit",
                                           "sequence": "1"})
    assert response.status_code == 400 and not saved_answers(app, location)[2]
    # The autosave hears it as JSON.
    response = client.post(location, headers=JSON, data={"q.council": too_long, "action": "save", "sequence": "1"})
    assert response.status_code == 400
    assert response.json["saved"] is False and response.json["error"] == "too_long"
    assert response.json["message"].startswith(f"An answer is longer than {MAX_TYPED_ANSWER} characters")
    # The limit itself is accepted.
    exact = "y" * MAX_TYPED_ANSWER
    assert answer(client, location, duty="b", council=exact, action="save").status_code == 302
    assert saved_answers(app, location)[0]["council"] == [exact]


def test_a_save_stores_one_value_per_typed_question(client, auth, factories, app):
    """The audit posted 2 MB in one save (many values under one name); only the first counts."""
    course = make_quiz(factories, app)
    auth.login_as(factories.make_user())
    location = start(client, course)
    response = client.post(location, content_type="multipart/form-data",
                           data={"q.duty": "o2", "q.council": ["Sakrebulo"] + ["z" * 900] * 400,
                                 "q.duty.extra": "x" * 1000, "action": "save", "sequence": "0"})
    assert response.status_code == 302
    answers, _sequence, _finished = saved_answers(app, location)
    assert answers == {"duty": ["b"], "council": ["Sakrebulo"]}


def test_an_autosave_after_the_time_limit_says_it_was_not_taken(client, auth, factories, app):
    course = make_quiz(factories, app, settings={"time_limit": 10})
    auth.login_as(factories.make_user(locale="ka"))
    with freeze_time(None) as frozen:
        location = start(client, course)
        assert answer(client, location, duty="a", council="in time", action="save").status_code == 302
        frozen.tick(timedelta(minutes=11))
        response = client.post(location, headers=JSON, data={"q.duty": "o2", "q.council": "Sakrebulo",
                                                             "action": "save", "sequence": "1"})
        assert response.status_code == 409
        assert response.json["saved"] is False and response.json["error"] == "time_up"
        assert response.json["message"].startswith("დროის ლიმიტი ამოიწურა")
        assert response.json["result"] == location + "/result"
        answers, _sequence, finished = saved_answers(app, location)
        assert finished and answers["council"] == ["in time"]  # graded with what came in time


def test_a_form_save_after_the_time_limit_says_so_on_the_result_page(client, auth, factories, app):
    course = make_quiz(factories, app, settings={"time_limit": 10})
    auth.login_as(factories.make_user())
    with freeze_time(None) as frozen:
        location = start(client, course)
        frozen.tick(timedelta(minutes=11))
        response = answer(client, location, duty="b", council="Sakrebulo", action="save", sequence=0)
        assert response.status_code == 302 and response.headers["Location"].endswith("/result")
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "The time limit has passed: these answers were not saved." in page
        assert "Your answers are saved." not in page
        answers, _sequence, finished = saved_answers(app, location)
        assert finished and answers == {}
