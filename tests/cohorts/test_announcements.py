"""Messages from a cohort's trainers (issue 14, part 6): who a message reaches (the audiences, worked
out again at sending), the record of what was sent to whom, the notice and the e-mail each
recipient gets (through the outbox, to the SMTP sink on loopback), one send per form, bulk
delivery in a fixed number of statements, and who may write and read, per role."""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.cohorts import announcements
from app.cohorts.announcements import Audience
from app.cohorts.models import Announcement, AnnouncementRecipient, Cohort, Membership
from app.cohorts.services import CohortError
from app.core.authz import AccessDenied
from app.core.errors import Conflict
from app.database import utcnow
from app.extensions import db
from app.notify.models import Notice, OutboxMessage
from app.notify.services import deliver_due
from tests.cohorts.conftest import add_attempts, add_progress, bulk_learners, make_cohort
from tests.support.concurrency import client_with_session, race
from tests.support.html_oracle import is_safe
from tests.support.smtp import html_body, text_body


def group(app, world, to: str, lang: str = "en"):
    with app.test_request_context():
        cohort = db.session.get(Cohort, world.cohort_id)
        return announcements.audience_group(cohort, Audience.parse(to), lang, utcnow())


def names(found) -> list[str]:
    return [person.name for person in found.people]


def send(app, world, actor=None, *, to="all", subject="Week 3", body="Please read **module 3**.", token=None,
         confirmed=None):
    """Send through the service as the compose page would (the digest of the group it showed)."""
    with app.test_request_context():
        cohort = db.session.get(Cohort, world.cohort_id)
        user = db.session.get(User, (actor or world.trainer).id)
        if confirmed is None:
            confirmed = announcements.audience_group(cohort, Audience.parse(to), "en", utcnow()).digest
        sent = announcements.send_announcement(user, cohort, to=to, subject=subject, body=body, confirmed=confirmed,
                                               form_token=token or secrets.token_urlsafe(24), lang="en", now=utcnow())
        db.session.commit()
        return sent.message.id, sent.recipients, sent.replayed


def counts(app) -> tuple[int, int, int, int]:
    """Messages, recipients, notices, e-mails."""
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Announcement, AnnouncementRecipient, Notice, OutboxMessage))


# -- audiences --------------------------------------------------------------------------------------

def test_the_audiences(app, world):
    lesson, quiz = world.item(1), world.item(2)
    add_progress(app, world.learner.id, lesson.id, at=utcnow())
    add_attempts(app, world.learner2.id, quiz.id, [False, False], at=utcnow())  # two failed attempts: at risk
    assert names(group(app, world, "all")) == ["Aygün Learner", "Nino Learner"]  # never the other cohort's
    assert names(group(app, world, f"not_done:{lesson.id}")) == ["Aygün Learner"]
    assert names(group(app, world, f"not_done:{quiz.id}")) == ["Aygün Learner", "Nino Learner"]
    assert names(group(app, world, "not_started")) == ["Aygün Learner"]
    assert names(group(app, world, "at_risk")) == ["Aygün Learner"]
    assert names(group(app, world, f"learner:{world.learner.id}")) == ["Nino Learner"]
    assert group(app, world, f"not_done:{lesson.id}").description == "Everyone who has not finished “Item 1 en”"
    assert group(app, world, f"learner:{world.learner.id}").description == "One learner: Nino Learner"
    # The digest changes with the people in the group.
    before = group(app, world, "not_started").digest
    add_progress(app, world.learner2.id, quiz.id)
    assert group(app, world, "not_started").digest != before and names(group(app, world, "not_started")) == []


@pytest.mark.parametrize("to, message", [
    ("everyone", "Choose who the message is for."),
    ("not_done:abc", "Choose who the message is for."),
    ("learner:", "Choose who the message is for."),
    ("not_done:999999", "This item is not in the cohort's courses."),
    ("learner:999999", "This person is not a learner of this cohort."),
])
def test_unknown_audiences_items_and_learners_are_refused(app, world, to, message):
    with pytest.raises(CohortError, match=re.escape(message)):
        group(app, world, to)


