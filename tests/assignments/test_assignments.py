"""Assignments end to end over HTTP: drafts, files, submit, review, conflicts, permissions."""
from __future__ import annotations

import io
import re
import threading
import zipfile

import pytest
from sqlalchemy import func, select

from app.assignments.models import (APPROVED, CHANGES_REQUESTED, DRAFT, SUBMITTED, Attachment, IllegalTransition, Review, Revision, Submission)
from app.notify.models import Notice
from app.learning.models import Progress
from app.core.models import AuditEvent
from app.extensions import db
from app.notify.services import deliver_due
from tests.support.smtp import text_body

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def work_url(course):
    return f"/courses/{course.slug}/item2"


def save(client, course, body="My answer", files=(), action="save"):
    data = {"body": body, "action": action}
    if files:
        data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(work_url(course) + "/work", data=data, content_type="multipart/form-data")


def submit(client, app, course, body="My answer", token="token-" + "x" * 20):
    save(client, course, body)
    with app.app_context():
        submission_id = db.session.scalar(select(Submission.id))
    return client.post(f"/assignments/{submission_id}/submit", data={"form_token": token}), submission_id


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_state_machine_allows_only_legal_moves():
    submission = Submission(state=DRAFT, draft_body="")
    submission.edit_draft("text")
    for illegal in (submission.approve, submission.request_changes):
        with pytest.raises(IllegalTransition):
            illegal()
    submission.submit()
    assert submission.state == SUBMITTED
    for illegal in (lambda: submission.edit_draft("x"), submission.submit):
        with pytest.raises(IllegalTransition):
            illegal()
    submission.request_changes()
    assert submission.state == CHANGES_REQUESTED
    submission.edit_draft("revised")
    submission.submit()
    submission.approve()
    assert submission.state == APPROVED
    for illegal in (submission.submit, submission.approve, submission.request_changes,
                    lambda: submission.edit_draft("x"), lambda: submission.claim(1)):
        with pytest.raises(IllegalTransition):
            illegal()


def test_draft_is_kept_and_shown_again(client, auth, setup, app):
    course, learner, _mentor = setup
    auth.login_as(learner)
    assert client.get(work_url(course)).status_code == 200
    response = save(client, course, "First *draft* ნერგი")
    assert response.status_code == 302
    page = client.get(work_url(course)).get_data(as_text=True)
    assert "First *draft* ნერგი" in page and "Draft" in page
    preview = save(client, course, "Some **bold** text", action="preview").get_data(as_text=True)
    assert "<strong>bold</strong>" in preview and "Some **bold** text" in preview


def test_upload_bad_inputs_keep_the_draft(client, auth, setup, app):
    course, learner, _mentor = setup
    auth.login_as(learner)
    cases = [
        ("big.pdf", PDF + b"0" * (110 * 1024), 413, "larger than 0.1 MB"),
        ("script.php", b"<?php echo 1;", 400, "not accepted"),
        ("page.html", b"<script>alert(1)</script>", 400, "not accepted"),
        ("shell.php.png", b"<?php system($_GET[1]);", 400, "not a real .png file"),
        ("fake.pdf", b"MZ\x90\x00 an executable", 400, "not a real .pdf file"),
        ("fake.docx", b"PK\x03\x04 not a zip", 400, "not a real .docx file"),
        ("empty.pdf", b"", 400, "is empty"),
    ]
    for name, content, status, message in cases:
        response = save(client, course, f"text for {name}", files=[(name, content)])
        body = response.get_data(as_text=True)
        assert response.status_code == status, name
        assert message in body, name
        assert f"text for {name}" in body, name
    assert count(app, Attachment) == 0
    with app.app_context():
        assert db.session.scalar(select(Submission.draft_body)) == "text for empty.pdf"


def test_too_many_files_and_path_names(client, auth, setup, app):
    course, learner, _mentor = setup
    auth.login_as(learner)
    response = save(client, course, files=[("../../etc/passwd.pdf", PDF), ("re\u202eport.docx", docx_bytes())])
    assert response.status_code == 302
    response = save(client, course, "third", files=[("third.png", PNG)])
    assert response.status_code == 400 and "at most 2 files" in response.get_data(as_text=True)
    with app.app_context():
        names = sorted(db.session.scalars(select(Attachment.original_name)))
        stored = db.session.scalars(select(Attachment.stored_name)).all()
    assert names == ["passwd.pdf", "report.docx"]
    upload_root = app.config["UPLOAD_FOLDER"]
    import os

    for stored_name in stored:
        assert re.fullmatch(r"[0-9a-f]{32}", stored_name)
        assert os.path.isfile(os.path.join(upload_root, stored_name[:2], stored_name))


