"""The interface pass of issue 16 at the HTML level: rubric choices with a total, the error
summary first and focused, no "None" attributes, each role's work first, invitation language.
(Layout at 360 px is checked in a real browser: tests/e2e/test_phone.py.)"""
from __future__ import annotations

import io
import re

import html5lib
import pytest
from sqlalchemy import func, select

from app.assignments.models import Review, Revision, Submission
from app.cohorts.models import Cohort, Membership
from app.extensions import db
from tests.auth.test_passwords import deliver, link_from

NS = "{http://www.w3.org/1999/xhtml}"


def parse(body: str):
    return html5lib.parse(body)


@pytest.fixture
def submitted(client, app, auth, factories):
    """A learner's submitted assignment and their mentor: (course, learner, mentor, submission_id)."""
    course = factories.make_course(items=("lesson", "assignment"))
    learner = factories.make_user(name="Learner")
    mentor = factories.make_user(name="Mentor")
    factories.link_mentor(mentor, learner)
    auth.login_as(learner)
    client.post(f"/courses/{course.slug}/item2/work", data={"body": "My answer", "action": "save"})
    with app.app_context():
        submission_id = db.session.scalar(select(Submission.id))
    client.post(f"/assignments/{submission_id}/submit", data={"form_token": "token-" + "x" * 20})
    auth.logout()
    return course, learner, mentor, submission_id


def review_form(app, submission_id):
    with app.app_context():
        return {"revision_id": db.session.scalar(select(Revision.id)),
                "version": db.session.get(Submission, submission_id).version}


def test_rubric_levels_are_labelled_full_width_choices(client, auth, submitted):
    _course, _learner, mentor, submission_id = submitted
    auth.login_as(mentor)
    tree = parse(client.get(f"/review/{submission_id}").get_data(as_text=True))
    labels = [label for label in tree.iter(f"{NS}label") if "level" in (label.get("class") or "").split()]
    assert len(labels) >= 4
    for label in labels:
        [radio] = [i for i in label.iter(f"{NS}input") if i.get("type") == "radio"]
        assert label.get("for") == radio.get("id") and radio.get("id")
        assert " · " in "".join(label.itertext())  # "2 · Strong", then the description
    total = [o for o in tree.iter(f"{NS}output") if o.get("name") == "total"]
    assert total and total[0].text == "0"