def test_people_outside_the_cohort_and_other_courses_items_are_refused(app, world):
    for to in (f"learner:{world.outsider.id}", f"learner:{world.mentor.id}", f"learner:{world.trainer.id}",
               f"not_done:{world.other_course.items[0].id}"):
        with pytest.raises(CohortError):
            group(app, world, to)


def test_deactivated_accounts_are_not_written_to(app, world):
    with app.app_context():
        db.session.get(User, world.learner2.id).is_active_account = False
        db.session.commit()
    assert names(group(app, world, "all")) == ["Nino Learner"]


# -- sending: the record, notices, e-mails ----------------------------------------------------------

def test_sending_records_the_message_and_tells_each_recipient(app, world, smtp_server):
    with app.app_context():
        db.session.get(User, world.learner2.id).locale = "ka"
        db.session.commit()
    message_id, recipients, replayed = send(app, world, subject="Week 3 opens", body="Read **module 3**.\n\n<script>x</script>")
    assert (recipients, replayed) == (2, False)
    assert counts(app) == (1, 2, 2, 2)
    with app.app_context():
        message = db.session.get(Announcement, message_id)
        assert (message.subject, message.audience, message.author_id) == ("Week 3 opens", "all", world.trainer.id)
        assert "<strong>module 3</strong>" in message.body_html and is_safe(message.body_html)
        assert set(db.session.scalars(select(AnnouncementRecipient.user_id))) == {world.learner.id, world.learner2.id}
        notice = db.session.scalar(select(Notice).where(Notice.user_id == world.learner.id))
        assert notice.kind == "announcement" and notice.link == f"/messages/{message_id}"
        assert notice.payload == {"subject": "Week 3 opens", "cohort": "YPP 2025 — Marneuli", "by": "Tamar Trainer"}
        assert {(m.to_address, m.locale) for m in db.session.scalars(select(OutboxMessage))} == {
            (world.learner.email, "en"), (world.learner2.email, "ka")}
        assert deliver_due().sent == 2
    mails = {m["To"]: m for m in smtp_server.wait_for(2)}
    english, georgian = mails[world.learner.email], mails[world.learner2.email]
    assert english["Subject"] == "YPP 2025 — Marneuli: Week 3 opens"
    text = text_body(english)
    assert "Hello Nino Learner," in text and "Tamar Trainer wrote to the learners of “YPP 2025 — Marneuli”:" in text
    assert "Read **module 3**." in text and f"http://nergi.test/messages/{message_id}" in text
    html = html_body(english)
    assert "<strong>module 3</strong>" in html and "<script>" not in html
    # The frame in the recipient's language; the trainer's text as written.
    assert "გამარჯობა" in text_body(georgian) and "Read **module 3**." in text_body(georgian)
    assert "Week 3 opens" in georgian["Subject"]


def test_a_second_send_of_one_form_sends_nothing(app, world):
    token = secrets.token_urlsafe(24)
    first = send(app, world, token=token)
    second = send(app, world, token=token)
    assert second == (first[0], 0, True)
    assert counts(app) == (1, 2, 2, 2)
    with pytest.raises(Conflict, match="sent already"):
        send(app, world, token=token, body="Another text")  # the same form, edited after sending
    assert counts(app) == (1, 2, 2, 2)


def test_a_changed_group_is_refused_and_nobody_is_written_to(app, world):
    with app.test_request_context():
        seen = group(app, world, "all").digest
        membership = db.session.scalar(select(Membership).where(Membership.user_id == world.learner2.id,
                                                                Membership.cohort_id == world.cohort_id))
        db.session.delete(membership)  # learner2 leaves the cohort between compose and send
        db.session.commit()
    with pytest.raises(Conflict, match="recipients changed"):
        send(app, world, confirmed=seen)
    assert counts(app) == (0, 0, 0, 0)
    send(app, world)  # confirmed again: the one left
    with app.app_context():
        assert list(db.session.scalars(select(AnnouncementRecipient.user_id))) == [world.learner.id]
        assert db.session.scalar(select(func.count()).select_from(Notice).where(Notice.user_id == world.learner2.id)) == 0


