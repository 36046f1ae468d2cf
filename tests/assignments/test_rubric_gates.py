"""A rubric criterion's required level (issue 13): below it no total approves the work; the
gate is checked by `courses check`, shown to learners and mentors, and enforced in the service."""
from __future__ import annotations

import copy

from sqlalchemy import select

from app.assignments.models import APPROVED, CHANGES_REQUESTED, Review, Revision, Submission
from app.content.models import ItemTranslation
from app.extensions import db
from tests.assignments.test_assignments import count, submit, work_url
from tests.support.factories import ASSIGNMENT_DATA


def gate_transparency(app, course, *, required=1, pass_points=2):
    """Make the assignment's transparency criterion a gate at the "Partial" level (1 point)."""
    data = copy.deepcopy(ASSIGNMENT_DATA)
    data["meta"]["pass_points"] = pass_points
    data["rubric"][1]["required_level"] = required
    with app.app_context():
        for translation in db.session.scalars(select(ItemTranslation).where(
                ItemTranslation.item_id == course.items[1].id)):
            translation.data = data
        db.session.commit()


def review_form(app, submission_id, **scores):
    with app.app_context():
        revision_id = db.session.scalar(select(Revision.id).where(Revision.submission_id == submission_id))
        version = db.session.get(Submission, submission_id).version
    return {"revision_id": revision_id, "version": version, "feedback": "Names a private person",
            **{f"score-{key}": str(value) for key, value in scores.items()}}


def test_a_total_above_the_pass_mark_cannot_approve_below_a_gate(client, app, auth, setup):
    course, learner, mentor = setup
    gate_transparency(app, course)
    auth.login_as(learner)
    _response, submission_id = submit(client, app, course)
    auth.logout()
    auth.login_as(mentor)
    page = client.get(f"/review/{submission_id}").get_data(as_text=True)
    assert "Needed to approve: at least 1 · Partial" in page

    form = review_form(app, submission_id, participation=2, transparency=0)  # 2 of 4: pass mark met
    response = client.post(f"/review/{submission_id}", data={**form, "decision": "approve"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "“Transparency” is below the level needed to approve (1 · Partial)" in body
    assert "Names a private person" in body  # the mentor's feedback is kept
    assert count(app, Review) == 0
    with app.app_context():
        assert db.session.get(Submission, submission_id).state != APPROVED

    # Asking for changes at the same scores is what the mentor can do.
    response = client.post(f"/review/{submission_id}", data={**form, "decision": "request_changes"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Submission, submission_id).state == CHANGES_REQUESTED


def test_at_the_gate_the_work_is_approved(client, app, auth, setup):
    course, learner, mentor = setup
    gate_transparency(app, course)
    auth.login_as(learner)
    _response, submission_id = submit(client, app, course)
    auth.logout()
    auth.login_as(mentor)
    form = review_form(app, submission_id, participation=2, transparency=1)
    assert client.post(f"/review/{submission_id}", data={**form, "decision": "approve"}).status_code == 302
    with app.app_context():
        assert db.session.get(Submission, submission_id).state == APPROVED
        assert db.session.scalar(select(Review.total)) == 3


def test_the_learner_sees_the_gate_before_writing(client, app, auth, setup):
    course, learner, _mentor = setup
    gate_transparency(app, course)
    auth.login_as(learner)
    body = client.get(work_url(course)).get_data(as_text=True)
    assert "Needed to approve: at least 1 · Partial" in body
    # and in Georgian
    client.post("/language", data={"lang": "ka"})
    body = client.get(work_url(course)).get_data(as_text=True)
    assert "Needed to approve" not in body and "1 · Partial" in body
