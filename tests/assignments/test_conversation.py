"""The conversation under a submission's feedback (issue 14, part 5): who reads and writes it,
what is refused and kept, notices and e-mails to the other side, and the mentor's latest feedback
at the top of the learner's page."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.assignments import conversation
from app.assignments.models import MentorLink, Review, Revision, Submission, SubmissionMessage
from app.auth.models import User
from app.core import worker
from app.extensions import db
from app.notify.models import Notice, OutboxMessage
from tests.assignments.test_assignments import submit, work_url
from tests.cohorts.conftest import make_cohort
from tests.support.concurrency import client_with_session, race
from tests.support.smtp import text_body


@dataclass
class World:
    course: object
    submission_id: int
    cohort_id: int
    people: dict


@pytest.fixture
def world(app, client, auth, factories) -> World:
    """A cohort with its trainer, two mentors (one linked to the learner), two learners; another
    cohort with its own trainer; the learner's work handed in and sent back with feedback."""
    course = factories.make_course(items=("lesson", "assignment"), languages=("en", "ka"))
    people = {key: factories.make_user(name=name, locale=locale) for key, name, locale in (
        ("learner", "Nino Learner", "en"), ("other_learner", "Aygün Learner", "en"),
        ("mentor", "Giorgi Mentor", "ka"), ("other_mentor", "Leyla Mentor", "en"),
        ("trainer", "Tamar Trainer", "en"), ("other_trainer", "Other Trainer", "en"))}
    people["admin"] = factories.make_admin(name="Admin")
    cohort_id = make_cohort(app, courses=[course], trainers=[people["trainer"]],
                            mentors=[people["mentor"], people["other_mentor"]],
                            learners=[people["learner"], people["other_learner"]])
    make_cohort(app, name="Another cohort", courses=[course], trainers=[people["other_trainer"]])
    with app.app_context():
        db.session.add(MentorLink(mentor_id=people["mentor"].id, learner_id=people["learner"].id,
                                  cohort_id=cohort_id))
        db.session.commit()
    auth.login_as(people["learner"])
    _response, submission_id = submit(client, app, course, "My first plan")
    auth.logout()
    auth.login_as(people["mentor"])
    send_back(client, app, submission_id, "Say more about **who** takes part.")
    auth.logout()
    with app.app_context():
        db.session.execute(OutboxMessage.__table__.delete())
        db.session.commit()
    return World(course=course, submission_id=submission_id, cohort_id=cohort_id, people=people)


def send_back(client, app, submission_id, feedback):
    with app.app_context():
        revision_id = db.session.scalar(select(Revision.id).where(Revision.submission_id == submission_id)
                                        .order_by(Revision.number.desc()))
        version = db.session.get(Submission, submission_id).version
    response = client.post(f"/review/{submission_id}", data={
        "revision_id": revision_id, "version": version, "score-participation": "2",
        "score-transparency": "0", "feedback": feedback, "decision": "request_changes"})
    assert response.status_code == 302


def seen_on(page: str) -> int:
    return int(re.search(r'name="seen" value="(\d+)"', page).group(1))


def post(client, submission_id, text, seen=0):
    return client.post(f"/assignments/{submission_id}/messages", data={"message": text, "seen": str(seen)})


def messages(app, submission_id) -> list[SubmissionMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(SubmissionMessage).where(
            SubmissionMessage.submission_id == submission_id).order_by(SubmissionMessage.id)))
        db.session.expunge_all()
        return rows


