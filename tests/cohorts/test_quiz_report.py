"""The quiz report by cohort (issue 11, finding 7): a trainer's report covers the learners of
the cohorts they train; an admin's covers everybody, with a cohort filter."""
from __future__ import annotations

import pytest

from tests.cohorts.conftest import make_cohort
from tests.quizzes.test_attempt_routes import answer, make_quiz, start


@pytest.fixture
def classes(app, client, auth, factories):
    """One quiz course in two cohorts, and a learner outside any; each types their own answer."""
    course = make_quiz(factories, app)
    people = {key: factories.make_user(name=key) for key in (
        "trainer1", "trainer2", "learner1", "learner2", "learner3", "loner", "mentor1")}
    people["admin"] = factories.make_admin()
    cohort1 = make_cohort(app, name="Cohort one", courses=[course], trainers=[people["trainer1"]],
                          mentors=[people["mentor1"]], learners=[people["learner1"], people["learner2"]])
    cohort2 = make_cohort(app, name="Cohort two", courses=[course], trainers=[people["trainer2"]],
                          learners=[people["learner3"]])
    for key, typed in (("learner1", "TYPED-BY-L1"), ("learner2", "TYPED-BY-L2"), ("learner3", "TYPED-BY-L3"),
                       ("loner", "TYPED-BY-LONER")):
        auth.login_as(people[key])
        answer(client, start(client, course), duty="a", council=typed)
        auth.logout()
    return course, people, cohort1, cohort2


def report(client, auth, person, course, query: str = ""):
    auth.login_as(person)
    response = client.get(f"/courses/{course.slug}/item2/report{query}")
    auth.logout()
    return response.status_code, response.get_data(as_text=True)


TYPED = ("TYPED-BY-L1", "TYPED-BY-L2", "TYPED-BY-L3", "TYPED-BY-LONER")


def shown(page: str) -> set[str]:
    return {typed for typed in TYPED if typed in page}


def test_a_trainers_report_covers_their_cohorts_learners_only(client, auth, classes):
    course, people, _cohort1, _cohort2 = classes
    status, page = report(client, auth, people["trainer2"], course)
    assert status == 200
    assert shown(page) == {"TYPED-BY-L3"}
    assert "Attempts: 1" in page and "Learners: 1" in page
    status, page = report(client, auth, people["trainer1"], course)
    assert shown(page) == {"TYPED-BY-L1", "TYPED-BY-L2"}
    assert "Attempts: 2" in page and "Learners: 2" in page


def test_a_trainer_cannot_pick_another_cohort(client, auth, classes):
    course, people, cohort1, cohort2 = classes
    assert report(client, auth, people["trainer2"], course, f"?cohort={cohort1}")[0] == 404
    status, page = report(client, auth, people["trainer2"], course, f"?cohort={cohort2}")
    assert status == 200 and shown(page) == {"TYPED-BY-L3"}


def test_an_admins_report_covers_everybody_and_filters_by_cohort(client, auth, classes):
    course, people, cohort1, cohort2 = classes
    status, page = report(client, auth, people["admin"], course)
    # (The page lists the three most common wrong answers of the four.)
    assert status == 200 and len(shown(page)) == 3
    assert "Attempts: 4" in page and "Learners: 4" in page
    assert f'<option value="{cohort1}">Cohort one</option>' in page and "Cohort two" in page
    status, page = report(client, auth, people["admin"], course, f"?cohort={cohort1}")
    assert shown(page) == {"TYPED-BY-L1", "TYPED-BY-L2"} and "Attempts: 2" in page
    status, page = report(client, auth, people["admin"], course, f"?cohort={cohort2}")
    assert shown(page) == {"TYPED-BY-L3"}
    for bad in ("?cohort=999999", "?cohort=abc", "?cohort=%C2%B2", f"?cohort={2**70}"):
        assert report(client, auth, people["admin"], course, bad)[0] == 404


@pytest.mark.parametrize("who", ["learner1", "mentor1", "loner"])
def test_learners_and_mentors_get_no_report(client, auth, classes, who):
    course, people, _cohort1, _cohort2 = classes
    assert report(client, auth, people[who], course)[0] == 403