def test_add_up_shows_the_total_without_scripts_and_sends_nothing(client, app, auth, submitted):
    _course, _learner, mentor, submission_id = submitted
    auth.login_as(mentor)
    response = client.post(f"/review/{submission_id}", data={
        **review_form(app, submission_id), "score-participation": "2", "score-transparency": "1",
        "feedback": "Half written", "decision": "total"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'<output name="total" data-total>3</output>', body)
    assert "Half written" in body and re.search(r'value="2"[^>]*checked', body)
    with app.app_context():
        assert db.session.scalar(select(func.count(Review.id))) == 0
        assert db.session.get(Submission, submission_id).state == "submitted"


def test_add_up_is_only_for_the_reviewer(client, app, auth, factories, submitted):
    _course, learner, _mentor, submission_id = submitted
    auth.login_as(learner)
    response = client.post(f"/review/{submission_id}", data={
        **review_form(app, submission_id), "score-participation": "2", "decision": "total"})
    assert response.status_code in (403, 404)


def test_a_review_error_is_first_and_focused(client, app, auth, submitted):
    _course, _learner, mentor, submission_id = submitted
    auth.login_as(mentor)
    body = client.post(f"/review/{submission_id}", data={
        **review_form(app, submission_id), "score-participation": "9", "score-transparency": "1",
        "feedback": "Kept", "decision": "approve"}).get_data(as_text=True)
    summary = re.search(r'<div class="error-summary"[^>]*>', body).group(0)
    assert "autofocus" in summary and 'tabindex="-1"' in summary
    assert body.index("error-summary") < body.index('class="card revision"')


def test_a_rejected_upload_puts_the_error_above_the_lesson_text(client, app, auth, factories):
    course = factories.make_course(items=("lesson", "assignment"))
    auth.login_as(factories.make_user())
    response = client.post(f"/courses/{course.slug}/item2/work", content_type="multipart/form-data",
                           data={"body": "Kept text", "action": "save",
                                 "files": [(io.BytesIO(b"<?php echo 1;"), "x.php")]})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Kept text" in body
    summary = re.search(r'<div class="error-summary"[^>]*>', body).group(0)
    assert "autofocus" in summary
    assert body.index("error-summary") < body.index('<div class="content">')
    assert 'href="#your-answer"' in body and 'id="your-answer"' in body


def test_changes_requested_links_to_the_feedback(client, app, auth, submitted):
    course, learner, mentor, submission_id = submitted
    auth.login_as(mentor)
    client.post(f"/review/{submission_id}", data={**review_form(app, submission_id), "score-participation": "0",
                                                   "score-transparency": "0", "feedback": "More, please",
                                                   "decision": "request_changes"})
    auth.logout()
    auth.login_as(learner)
    body = client.get(f"/courses/{course.slug}/item2").get_data(as_text=True)
    # The status links to the mentor's latest feedback, shown at the top of the page (issue 14).
    link = body.index('href="#feedback"')
    assert link < body.index('id="feedback"') < body.index("More, please") < body.index('id="your-answer"')


@pytest.mark.parametrize("path", ["/login", "/forgot", "/admin/users", "/profile"])
def test_no_attribute_is_rendered_as_none(client, auth, factories, path):
    if path != "/login" and path != "/forgot":
        auth.login_as(factories.make_admin())
    response = client.get(path) if path != "/admin/users" else client.post(path, data={"email": "bad"})
    body = response.get_data(as_text=True)
    assert '="None"' not in body
    assert "aria-describedby" in body or path in ("/forgot", "/profile", "/login")


def test_login_with_errors_describes_fields_without_none(client, factories):
    body = client.post("/login", data={"email": "", "password": ""}).get_data(as_text=True)
    assert '="None"' not in body and 'autocomplete="username"' in body


def test_mentor_home_shows_reviews_first(client, auth, submitted):
    _course, _learner, mentor, submission_id = submitted
    auth.login_as(mentor)
    body = client.get("/").get_data(as_text=True)
    assert f"/review/{submission_id}" in body
    assert body.index("Work waiting for your review") < body.index("Your courses")
    assert "You are not enrolled in a course yet." not in body


def test_trainer_home_shows_their_cohorts_first(client, app, auth, factories):
    trainer = factories.make_user(name="Trainer")
    with app.app_context():
        mine, other = Cohort(name="Marneuli spring"), Cohort(name="Someone else's")
        db.session.add_all([mine, other])
        db.session.flush()
        db.session.add(Membership(cohort_id=mine.id, user_id=trainer.id, role="trainer"))
        db.session.commit()
        mine_id = mine.id
    auth.login_as(trainer)
    body = client.get("/").get_data(as_text=True)
    assert f"/cohorts/{mine_id}" in body and "Marneuli spring" in body and "Someone else" not in body
    assert body.index("Your cohorts") < body.index("Your courses")


def test_learner_home_is_unchanged(client, auth, factories):
    auth.login_as(factories.make_user())
    body = client.get("/").get_data(as_text=True)
    assert "Your cohorts" not in body and "Work waiting for your review" not in body
    assert "You are not enrolled in a course yet." in body


def test_invitation_page_is_in_the_invitations_language(client, app, auth, factories, smtp_server):
    auth.login_as(factories.make_admin())
    client.post("/admin/users", data={"email": "aysel@example.org", "locale": "az"})
    auth.logout()
    deliver(app)
    [message] = smtp_server.wait_for(1)
    body = client.get(link_from(message), headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="az">' in body
    assert "Skip to content" not in body


def test_a_new_version_starts_from_the_previous_scores(client, app, auth, submitted):
    course, learner, mentor, submission_id = submitted
    auth.login_as(mentor)
    client.post(f"/review/{submission_id}", data={**review_form(app, submission_id), "score-participation": "2",
                                                   "score-transparency": "1", "feedback": "Nearly",
                                                   "decision": "request_changes"})
    auth.logout()
    auth.login_as(learner)
    client.post(f"/courses/{course.slug}/item2/work", data={"body": "Second try", "action": "save",
                                                             "version": "0"})
    with app.app_context():
        version = db.session.get(Submission, submission_id).version
    client.post(f"/courses/{course.slug}/item2/work", data={"body": "Second try", "action": "save", "version": version})
    client.post(f"/assignments/{submission_id}/submit", data={"form_token": "token-" + "y" * 20})
    auth.logout()
    auth.login_as(mentor)
    body = client.get(f"/review/{submission_id}").get_data(as_text=True)
    assert "the scores version 1 got" in body and body.count("(from version 1)") == 2
    assert re.search(r'name="score-participation" value="2"[^>]*checked', body)
    assert re.search(r'name="score-transparency" value="1"[^>]*checked', body)
    assert re.search(r'<output name="total" data-total>3</output>', body)
