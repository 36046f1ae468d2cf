"""Cohort boundaries (issue 11, finding 1): a trainer or mentor reaches only work done in their
own cohort's courses within that cohort, and pulling an existing account into a cohort is told
to that person and exposes none of their other cohorts' work."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from app.assignments import services as assignment_services
from app.assignments.models import SUBMITTED, Attachment, MentorLink, Review, Revision, Submission
from app.notify.models import Notice
from app.auth.models import User
from app.certificates.models import Certificate
from app.cohorts.models import LEARNER, MENTOR, TRAINER, Membership
from app.learning.models import Progress
from app.core.authz import can
from app.extensions import db
from app.notify.models import OutboxMessage
from tests.cohorts.conftest import make_cohort

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Scene:
    course: Any
    cohort1: int
    cohort2: int
    people: dict[str, Any]

    def __getattr__(self, name: str):
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture
def scene(app, factories) -> Scene:
    """Two cohorts sharing one course (a single assignment, so approving it completes the course).

    Cohort 1: trainer1, mentor1 (linked to learner1 there), mentor_spare (not linked), learner1,
    learner2. Cohort 2: trainer2. "accomplice" has an account and no cohort yet.
    """
    course = factories.make_course(items=("assignment",))
    people = {key: factories.make_user(name=name) for key, name in (
        ("trainer1", "Tamar Trainer"), ("trainer2", "Trainer Two"), ("mentor1", "Giorgi Mentor"),
        ("mentor_spare", "Spare Mentor"), ("learner1", "Nino Learner"), ("learner2", "Aygün Learner"),
        ("accomplice", "Accomplice"))}
    people["admin"] = factories.make_admin(name="Admin")
    cohort1 = make_cohort(app, name="Cohort one", courses=[course], trainers=[people["trainer1"]],
                          mentors=[people["mentor1"], people["mentor_spare"]],
                          learners=[people["learner1"], people["learner2"]])
    cohort2 = make_cohort(app, name="Cohort two", courses=[course], trainers=[people["trainer2"]])
    with app.app_context():
        db.session.add(MentorLink(mentor_id=people["mentor1"].id, learner_id=people["learner1"].id,
                                  cohort_id=cohort1))
        db.session.commit()
    return Scene(course=course, cohort1=cohort1, cohort2=cohort2, people=people)


def hand_in(client, auth, scene: Scene, learner) -> tuple[int, int]:
    """The learner writes, attaches a PDF and submits, over HTTP. Returns (submission, attachment)."""
    auth.login_as(learner)
    url = f"/courses/{scene.course.slug}/item1/work"
    response = client.post(url, data={"body": "My confidential plan", "action": "save",
                                      "files": [(io.BytesIO(PDF), "plan.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    with client.application.app_context():
        submission_id = db.session.scalar(select(Submission.id).where(Submission.user_id == learner.id))
        attachment_id = db.session.scalar(select(Attachment.id).where(Attachment.submission_id == submission_id))
    assert client.post(f"/assignments/{submission_id}/submit",
                       data={"form_token": f"token-{learner.id:020d}"}).status_code == 302
    auth.logout()
    return submission_id, attachment_id


def approve_form(app, submission_id: int) -> dict[str, Any]:
    with app.app_context():
        revision_id = db.session.scalar(select(Revision.id).where(Revision.submission_id == submission_id)
                                        .order_by(Revision.number.desc()))
        version = db.session.get(Submission, submission_id).version
    return {"revision_id": revision_id, "version": version, "score-participation": "2",
            "score-transparency": "2", "feedback": "Approved by me", "decision": "approve"}


def status(client, url: str) -> int:
    """GET the URL and close the response (a file download is a stream)."""
    response = client.get(url)
    response.close()
    return response.status_code


def preview_page(client, cohort_id: int, text: str) -> str:
    response = client.post(f"/cohorts/{cohort_id}/enrol", data={"text": text})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def enrol_by_csv(client, cohort_id: int, text: str) -> None:
    page = preview_page(client, cohort_id, text)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(f"/cohorts/{cohort_id}/enrol/confirm", data={"token": token}).status_code == 302


def learner_state(app, scene: Scene, submission_id: int) -> dict[str, Any]:
    with app.app_context():
        learner_id = scene.learner1.id
        return {
            "state": db.session.get(Submission, submission_id).state,
            "reviews": db.session.scalar(select(func.count(Review.id))),
            "progress": db.session.scalar(select(func.count(Progress.id)).where(Progress.user_id == learner_id)),
            "certificates": db.session.scalar(select(func.count(Certificate.id)).where(
                Certificate.user_id == learner_id)),
        }


# -- the attack of the finding, over HTTP -----------------------------------------------------------

def test_a_trainer_who_pulls_a_learner_in_cannot_read_or_approve_their_other_cohorts_work(
        app, client, auth, scene):
    submission_id, attachment_id = hand_in(client, auth, scene, scene.learner1)

    # trainer2 enrols learner1 (cohort 1) and a mentor of their choosing by CSV, then links them.
    auth.login_as(scene.trainer2)
    enrol_by_csv(client, scene.cohort2, f"name,email,role\nSomeone,{scene.learner1.email},learner\n"
                                        f"Helper,{scene.accomplice.email},mentor\n")
    response = client.post(f"/cohorts/{scene.cohort2}/mentors", data={
        "learner_email": scene.learner1.email, "mentor_id": str(scene.accomplice.id)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(MentorLink.cohort_id).where(
            MentorLink.mentor_id == scene.accomplice.id, MentorLink.ended_at.is_(None))) == scene.cohort2
    # trainer2 cannot read the cohort-1 work, its file, nor find it on the learner's page.
    for url in (f"/review/{submission_id}", f"/files/{attachment_id}", f"/assignments/{submission_id}"):
        assert status(client, url) == 404, url
    page = client.get(f"/cohorts/{scene.cohort2}/learners/{scene.learner1.id}").get_data(as_text=True)
    assert f"/review/{submission_id}" not in page and "No assignment started yet." in page
    rubric = client.get(f"/cohorts/{scene.cohort2}/exports/rubric.csv").get_data(as_text=True)
    assert scene.learner1.email not in rubric
    auth.logout()

    # The mentor they chose cannot see it, find it in their queue, nor approve it.
    auth.login_as(scene.accomplice)
    for url in (f"/review/{submission_id}", f"/files/{attachment_id}"):
        assert status(client, url) == 404, url
    assert "Nino Learner" not in client.get("/review").get_data(as_text=True)
    before = learner_state(app, scene, submission_id)
    response = client.post(f"/review/{submission_id}", data=approve_form(app, submission_id))
    assert response.status_code in (403, 404)
    assert client.post(f"/review/{submission_id}/claim").status_code in (403, 404)
    assert learner_state(app, scene, submission_id) == before == {
        "state": SUBMITTED, "reviews": 0, "progress": 0, "certificates": 0}
    auth.logout()

    # learner1 was told, in the app and by e-mail, who added them to which cohort.
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.user_id == scene.learner1.id,
                                                        Notice.kind == "cohort_added"))
        assert notice is not None
        assert notice.payload == {"cohort": "Cohort two", "role": LEARNER, "by": "Trainer Two"}
        mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == scene.learner1.email))
        assert mail.template == "cohort_added" and mail.payload["cohort"] == "Cohort two"
    auth.login_as(scene.learner1)
    notices = client.get("/notices").get_data(as_text=True)
    assert "Trainer Two added you to the cohort “Cohort two” as a learner." in notices
    auth.logout()

    # The learner's own mentor, in cohort 1, still reviews it, and that approval counts.
    auth.login_as(scene.mentor1)
    assert client.post(f"/review/{submission_id}", data=approve_form(app, submission_id)).status_code == 302
    assert learner_state(app, scene, submission_id) == {
        "state": "approved", "reviews": 1, "progress": 1, "certificates": 1}


# -- per role, over HTTP ------------------------------------------------------------------------------

def join(app, cohort_id: int, user, role: str) -> None:
    with app.app_context():
        db.session.add(Membership(cohort_id=cohort_id, user_id=user.id, role=role))
        db.session.commit()


def link(app, cohort_id: int | None, mentor, learner) -> None:
    with app.app_context():
        db.session.add(MentorLink(mentor_id=mentor.id, learner_id=learner.id, cohort_id=cohort_id))
        db.session.commit()


# (who, GET /review, GET /files, GET /assignments, POST /review with an approval, approved?)
ROLES = [
    ("learner1", 200, 200, 302, 403, False),  # the author: reads, never reviews their own work
    ("learner2", 404, 404, 404, 403, False),  # another learner
    ("mentor_spare", 404, 404, 404, 403, False),  # a mentor of the cohort not assigned to learner1
    ("accomplice", 404, 404, 404, 403, False),  # a mentor assigned to learner1 in another cohort
    ("trainer2", 404, 404, 404, 403, False),  # another cohort's trainer, learner1 in their cohort too
    ("trainer1", 200, 200, 302, 403, False),  # the cohort's trainer: reads; mentors review
    ("mentor1", 200, 200, 302, 302, True),  # the mentor assigned in the work's cohort
    ("admin", 200, 200, 302, 302, True),
]


@pytest.mark.parametrize("who, review, files, show, post, approved", ROLES, ids=[r[0] for r in ROLES])
def test_who_reaches_a_submission(app, client, auth, scene, who, review, files, show, post, approved):
    submission_id, attachment_id = hand_in(client, auth, scene, scene.learner1)
    # learner1 is also in cohort 2 now, where accomplice mentors them: none of it reaches cohort 1's work.
    join(app, scene.cohort2, scene.learner1, LEARNER)
    join(app, scene.cohort2, scene.accomplice, MENTOR)
    link(app, scene.cohort2, scene.accomplice, scene.learner1)
    auth.login_as(getattr(scene, who))
    assert status(client, f"/review/{submission_id}") == review
    assert status(client, f"/files/{attachment_id}") == files
    assert status(client, f"/assignments/{submission_id}") == show
    # Only the mentor assigned in the work's cohort has it in their review queue.
    assert ("Nino Learner" in client.get("/review").get_data(as_text=True)) is (who == "mentor1")
    assert client.post(f"/review/{submission_id}", data=approve_form(app, submission_id)).status_code == post
    assert learner_state(app, scene, submission_id) == (
        {"state": "approved", "reviews": 1, "progress": 1, "certificates": 1} if approved
        else {"state": SUBMITTED, "reviews": 0, "progress": 0, "certificates": 0})


@pytest.mark.parametrize("who, view, review", [
    ("learner1", True, False), ("learner2", False, False), ("mentor_spare", False, False),
    ("accomplice", False, False), ("trainer2", False, False), ("trainer1", True, False),
    ("mentor1", True, True), ("admin", True, True)])
def test_the_policies_per_role(app, client, auth, scene, who, view, review):
    submission_id, _attachment_id = hand_in(client, auth, scene, scene.learner1)
    join(app, scene.cohort2, scene.learner1, LEARNER)
    join(app, scene.cohort2, scene.accomplice, MENTOR)
    link(app, scene.cohort2, scene.accomplice, scene.learner1)
    with app.app_context():
        user, submission = db.session.get(User, getattr(scene, who).id), db.session.get(Submission, submission_id)
        assert submission.cohort_id == scene.cohort1
        assert (can(user, "submission.view", submission), can(user, "submission.review", submission)) == (view, review)


# -- which cohort work belongs to --------------------------------------------------------------------

def test_work_stays_in_the_cohort_it_was_done_in_and_moves_only_when_that_ends(app, client, auth, scene, factories):
    # learner1 joins cohort 2 (which shares the course) after cohort 1: the work is cohort 1's.
    join(app, scene.cohort2, scene.learner1, LEARNER)
    join(app, scene.cohort2, scene.accomplice, MENTOR)
    link(app, scene.cohort2, scene.accomplice, scene.learner1)
    submission_id, _attachment_id = hand_in(client, auth, scene, scene.learner1)
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        assert submission.cohort_id == scene.cohort1
        assert assignment_services.scope.mentor_ids_of(submission) == {scene.mentor1.id}
        # Only the mentor in the work's cohort was told of it.
        told = set(db.session.scalars(select(Notice.user_id).where(Notice.kind == "submission_received")))
        assert told == {scene.mentor1.id}
    # cohort 1's trainer asks for changes... no: its mentor does; then cohort 1 lets learner1 go.
    auth.login_as(scene.mentor1)
    form = {**approve_form(app, submission_id), "decision": "request_changes", "feedback": "Please revise"}
    assert client.post(f"/review/{submission_id}", data=form).status_code == 302
    auth.logout()
    auth.login_as(scene.trainer1)
    with app.app_context():
        membership_id = db.session.scalar(select(Membership.id).where(
            Membership.cohort_id == scene.cohort1, Membership.user_id == scene.learner1.id))
    assert client.post(f"/cohorts/{scene.cohort1}/members/{membership_id}/remove").status_code == 302
    auth.logout()
    # The revised work is handed in through the cohort learner1 takes the course in now.
    auth.login_as(scene.learner1)
    assert client.post(f"/assignments/{submission_id}/submit", data={"form_token": "t" * 30}).status_code == 302
    auth.logout()
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        assert (submission.state, submission.cohort_id) == (SUBMITTED, scene.cohort2)
        assert assignment_services.scope.mentor_ids_of(submission) == {scene.accomplice.id}
        trainer1, trainer2 = (db.session.get(User, p.id) for p in (scene.trainer1, scene.trainer2))
        assert not can(trainer1, "submission.view", submission) and can(trainer2, "submission.view", submission)


def test_a_course_only_the_second_cohort_has_is_that_cohorts_work(app, client, auth, scene, factories):
    extra = factories.make_course(items=("assignment",))
    with app.app_context():
        from app.cohorts.models import CohortCourse

        db.session.add(CohortCourse(cohort_id=scene.cohort2, course_id=extra.id))
        db.session.commit()
    join(app, scene.cohort2, scene.learner1, LEARNER)
    auth.login_as(scene.learner1)
    client.post(f"/courses/{extra.slug}/item1/work", data={"body": "Work", "action": "save"})
    with app.app_context():
        assert db.session.scalar(select(Submission.cohort_id).where(Submission.item_id == extra.items[0].id)) \
            == scene.cohort2


def test_work_outside_any_cohort_is_reached_by_links_outside_any_cohort_only(app, client, auth, scene, factories):
    loner, admin_linked = factories.make_user(name="Loner"), factories.make_user(name="Admin-linked mentor")
    link(app, None, admin_linked, loner)
    # A link without a cohort does not reach learner1's cohort work either.
    link(app, None, admin_linked, scene.learner1)
    submission_id, _ = hand_in(client, auth, scene, loner)
    cohort_work, _ = hand_in(client, auth, scene, scene.learner1)
    with app.app_context():
        submission, other = db.session.get(Submission, submission_id), db.session.get(Submission, cohort_work)
        assert submission.cohort_id is None and other.cohort_id == scene.cohort1
        mentor = db.session.get(User, admin_linked.id)
        assert can(mentor, "submission.review", submission) and not can(mentor, "submission.view", other)
        for person in (scene.trainer1, scene.trainer2, scene.mentor1):
            assert not can(db.session.get(User, person.id), "submission.view", submission)


def test_a_course_taken_out_of_the_cohort_takes_the_reach_with_it(app, client, auth, scene):
    submission_id, _ = hand_in(client, auth, scene, scene.learner1)
    with app.app_context():
        from app.cohorts.models import Cohort
        from app.cohorts.services import set_courses

        set_courses(db.session.get(User, scene.admin.id), db.session.get(Cohort, scene.cohort1), [])
        db.session.commit()
        submission = db.session.get(Submission, submission_id)
        for person in (scene.trainer1, scene.mentor1):
            assert not can(db.session.get(User, person.id), "submission.view", submission)


# -- enrolling people who have an account ------------------------------------------------------------

def test_the_preview_does_not_tell_a_trainer_who_has_an_account(app, client, auth, scene):
    # trainer2 also trains cohort 3, whose learner they can see anyway.
    cohort3 = make_cohort(app, name="Cohort three", trainers=[scene.trainer2])
    join(app, cohort3, scene.learner2, LEARNER)
    text = (f"name,email\nA,{scene.learner1.email}\nB,nobody.yet@example.org\nC,{scene.learner2.email}\n"
            f"D,{scene.admin.email}\n")
    auth.login_as(scene.trainer2)
    page = preview_page(client, scene.cohort2, text)
    rows = dict(re.findall(r"<td[^>]*>([^<]+@example\.org)</td>.*?<td[^>]*>([^<]*)</td></tr>", page, re.S))
    unseen = "invited, or told by e-mail if they have an account"
    assert rows == {scene.learner1.email: unseen, "nobody.yet@example.org": unseen,
                    scene.learner2.email: "exists", scene.admin.email: unseen}
    assert "<strong>3</strong> people to invite, or to add if they have an account" in page
    assert "<strong>1</strong> existing accounts to add" in page
    assert "new people to invite" not in page
    auth.logout()
    # An admin sees every account anyway.
    auth.login_as(scene.admin)
    page = preview_page(client, scene.cohort2, text)
    rows = dict(re.findall(r"<td[^>]*>([^<]+@example\.org)</td>.*?<td[^>]*>([^<]*)</td></tr>", page, re.S))
    assert rows == {scene.learner1.email: "exists", "nobody.yet@example.org": "new: will be invited",
                    scene.learner2.email: "exists", scene.admin.email: "exists"}


def test_appointing_a_trainer_tells_them(app, client, auth, scene):
    auth.login_as(scene.admin)
    assert client.post(f"/cohorts/{scene.cohort2}/trainers", data={"email": scene.mentor1.email}).status_code == 302
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.user_id == scene.mentor1.id))
        assert (notice.kind, notice.payload["role"], notice.link) == ("cohort_added", TRAINER, "/cohorts")
        assert db.session.scalar(select(OutboxMessage.template).where(
            OutboxMessage.to_address == scene.mentor1.email)) == "cohort_added"


@pytest.mark.parametrize("locale, expected", [
    ("en", "Trainer Two added you to the cohort “Cohort two” as a learner."),
    ("ka", "Trainer Two"), ("az", "Trainer Two"), ("hy", "Trainer Two"), ("ru", "Trainer Two")])
def test_the_e_mail_is_written_in_the_persons_language(app, scene, locale, expected):
    from flask_babel import force_locale

    from app.notify.services import SUBJECTS, build_message, queue_email

    with app.test_request_context():
        message = queue_email("someone@example.org", "cohort_added", locale, name="Nino", cohort="Cohort two",
                              role=LEARNER, by="Trainer Two", link="http://nergi.test/")
        email = build_message(message)
        text = email.get_body(("plain",)).get_content()
        assert expected in text and "Cohort two" in text and "http://nergi.test/" in text
        with force_locale("en"):
            english = str(SUBJECTS["cohort_added"])
        assert (email["Subject"] == english) is (locale == "en")
        if locale != "en":
            assert "added you to the cohort" not in text
        db.session.rollback()