def test_submit_review_revise_approve(client, app, auth, setup, factories, smtp_server):
    course, learner, mentor = setup
    auth.login_as(learner)
    save(client, course, "Version one", files=[("plan.pdf", PDF)])
    response, submission_id = submit(client, app, course, "Version one")
    assert response.status_code == 302
    # The replayed form (double click, back button) makes no second revision.
    client.post(f"/assignments/{submission_id}/submit", data={"form_token": "token-" + "x" * 20})
    assert count(app, Revision) == 1
    with app.app_context():
        deliver_due()
    assert any(m["To"] == mentor.email for m in smtp_server.wait_for(1))
    auth.logout()

    auth.login_as(mentor)
    queue = client.get("/review").get_data(as_text=True)
    assert "Learner" in queue and f"/review/{submission_id}" in queue
    page = client.get(f"/review/{submission_id}").get_data(as_text=True)
    assert "Version one" in page and "plan.pdf" in page
    with app.app_context():
        revision_id = db.session.scalar(select(Revision.id))
        version = db.session.get(Submission, submission_id).version
    response = client.post(f"/review/{submission_id}", data={
        "revision_id": revision_id, "version": version, "score-participation": "0",
        "score-transparency": "1", "feedback": "Say more about **who** takes part.",
        "decision": "request_changes"})
    assert response.status_code == 302
    auth.logout()

    auth.login_as(learner)
    page = client.get(work_url(course)).get_data(as_text=True)
    assert "Changes requested" in page and "<strong>who</strong>" in page and "Version one" in page
    response, _ = submit(client, app, course, "Version two, with participation", token="token-" + "y" * 20)
    auth.logout()

    auth.login_as(mentor)
    page = client.get(f"/review/{submission_id}").get_data(as_text=True)
    assert "+ Version two, with participation" in page and "- Version one" in page
    with app.app_context():
        latest = db.session.scalar(select(Revision.id).order_by(Revision.number.desc()))
        version = db.session.get(Submission, submission_id).version
    response = client.post(f"/review/{submission_id}", data={
        "revision_id": latest, "version": version, "score-participation": "2",
        "score-transparency": "2", "feedback": "Well done", "decision": "approve"})
    assert response.status_code == 302
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        assert submission.state == APPROVED
        assert db.session.scalar(select(func.count(Progress.id)).where(Progress.user_id == learner.id)) == 1
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"submission_submit", "review_send"} <= actions
        assert db.session.scalar(select(func.count(Notice.id)).where(Notice.user_id == learner.id)) == 2


def test_review_conflict_keeps_the_second_mentors_text(client, app, auth, setup, factories):
    course, learner, mentor = setup
    other = factories.make_user(name="Second mentor")
    factories.link_mentor(other, learner)
    auth.login_as(learner)
    _response, submission_id = submit(client, app, course)
    auth.logout()
    with app.app_context():
        revision_id = db.session.scalar(select(Revision.id))
        version = db.session.get(Submission, submission_id).version
    form = {"revision_id": revision_id, "version": version, "score-participation": "2",
            "score-transparency": "2", "decision": "approve"}
    auth.login_as(mentor)
    assert client.post(f"/review/{submission_id}", data={**form, "feedback": "First"}).status_code == 302
    auth.logout()
    auth.login_as(other)
    response = client.post(f"/review/{submission_id}", data={**form, "feedback": "My careful words"})
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Another mentor reviewed this work" in body and "My careful words" in body and "First" in body
    assert count(app, Review) == 1