@pytest.mark.parametrize("subject, body, message", [
    ("", "Text", "Write a subject."),
    ("   ", "Text", "Write a subject."),
    ("Subject", "  \n ", "Write the message."),
    ("S" * 201, "Text", "The subject is too long: at most 200 characters."),
    ("Subject", "B" * 10_001, "The message is too long: at most 10000 characters."),
])
def test_bad_text_is_refused(app, world, subject, body, message):
    with pytest.raises(CohortError, match=re.escape(message)):
        send(app, world, subject=subject, body=body)
    assert counts(app) == (0, 0, 0, 0)


def test_a_subject_is_one_line(app, world):
    message_id, _n, _r = send(app, world, subject="Week\r\n3\tnews")
    with app.app_context():
        assert db.session.get(Announcement, message_id).subject == "Week 3 news"


def test_an_empty_group_sends_nothing(app, world):
    with pytest.raises(CohortError, match="Nobody matches: nothing was sent."):
        send(app, world, to="at_risk")
    assert counts(app) == (0, 0, 0, 0)


@pytest.mark.parametrize("who", ["other_trainer", "mentor", "learner", "outsider"])
def test_only_the_cohorts_trainers_and_admins_may_send(app, world, who):
    with pytest.raises(AccessDenied):
        send(app, world, getattr(world, who), confirmed="x")
    assert counts(app) == (0, 0, 0, 0)
    assert send(app, world, world.admin)[1] == 2


# -- pages ------------------------------------------------------------------------------------------

def compose(client, world, to="all"):
    response = client.get(f"/cohorts/{world.cohort_id}/messages/new?to={to}")
    page = response.get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="(confirmed|form_token|to)"[^>]*value="([^"]*)"', page))
    return response, page, fields


def test_compose_shows_who_before_sending_then_sends(app, client, auth, world):
    add_attempts(app, world.learner2.id, world.item(2).id, [False, False], at=utcnow())
    auth.login_as(world.trainer)
    response, page, fields = compose(client, world, "at_risk")
    assert response.status_code == 200
    assert "1 learner will receive this message" in page and "Aygün Learner" in page and "Nino Learner" not in page
    assert fields["to"] == "at_risk" and fields["confirmed"] and len(fields["form_token"]) >= 16
    response = client.post(f"/cohorts/{world.cohort_id}/messages/new",
                           data={**fields, "subject": "Quiz 2", "body": "Try *again*."})
    assert response.status_code == 302
    message_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sent to 1 learner." in page and "<em>again</em>" in page and "Everyone at risk" in page
    listing = client.get(f"/cohorts/{world.cohort_id}/messages").get_data(as_text=True)
    assert "Quiz 2" in listing and "Everyone at risk" in listing and "Tamar Trainer" in listing
    assert f"/messages/{message_id}" in listing
    # The learner: a notice naming the subject, linking to the message, which they may read.
    auth.logout()
    auth.login_as(world.learner2)
    notices = client.get("/notices").get_data(as_text=True)
    assert "Tamar Trainer wrote to you (“YPP 2025 — Marneuli”): Quiz 2" in notices
    assert f'href="/messages/{message_id}"' in notices
    page = client.get(f"/messages/{message_id}").get_data(as_text=True)
    assert "Quiz 2" in page and "<em>again</em>" in page
    assert "Recipients" not in page  # a learner does not see who else received it


def test_the_compose_page_says_what_is_wrong_with_to(client, auth, world):
    auth.login_as(world.trainer)
    for to, message in (("not_done:999999", "This item is not in the cohort&#39;s courses."),
                        (f"learner:{world.outsider.id}", "This person is not a learner of this cohort."),
                        ("somebody", "Choose who the message is for.")):
        response, page, _fields = compose(client, world, to)
        assert response.status_code == 400 and message in page
    response, page, _fields = compose(client, world, "at_risk")
    assert response.status_code == 200 and "Nobody matches: nothing would be sent." in page