def textarea(page: str) -> str:
    match = re.search(r'<textarea id="message"[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(match.group(1))


# -- the whole exchange ---------------------------------------------------------------------------

def test_learner_replies_mentor_answers_with_notices_and_emails(app, client, auth, world, smtp_server):
    learner, mentor = world.people["learner"], world.people["mentor"]
    auth.login_as(learner)
    page = client.get(work_url(world.course)).get_data(as_text=True)
    # The mentor's latest feedback is at the top, above the work form, with a link to the thread.
    assert page.index("Your mentor's feedback") < page.index('id="your-answer"')
    top = page[page.index('id="feedback"'):page.index('id="your-answer"')]
    assert "Changes requested" in top and "<strong>who</strong>" in top and "Giorgi Mentor" in top
    assert "Total: 2 of 4 points" in top and 'href="#thread"' in top and "on version 1" in top
    response = post(client, world.submission_id, "Does **who** mean the village council?", seen_on(page))
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/courses/{world.course.slug}/item2#thread")
    page = client.get(work_url(world.course)).get_data(as_text=True)
    assert "Your message is sent." in page
    assert "Does <strong>who</strong> mean the village council?" in page and "1 message" in page
    auth.logout()

    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.user_id == mentor.id,
                                                        Notice.kind == "submission_message"))
        assert notice.kind == "submission_message" and notice.link == f"/assignments/{world.submission_id}#thread"
        assert notice.payload["course"]["ka"] == world.course.titles["ka"]
        worker.run_round(app)
    mail = [m for m in smtp_server.wait_for(1) if m["To"] == mentor.email]
    assert len(mail) == 1
    body = text_body(mail[0])
    # In the mentor's language (Georgian), naming the course and the assignment in it.
    assert "Nino Learner" in body and world.course.titles["ka"] in body and "Item 2 ka" in body
    assert "Does **who** mean the village council?" in body
    assert f"http://nergi.test/assignments/{world.submission_id}#thread" in body
    assert "Hello" not in body and "დაწერა შეტყობინება დავალებაზე" in body
    assert mail[0]["Subject"] == "ახალი შეტყობინება თქვენს დავალებაზე"

    auth.login_as(mentor)
    review = client.get(f"/review/{world.submission_id}").get_data(as_text=True)
    assert "Does <strong>who</strong> mean the village council?" in review
    response = post(client, world.submission_id, "Yes: the council and the village assembly.", seen_on(review))
    assert response.headers["Location"].endswith(f"/review/{world.submission_id}#thread")
    auth.logout()
    smtp_server.messages.clear()
    with app.app_context():
        worker.run_round(app)
    mail = [m for m in smtp_server.wait_for(1) if m["To"] == learner.email]
    assert len(mail) == 1 and "Giorgi Mentor wrote a message about the assignment “Item 2 en” in the course " \
        f"“{world.course.titles['en']}”" in text_body(mail[0])

    auth.login_as(learner)
    notices = client.get("/notices").get_data(as_text=True)
    assert f"Giorgi Mentor wrote about “Item 2 en” ({world.course.titles['en']})." in notices
    assert f"Your mentor asked for changes to “Item 2 en” ({world.course.titles['en']})." in notices
    page = client.get(work_url(world.course)).get_data(as_text=True)
    assert page.index("Does <strong>who</strong>") < page.index("Yes: the council")
    assert "2 messages" in page
    with app.app_context():
        assert [m.author_id for m in db.session.scalars(select(SubmissionMessage).order_by(SubmissionMessage.id))] \
            == [learner.id, mentor.id]


def test_notices_name_the_course_and_assignment_in_the_readers_language(app, client, auth, world):
    learner = world.people["learner"]
    auth.login_as(learner)
    client.post("/language", data={"lang": "ka"})
    notices = client.get("/notices").get_data(as_text=True)
    assert world.course.titles["ka"] in notices and "Item 2 ka" in notices
    assert world.course.titles["en"] not in notices


def test_a_message_is_sanitised_markdown(app, client, auth, world):
    auth.login_as(world.people["learner"])
    post(client, world.submission_id, "<script>alert(1)</script>[x](javascript:alert(2)) *fine*")
    [message] = messages(app, world.submission_id)
    assert "<script" not in message.body_html and "javascript:" not in message.body_html
    assert "<em>fine</em>" in message.body_html and message.body_md.startswith("<script>")


# -- bad input --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, reason", [
    ("   \n ", "Write your message before sending it."),
    ("x" * (conversation.MAX_MESSAGE + 1), "A message can have at most 5,000 characters; yours has 5,001."),
])
def test_a_refused_message_says_why_and_keeps_the_text(app, client, auth, world, text, reason):
    auth.login_as(world.people["learner"])
    response = post(client, world.submission_id, text)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and reason in page
    assert textarea(page) == text and 'id="message-errors"' in page
    assert messages(app, world.submission_id) == []
    auth.logout()
    auth.login_as(world.people["mentor"])  # the mentor's page answers the same way
    response = post(client, world.submission_id, text)  # (in Georgian, the mentor's language)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="message-errors"' in page and textarea(page) == text


def test_the_conversation_opens_once_the_work_is_handed_in(app, client, auth, world, factories):
    other = world.people["other_learner"]
    auth.login_as(other)
    client.post(work_url(world.course) + "/work", data={"body": "draft", "action": "save"},
                content_type="multipart/form-data")
    with app.app_context():
        draft_id = db.session.scalar(select(Submission.id).where(Submission.user_id == other.id))
    response = post(client, draft_id, "A question before I hand in")
    assert response.status_code == 400
    assert "The conversation opens once the work is handed in." in response.get_data(as_text=True)
    assert messages(app, draft_id) == []


def test_a_double_click_posts_once(app, client, auth, world):
    auth.login_as(world.people["learner"])
    seen = seen_on(client.get(work_url(world.course)).get_data(as_text=True))
    assert post(client, world.submission_id, "Thank you!", seen).status_code == 302
    again = post(client, world.submission_id, "Thank you!", seen)
    assert again.status_code == 302
    assert "This message was already sent" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(messages(app, world.submission_id)) == 1
    # From the page shown after it, the same words are a new message.
    seen = seen_on(client.get(work_url(world.course)).get_data(as_text=True))
    post(client, world.submission_id, "Thank you!", seen)
    assert len(messages(app, world.submission_id)) == 2
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notice).where(
            Notice.kind == "submission_message")) == 2