def test_bad_review_input_is_explained(client, app, auth, setup):
    course, learner, mentor = setup
    auth.login_as(learner)
    _response, submission_id = submit(client, app, course)
    auth.logout()
    auth.login_as(mentor)
    with app.app_context():
        revision_id = db.session.scalar(select(Revision.id))
        version = db.session.get(Submission, submission_id).version
    base = {"revision_id": revision_id, "version": version, "feedback": "Kept feedback"}
    response = client.post(f"/review/{submission_id}", data={**base, "score-participation": "7",
                                                             "score-transparency": "1", "decision": "approve"})
    assert response.status_code == 400 and "Choose a level for every criterion." in response.get_data(as_text=True)
    response = client.post(f"/review/{submission_id}", data={**base, "score-participation": "0",
                                                             "score-transparency": "1", "decision": "approve"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "below the 3 points" in body and "Kept feedback" in body
    assert count(app, Review) == 0


def test_authorisation_table(client, app, auth, setup, factories):
    course, learner, mentor = setup
    auth.login_as(learner)
    save(client, course, "secret plan", files=[("plan.pdf", PDF)])
    _response, submission_id = submit(client, app, course, "secret plan")
    auth.logout()
    with app.app_context():
        attachment_id = db.session.scalar(select(Attachment.id))
        stored_name = db.session.scalar(select(Attachment.stored_name))
    other_learner = factories.make_user()
    other_mentor = factories.make_user()
    factories.link_mentor(other_mentor, other_learner)
    admin = factories.make_admin()
    routes = [f"/review/{submission_id}", f"/files/{attachment_id}", f"/assignments/{submission_id}"]
    expected = {  # who: status per route
        None: (302, 302, 302),
        "learner": (200, 200, 302),
        "other_learner": (404, 404, 404),
        "mentor": (200, 200, 302),
        "other_mentor": (404, 404, 404),
        "admin": (200, 200, 302),
    }
    people = {"learner": learner, "other_learner": other_learner, "mentor": mentor,
              "other_mentor": other_mentor, "admin": admin}
    for who, statuses in expected.items():
        if who:
            auth.login_as(people[who])
        for route, status in zip(routes, statuses):
            response = client.get(route)
            assert response.status_code == status, (who, route)
            if status != 200:
                assert b"secret plan" not in response.data
            response.close()
        if who:
            auth.logout()
    # guessed storage name is not a route anywhere
    auth.login_as(learner)
    assert client.get(f"/static/{stored_name}").status_code == 404
    assert client.get(f"/files/{stored_name}").status_code == 404


def test_download_headers(client, app, auth, setup):
    course, learner, _mentor = setup
    auth.login_as(learner)
    save(client, course, files=[("Გეგმა plan.pdf", PDF)])
    with app.app_context():
        attachment_id = db.session.scalar(select(Attachment.id))
    response = client.get(f"/files/{attachment_id}")
    assert response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    response.close()


def test_learner_cannot_review_or_forge_fields(client, app, auth, setup, factories):
    course, learner, mentor = setup
    auth.login_as(learner)
    save(client, course, "mine")
    with app.app_context():
        submission_id = db.session.scalar(select(Submission.id))
    client.post(work_url(course) + "/work", data={"body": "mine", "action": "save", "state": "approved",
                                                   "grade": "100", "reviewed_by": str(mentor.id)})
    _r, _id = submit(client, app, course, "mine")
    with app.app_context():
        revision_id = db.session.scalar(select(Revision.id))
        version = db.session.get(Submission, submission_id).version
    response = client.post(f"/review/{submission_id}", data={
        "revision_id": revision_id, "version": version, "score-participation": "2",
        "score-transparency": "2", "decision": "approve"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Submission, submission_id).state == SUBMITTED
    assert count(app, Review) == 0


def test_mentor_cannot_review_with_a_swapped_revision_id(client, app, auth, setup, factories):
    course, learner, mentor = setup
    stranger = factories.make_user()
    auth.login_as(learner)
    _r, mine = submit(client, app, course, "mine")
    auth.logout()
    auth.login_as(stranger)
    save(client, course, "stranger's work")
    with app.app_context():
        theirs = db.session.scalar(select(Submission.id).where(Submission.user_id == stranger.id))
    client.post(f"/assignments/{theirs}/submit", data={"form_token": "s" * 30})
    auth.logout()
    with app.app_context():
        their_revision = db.session.scalar(select(Revision.id).where(Revision.submission_id == theirs))
        version = db.session.get(Submission, mine).version
    auth.login_as(mentor)
    response = client.post(f"/review/{mine}", data={
        "revision_id": their_revision, "version": version, "score-participation": "2",
        "score-transparency": "2", "decision": "approve"})
    assert response.status_code == 403
    assert count(app, Review) == 0


def test_parallel_submits_make_one_revision(make_app, factories, setup):
    course, learner, _mentor = setup
    app = make_app()
    client = app.test_client()
    client.post("/login", data={"email": learner.email, "password": "correct horse battery"})
    save(client, course, "once")
    with app.app_context():
        submission_id = db.session.scalar(select(Submission.id))
    cookie = client.get_cookie("nergi_session").value
    results = []

    def post():
        c = app.test_client()
        c.set_cookie("nergi_session", cookie)
        results.append(c.post(f"/assignments/{submission_id}/submit", data={"form_token": "p" * 30}).status_code)

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [302] * 10
    assert count(app, Revision) == 1


def test_xss_in_answer_and_feedback_is_harmless(client, app, auth, setup):
    from tests.support.html_oracle import unsafe_reasons

    course, learner, mentor = setup
    auth.login_as(learner)
    payload = '<script>alert(1)</script>[x](javascript:alert(2))<img src=x onerror=alert(3)>'
    _r, submission_id = submit(client, app, course, payload)
    auth.logout()
    auth.login_as(mentor)
    page = client.get(f"/review/{submission_id}").get_data(as_text=True)
    content = re.findall(r'<div class="content">(.*?)</div>', page, re.S)
    assert content and all(unsafe_reasons(block) == [] for block in content)


def test_reviewed_email_reaches_the_learner(client, app, auth, setup, smtp_server):
    course, learner, mentor = setup
    auth.login_as(learner)
    _r, submission_id = submit(client, app, course)
    auth.logout()
    auth.login_as(mentor)
    with app.app_context():
        revision_id = db.session.scalar(select(Revision.id))
        version = db.session.get(Submission, submission_id).version
    client.post(f"/review/{submission_id}", data={"revision_id": revision_id, "version": version,
                                                  "score-participation": "2", "score-transparency": "2",
                                                  "decision": "approve"})
    with app.app_context():
        deliver_due()
    messages = smtp_server.wait_for(2)
    to_learner = [m for m in messages if m["To"] == learner.email]
    assert to_learner and "approved" in text_body(to_learner[0])


def test_admin_manages_mentor_links(client, app, auth, factories):
    admin = factories.make_admin()
    mentor = factories.make_user(name="M")
    learner = factories.make_user(name="L")
    auth.login_as(admin)
    body = client.post("/admin/mentoring", data={"mentor_email": "nobody@example.org",
                                                 "learner_email": learner.email}).get_data(as_text=True)
    assert "There is no account with this e-mail address." in body and learner.email in body
    client.post("/admin/mentoring", data={"mentor_email": mentor.email, "learner_email": learner.email})
    page = client.get("/admin/mentoring").get_data(as_text=True)
    assert ">M<" in page and ">L<" in page
    auth.logout()
    auth.login_as(mentor)
    assert client.get("/admin/mentoring").status_code == 403


def test_notices_badge_and_daily_digest(client, app, auth, setup, runner, smtp_server):
    course, learner, mentor = setup
    auth.login_as(mentor)
    client.post("/review/preferences", data={"daily_digest": "y"})
    auth.logout()
    auth.login_as(learner)
    submit(client, app, course)
    auth.logout()
    with app.app_context():
        deliver_due()
    assert not [m for m in smtp_server.messages if m["To"] == mentor.email]  # digest, not one e-mail each
    auth.login_as(mentor)
    home = client.get("/").get_data(as_text=True)
    assert 'class="badge"' in home and ">1<" in home
    assert "submitted work for review" in client.get("/notices").get_data(as_text=True)
    client.post("/notices/read")
    assert 'class="badge"' not in client.get("/").get_data(as_text=True)
    assert "digests queued: 1" in runner.invoke(args=["assignments", "digest"]).output
    assert "digests queued: 0" in runner.invoke(args=["assignments", "digest"]).output
    with app.app_context():
        deliver_due()
    digest = [m for m in smtp_server.wait_for(1) if m["To"] == mentor.email]
    assert digest and "/review" in text_body(digest[0])


def test_the_confirm_page_shows_what_will_be_submitted(client, app, auth, setup):
    """Save-and-submit commits the draft, then asks to confirm: the page reads what the commit
    expired in the view (the template guard fails the test if it queries while rendering)."""
    course, learner, _mentor = setup
    auth.login_as(learner)
    response = save(client, course, "My careful plan", action="submit")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Submit your work?" in body and "My careful plan" in body and 'name="form_token"' in body