def test_bad_input_keeps_what_was_typed(app, client, auth, world):
    auth.login_as(world.trainer)
    _response, _page, fields = compose(client, world)
    url = f"/cohorts/{world.cohort_id}/messages/new"
    response = client.post(url, data={**fields, "subject": "", "body": "My typed text"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Fill in this field." in page and "My typed text" in page
    response = client.post(url, data={**fields, "subject": "S" * 201, "body": "Kept"})
    assert response.status_code == 400 and "At most 200 characters." in response.get_data(as_text=True)
    response = client.post(url, data={**fields, "to": f"not_done:{world.other_course.items[0].id}",
                                      "subject": "Typed subject", "body": "Kept body"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "not in the cohort&#39;s courses" in page
    assert 'value="Typed subject"' in page and "Kept body" in page
    response = client.post(url, data={**fields, "to": "at_risk", "subject": "Nobody", "body": "Kept"})
    assert response.status_code == 400 and "Nobody matches: nothing was sent." in response.get_data(as_text=True)
    # A form that lost its one-time token comes back with a new one, the text kept.
    response = client.post(url, data={**fields, "form_token": "", "subject": "No token", "body": "Kept"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'value="No token"' in page
    token = re.search(r'name="form_token"[^>]*value="([^"]*)"', page).group(1)
    assert len(token) >= 16
    assert counts(app) == (0, 0, 0, 0)
    assert client.post(url, data={**fields, "form_token": token, "subject": "No token", "body": "Kept"}).status_code == 302


def test_a_learner_who_left_is_not_written_to_and_the_trainer_is_told(app, client, auth, world):
    auth.login_as(world.trainer)
    _response, page, fields = compose(client, world)
    assert "2 learners will receive" in page
    with app.app_context():
        db.session.execute(Membership.__table__.delete().where(Membership.user_id == world.learner2.id,
                                                               Membership.cohort_id == world.cohort_id))
        db.session.commit()
    url = f"/cohorts/{world.cohort_id}/messages/new"
    response = client.post(url, data={**fields, "subject": "Typed", "body": "Kept text"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "The recipients changed" in page
    assert "1 learner will receive" in page and "Aygün Learner" not in page and "Kept text" in page
    assert counts(app) == (0, 0, 0, 0)
    confirmed = re.search(r'name="confirmed"[^>]*value="([^"]*)"', page).group(1)
    assert client.post(url, data={**fields, "confirmed": confirmed, "subject": "Typed",
                                  "body": "Kept text"}).status_code == 302
    with app.app_context():
        assert list(db.session.scalars(select(AnnouncementRecipient.user_id))) == [world.learner.id]


def test_a_double_click_sends_once(app, client, auth, world):
    auth.login_as(world.trainer)
    _response, _page, fields = compose(client, world)
    data = {**fields, "subject": "Once", "body": "Only once"}
    url = f"/cohorts/{world.cohort_id}/messages/new"
    first, second = client.post(url, data=data), client.post(url, data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert "sent already" in client.get(second.headers["Location"]).get_data(as_text=True)
    assert counts(app) == (1, 2, 2, 2)


def test_two_clicks_at_once_send_once(app, client, auth, world):
    auth.login_as(world.trainer)
    _response, _page, fields = compose(client, world)
    cookie = client.get_cookie("nergi_session").value
    data = {**fields, "subject": "Race", "body": "Only once"}

    def click():
        response = client_with_session(app, cookie).post(f"/cohorts/{world.cohort_id}/messages/new", data=data)
        return response.status_code, response.headers.get("Location")

    results = race(click, click, click)
    assert [status for status, _location in results] == [302, 302, 302]
    assert len({location for _status, location in results}) == 1
    assert counts(app) == (1, 2, 2, 2)


# -- authorisation per role -------------------------------------------------------------------------

PAGES = ("/cohorts/{c}/messages", "/cohorts/{c}/messages/new?to=all", "/cohorts/{c}/messages/new?to=learner:{l}")


@pytest.mark.parametrize("role, status", [("trainer", 200), ("admin", 200), ("other_trainer", 404), ("mentor", 404),
                                          ("learner", 404), ("anonymous", 302)])
def test_who_may_write(app, client, auth, world, role, status):
    if role != "anonymous":
        auth.login_as(getattr(world, role))
    for page in PAGES:
        response = client.get(page.format(c=world.cohort_id, l=world.learner.id))
        assert response.status_code == status, page
    data = {"to": "all", "subject": "S", "body": "B", "form_token": secrets.token_urlsafe(24),
            "confirmed": group(app, world, "all").digest}
    response = client.post(f"/cohorts/{world.cohort_id}/messages/new", data=data)
    assert response.status_code == (302 if status == 200 else status)
    assert counts(app)[0] == (1 if status == 200 else 0)
    if role == "anonymous":
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role, status", [("learner", 200), ("learner2", 404), ("outsider", 404), ("mentor", 404),
                                          ("trainer", 200), ("other_trainer", 404), ("admin", 200),
                                          ("anonymous", 302)])
def test_who_may_read(app, client, auth, world, role, status):
    message_id, _n, _r = send(app, world, to=f"learner:{world.learner.id}", subject="Only for Nino")
    if role != "anonymous":
        auth.login_as(getattr(world, role))
    response = client.get(f"/messages/{message_id}")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert ("Only for Nino" in page) == (status == 200)
    assert ("Recipients" in page) == (role in ("trainer", "admin"))
    assert client.get(f"/messages/{message_id + 1000}").status_code == (302 if role == "anonymous" else 404)


def test_sending_needs_the_csrf_token(make_app, world):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    client.post("/login", data={"email": world.trainer.email, "password": "correct horse battery"})
    response = client.post(f"/cohorts/{world.cohort_id}/messages/new",
                           data={"to": "all", "subject": "S", "body": "B", "form_token": secrets.token_urlsafe(24),
                                 "confirmed": group(app, world, "all").digest})
    assert response.status_code == 400
    assert counts(app) == (0, 0, 0, 0)


# -- the dashboard's links --------------------------------------------------------------------------

def test_the_dashboard_offers_to_write(app, client, auth, world):
    add_attempts(app, world.learner2.id, world.item(2).id, [False, False], at=utcnow())
    auth.login_as(world.trainer)
    page = client.get(f"/cohorts/{world.cohort_id}").get_data(as_text=True)
    assert f'href="/cohorts/{world.cohort_id}/messages/new?to=learner:{world.learner2.id}">Write to Aygün Learner' in page
    assert f"/messages/new?to=at_risk" in page and "Write to everyone at risk" in page
    assert f'<option value="not_done:{world.item(3).id}">' in page
    page = client.get(f"/cohorts/{world.cohort_id}/learners/{world.learner.id}").get_data(as_text=True)
    assert f"/messages/new?to=learner:{world.learner.id}" in page and "Write to Nino Learner" in page


# -- statements: fixed, however many learners ------------------------------------------------------

def post_message(client, world, to="all"):
    _response, _page, fields = compose(client, world, to)
    return client.post(f"/cohorts/{world.cohort_id}/messages/new",
                       data={**fields, "subject": "Everyone", "body": "Hello all"})


@pytest.mark.parametrize("extra", [1, 300])
def test_sending_to_a_big_cohort_takes_a_fixed_number_of_statements(app, client, auth, world, count_queries, extra):
    bulk_learners(app, world.cohort_id, extra, world.course.items)
    auth.login_as(world.trainer)
    for to, expected in (("all", 15), ("at_risk", 17)):
        _response, _page, fields = compose(client, world, to)
        with count_queries() as statements:
            response = client.post(f"/cohorts/{world.cohort_id}/messages/new",
                                   data={**fields, "subject": "Everyone", "body": "Hello all"})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert len(statements) == expected, (to, statements)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) >= extra + 2


@pytest.mark.parametrize("extra", [1, 40])
def test_the_pages_take_a_fixed_number_of_statements(app, client, auth, world, count_queries, extra):
    bulk_learners(app, world.cohort_id, extra, world.course.items)
    auth.login_as(world.trainer)
    for to in ("all", f"not_done:{world.item(1).id}", f"learner:{world.learner.id}"):
        assert post_message(client, world, to).status_code == 302
    message_id = send(app, world)[0]
    # The user and the header's facts (2) on every page; the cohort with its courses and the role (3);
    # the list: messages, counts, items' titles (2), learners' names; compose: the items (2), the
    # service's role check, the learners (at risk: the cached facts); a message: it, its cohort,
    # the recipient check, the role (twice), the recipients' names.
    pages = {f"/cohorts/{world.cohort_id}/messages": 11, f"/cohorts/{world.cohort_id}/messages/new?to=all": 9,
             f"/cohorts/{world.cohort_id}/messages/new?to=at_risk": 9, f"/messages/{message_id}": 8}
    found = {}
    for url in pages:
        client.get(url)  # warm: first-use caches are not what we pin
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        found[url] = len(statements)
    assert found == pages