def test_two_clicks_at_once_post_once(app, world):
    """The same form sent twice at the same moment: one message (SQLite and PostgreSQL)."""
    learner = world.people["learner"]
    for trial in range(4):
        client = app.test_client()
        client.post("/login", data={"email": learner.email, "password": "correct horse battery"})
        cookie = client.get_cookie("nergi_session").value
        seen = seen_on(client.get(work_url(world.course)).get_data(as_text=True))
        text = f"Sent twice {trial}"
        results = race(*(lambda: post(client_with_session(app, cookie), world.submission_id, text, seen).status_code
                         for _ in range(2)))
        assert results == [302, 302]
        assert [m.body_md for m in messages(app, world.submission_id)].count(text) == 1


# -- who reads and writes -------------------------------------------------------------------------

#: role → (status of the page showing the thread, status of posting a message).
#: The learner's page is the work page; everyone else's is the review page.
ACCESS = {
    "learner": (200, 302),
    "other_learner": (404, 404),
    "mentor": (200, 302),
    "other_mentor": (404, 404),  # a mentor of the cohort not linked to this learner
    "trainer": (200, 403),  # the cohort's trainer reads, does not write
    "other_trainer": (404, 404),
    "admin": (200, 302),
    "anonymous": (302, 302),  # to the sign-in page
}


@pytest.mark.parametrize("role", list(ACCESS))
def test_who_reads_and_writes_the_conversation(app, client, auth, world, role):
    auth.login_as(world.people["learner"])
    post(client, world.submission_id, "A question from the learner")
    auth.logout()
    if role != "anonymous":
        auth.login_as(world.people[role])
    url = work_url(world.course) if role == "learner" else f"/review/{world.submission_id}"
    page_status, post_status = ACCESS[role]
    response = client.get(url)
    assert response.status_code == page_status
    page = response.get_data(as_text=True)
    if page_status == 200:
        assert "A question from the learner" in page
        may_write = post_status == 302
        assert ('name="message"' in page) is may_write
        if not may_write:
            assert "Only the learner and their mentors write here." in page
    response = post(client, world.submission_id, f"Written by {role}")
    assert response.status_code == post_status
    if role == "anonymous":
        assert "/login" in response.headers["Location"]
    written = [m.body_md for m in messages(app, world.submission_id)]
    assert (f"Written by {role}" in written) is (post_status == 302 and role != "anonymous")


def test_a_message_from_the_learner_reaches_the_latest_reviewer_when_no_link_does(app, client, auth, world):
    with app.app_context():
        link = db.session.scalar(select(MentorLink))
        link.ended_at = datetime.now(timezone.utc)
        db.session.commit()
    auth.login_as(world.people["learner"])
    assert post(client, world.submission_id, "Anyone there?").status_code == 302
    with app.app_context():
        assert [n.user_id for n in db.session.scalars(select(Notice).where(
            Notice.kind == "submission_message"))] == [world.people["mentor"].id]
        assert db.session.scalar(select(OutboxMessage.to_address)) == world.people["mentor"].email


def test_an_admins_message_goes_to_the_learner(app, client, auth, world):
    auth.login_as(world.people["admin"])
    assert post(client, world.submission_id, "From the programme team").status_code == 302
    with app.app_context():
        assert [n.user_id for n in db.session.scalars(select(Notice).where(
            Notice.kind == "submission_message"))] == [world.people["learner"].id]


# -- pure rules -----------------------------------------------------------------------------------

def test_messages_go_under_the_version_they_were_written_about():
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    history = [Revision(number=1, submitted_at=start), Revision(number=2, submitted_at=start + timedelta(days=2))]
    written = [SubmissionMessage(id=n, created_at=start + timedelta(days=day)) for n, day in ((1, 1), (2, 3), (3, 2))]
    grouped = conversation.group_by_revision(history, written)
    assert [m.id for m in grouped[1]] == [1] and [m.id for m in grouped[2]] == [2, 3]
    assert conversation.group_by_revision([], written) == {}


def test_the_latest_feedback_is_the_last_review_sent():
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    first, second = Revision(number=1), Revision(number=2)
    first.reviews = [Review(id=1, sent_at=start, decision="request_changes")]
    second.reviews = [Review(id=2, sent_at=start + timedelta(days=1), decision="approve")]
    latest = conversation.latest_feedback([first, second])
    assert latest.review.id == 2 and latest.revision.number == 2
    assert conversation.latest_feedback([Revision(number=1)]) is None



def test_the_review_email_names_the_course_and_assignment_in_the_learners_language(app, client, auth, world,
                                                                                   smtp_server):
    with app.app_context():
        db.session.get(User, world.people["learner"].id).locale = "ru"
        db.session.commit()
    auth.login_as(world.people["learner"])
    client.post(work_url(world.course) + "/work", data={"body": "Second try", "action": "save"},
                content_type="multipart/form-data")
    client.post(f"/assignments/{world.submission_id}/submit", data={"form_token": "token-" + "z" * 20})
    auth.logout()
    auth.login_as(world.people["mentor"])
    send_back(client, app, world.submission_id, "Closer.")
    with app.app_context():
        worker.run_round(app)
    [mail] = [m for m in smtp_server.wait_for(2) if m["To"] == world.people["learner"].email]
    # The course has no Russian title: its English one, in a Russian sentence.
    assert f"Задание «Item 2 en» в курсе «{world.course.titles['en']}»." in text_body(mail)
