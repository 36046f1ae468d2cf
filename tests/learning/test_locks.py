"""Locked items refuse writes (issue 14): a quiz or an assignment that is not open yet (its date in
the learner's cohort, or items to finish first) refuses a direct POST with 403 and keeps nothing,
the page says why; offline replay refuses the same way; the outline marks locked and overdue items."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.assignments.models import Submission
from app.cohorts.models import CohortItemDate, ItemRelease
from app.content.models import Item
from app.extensions import db
from app.learning.models import Progress
from app.quizzes.models import QuizAttempt
from tests.cohorts.conftest import make_cohort
from tests.quizzes.test_attempt_routes import attempt_id, make_quiz, start

TODAY = date(2025, 6, 2)  # a Monday
NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)  # 13:00 in Tbilisi


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


def set_item(app, course, slug: str, **values) -> Item:
    with app.app_context():
        item = db.session.scalar(select(Item).where(Item.course_id == course.id, Item.slug == slug))
        for key, value in values.items():
            setattr(item, key, value)
        db.session.commit()
        return item.id


def set_dates(app, cohort_id: int, item_id: int, opens_on=None, due_on=None) -> None:
    with app.app_context():
        db.session.add(CohortItemDate(cohort_id=cohort_id, item_id=item_id, opens_on=opens_on, due_on=due_on))
        db.session.commit()


def count(app, model, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return db.session.scalar(query)


@pytest.fixture
def learner(factories):
    return factories.make_user(name="Nino Learner")


def test_a_quiz_not_open_yet_refuses_a_started_attempt_and_says_when(app, client, auth, factories, learner):
    course = make_quiz(factories, app)
    cohort_id = make_cohort(app, courses=[course], learners=[learner], starts_on=TODAY)
    quiz_id = set_item(app, course, "item2")
    set_dates(app, cohort_id, quiz_id, opens_on=TODAY + timedelta(days=7), due_on=TODAY + timedelta(days=13))
    auth.login_as(learner)
    response = client.post(f"/courses/{course.slug}/item2/attempts")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Not open yet" in page and "It opens on June 9, 2025" in page and "Due on June 15, 2025" in page
    assert count(app, QuizAttempt, user_id=learner.id) == 0
    # the item's own page says the same
    page = client.get(f"/courses/{course.slug}/item2").get_data(as_text=True)
    assert "It opens on June 9, 2025" in page
    # an early release for this learner opens it
    with app.app_context():
        db.session.add(ItemRelease(cohort_id=cohort_id, item_id=quiz_id, user_id=learner.id))
        db.session.commit()
    assert client.get(f"/courses/{course.slug}/item2").status_code == 200


def test_saving_answers_to_a_quiz_that_closed_again_is_refused(app, client, auth, factories, learner):
    """A started attempt whose quiz is locked again (its date moved) keeps nothing new."""
    course = make_quiz(factories, app)
    cohort_id = make_cohort(app, courses=[course], learners=[learner], starts_on=TODAY)
    auth.login_as(learner)
    location = start(client, course)
    quiz_id = set_item(app, course, "item2")
    set_dates(app, cohort_id, quiz_id, opens_on=TODAY + timedelta(days=1))
    response = client.post(location, data={"q.duty": "o1", "q.council": "x", "action": "save", "sequence": "0"})
    assert response.status_code == 403 and "Not open yet" in response.get_data(as_text=True)
    response = client.post(location, data={"q.duty": "o1", "action": "save", "sequence": "0"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 403 and response.json["error"] == "locked"
    submit = client.post(location, data={"q.duty": "o1", "action": "submit", "sequence": "0"})
    assert submit.status_code == 403
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id(location))
        assert attempt.answers == {} and attempt.sequence == 0 and not attempt.is_finished


def test_an_assignment_needing_other_items_refuses_work_and_lists_them(app, client, auth, factories, learner):
    course = factories.make_course(items=("lesson", "quiz", "assignment"))
    set_item(app, course, "item3", requires=["item1", "item2"])
    auth.login_as(learner)
    response = client.post(f"/courses/{course.slug}/item3/work", data={"body": "My answer", "version": "0"})
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "It opens as soon as you have finished the items below." in page
    assert f'href="/courses/{course.slug}/item1"' in page and f'href="/courses/{course.slug}/item2"' in page
    assert "mark the lesson as done" in page and "pass the quiz" in page
    assert count(app, Submission, user_id=learner.id) == 0
    # the outline marks it, in words
    outline = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "Locked: after Item 1 en, Item 2 en" in outline
    # finished requirements open it
    with app.app_context():
        for item in db.session.scalars(select(Item).where(Item.course_id == course.id, Item.slug != "item3")):
            db.session.add(Progress(user_id=learner.id, item_id=item.id))
        db.session.commit()
    response = client.post(f"/courses/{course.slug}/item3/work", data={"body": "My answer", "version": "0"})
    assert response.status_code in (200, 302)
    assert count(app, Submission, user_id=learner.id) == 1


def test_submitting_a_draft_of_a_locked_assignment_is_refused(app, client, auth, factories, learner):
    course = factories.make_course(items=("lesson", "assignment"))
    auth.login_as(learner)
    assert client.post(f"/courses/{course.slug}/item2/work",
                       data={"body": "Draft", "version": "0"}).status_code in (200, 302)
    set_item(app, course, "item2", requires=["item1"])
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.user_id == learner.id))
    response = client.post(f"/assignments/{submission.id}/submit", data={"form_token": uuid.uuid4().hex})
    assert response.status_code == 403 and "Finish these first" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Submission, submission.id).state == "draft"


def test_a_lesson_not_open_yet_cannot_be_marked_done(app, client, auth, factories, learner):
    course = factories.make_course(items=("lesson", "lesson"))
    cohort_id = make_cohort(app, courses=[course], learners=[learner], starts_on=TODAY)
    set_dates(app, cohort_id, set_item(app, course, "item2"), opens_on=TODAY + timedelta(days=3))
    auth.login_as(learner)
    response = client.post(f"/courses/{course.slug}/item2/done")
    assert response.status_code == 403 and "It opens on June 5, 2025" in response.get_data(as_text=True)
    assert count(app, Progress, user_id=learner.id) == 0


def offline(client, payload):
    return client.post("/offline/sync", json=payload, headers={"Idempotency-Key": str(uuid.uuid4())})


def test_offline_replay_is_refused_the_same_way(app, client, auth, factories, learner):
    course = factories.make_course(items=("lesson", "lesson", "assignment"))
    cohort_id = make_cohort(app, courses=[course], learners=[learner], starts_on=TODAY)
    set_dates(app, cohort_id, set_item(app, course, "item2"), opens_on=TODAY + timedelta(days=3))
    set_item(app, course, "item3", requires=["item1"])
    auth.login_as(learner)
    done = offline(client, {"kind": "done", "course": course.slug, "item": "item2"})
    assert done.status_code == 403 and done.json["error"] == "locked"
    assert "not open to you yet" in done.json["message"]
    draft = offline(client, {"kind": "draft", "course": course.slug, "item": "item3", "body": "Text", "version": 0})
    assert draft.status_code == 403 and draft.json["error"] == "locked"
    assert count(app, Progress, user_id=learner.id) == 0 and count(app, Submission, user_id=learner.id) == 0
    # the lesson that is open is still saved
    assert offline(client, {"kind": "done", "course": course.slug, "item": "item1"}).status_code == 200


def test_the_course_page_shows_dates_overdue_and_locks_in_words(app, client, auth, factories, learner):
    course = factories.make_course(items=("lesson", "quiz", "lesson"))
    cohort_id = make_cohort(app, courses=[course], learners=[learner], starts_on=TODAY - timedelta(days=14))
    ids = [set_item(app, course, f"item{n}") for n in (1, 2, 3)]
    set_dates(app, cohort_id, ids[0], opens_on=TODAY - timedelta(days=14), due_on=TODAY - timedelta(days=1))
    set_dates(app, cohort_id, ids[1], due_on=TODAY + timedelta(days=2))
    set_dates(app, cohort_id, ids[2], opens_on=TODAY + timedelta(days=5), due_on=TODAY + timedelta(days=12))
    auth.login_as(learner)
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "Opens May 19, 2025 · Due Jun 1, 2025 · <strong class=\"overdue-mark\">overdue</strong>" in page
    assert "Due Jun 4, 2025</span>" in page
    assert "Locked: opens Jun 7, 2025" in page and "Due Jun 14, 2025" in page
    assert 'class="lesson locked"' in page and "🔒" in page
    # "Continue" goes to the first open item not finished
    assert f'href="/courses/{course.slug}/item1">Start the course' in page
    client.post(f"/courses/{course.slug}/item1/done")
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert f'href="/courses/{course.slug}/item2">Continue where you left off' in page
    # in the learner's language
    with app.app_context():
        from app.auth.models import User

        db.session.get(User, learner.id).locale = "ru"
        db.session.commit()
    page = client.get(f"/courses/{course.slug}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "4 июн. 2025\u202fг." in page  # translations of "Due" come with the catalogues


def test_marking_a_lesson_done_goes_on_with_the_next_open_item(app, client, auth, factories, learner):
    course = factories.make_course(items=("lesson", "lesson", "lesson"))
    cohort_id = make_cohort(app, courses=[course], learners=[learner], starts_on=TODAY)
    set_dates(app, cohort_id, set_item(app, course, "item2"), opens_on=TODAY + timedelta(days=3))
    auth.login_as(learner)
    response = client.post(f"/courses/{course.slug}/item1/done")
    assert response.headers["Location"] == f"/courses/{course.slug}/item3"  # item2 is not open yet
    response = client.post(f"/courses/{course.slug}/item3/done")
    assert response.headers["Location"] == f"/courses/{course.slug}"  # nothing open is left
