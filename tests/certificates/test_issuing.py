"""Certificates in the app: the completion rule, issuing exactly once, pages, downloads, CLI."""
from __future__ import annotations

import re
import shutil
import subprocess
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from app.certificates import codes
from app.certificates.completion import completion_status
from app.certificates.models import Certificate
from app.content.models import Course, Item
from app.learning.models import Progress
from app.core.models import AuditEvent
from app.extensions import db
from app.notify.services import deliver_due
from tests.certificates.conftest import flip_byte, joserfc_rejects, joserfc_verify
from tests.support.smtp import text_body


def count_certificates(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Certificate.id)))


def finish(client, course, slug="item1"):
    return client.post(f"/courses/{course.slug}/{slug}/done")


@pytest.fixture
def earned(client, auth, factories, app):
    """A learner (Georgian name) who completed a one-lesson course: returns (user, course, code)."""
    course = factories.make_course(items=("lesson",), languages=("en", "ka"))
    user = factories.make_user(name="ნინო ბერიძე", locale="ka")
    auth.login_as(user)
    finish(client, course)
    with app.app_context():
        code = db.session.scalar(select(Certificate.code))
    return user, course, code


def test_rule_table(app, factories):
    course = factories.make_course(items=("lesson", "quiz", "assignment", "lesson"))
    user = factories.make_user()
    with app.app_context():
        items = db.session.scalars(select(Item).where(Item.course_id == course.id).order_by(Item.position)).all()
        course_row = db.session.get(Course, course.id)
        cases = [
            ([], False, (0, 2), (0, 1), (0, 1)),
            ([0, 3], False, (2, 2), (0, 1), (0, 1)),
            ([0, 1, 3], False, (2, 2), (1, 1), (0, 1)),
            ([0, 1, 2, 3], True, (2, 2), (1, 1), (1, 1)),
        ]
        for done, complete, lessons, quizzes, assignments in cases:
            db.session.query(Progress).delete()
            for index in done:
                db.session.add(Progress(user_id=user.id, item_id=items[index].id))
            db.session.flush()
            status = completion_status(user.id, course_row)
            assert status.complete is complete, done
            assert (status.lessons.done, status.lessons.total) == lessons
            assert (status.quizzes.done, status.quizzes.total) == quizzes
            assert (status.assignments.done, status.assignments.total) == assignments
        # A minimum average quiz score holds the certificate back until the quizzes are good enough.
        course_row.completion = {"min_average_quiz_score": 80}
        status = completion_status(user.id, course_row)
        assert not status.complete and status.average == 0
        # A retired item no longer counts.
        items[2].retired_at = datetime.now(timezone.utc)
        db.session.query(Progress).delete()
        db.session.rollback()


def test_completion_issues_once_with_email(earned, app, client, smtp_server):
    user, course, code = earned
    assert code and codes.is_valid_code(code)
    assert count_certificates(app) == 1
    finish(client, course)  # again: nothing new
    assert count_certificates(app) == 1
    with app.app_context():
        deliver_due()
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "certificate_issue")) == 1
    [message] = [m for m in smtp_server.wait_for(1) if m["To"] == user.email]
    assert codes.format_code(code) in text_body(message)
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert f"/certificates/{code}" in page


def test_progress_toward_completion_is_shown(client, auth, factories):
    course = factories.make_course(items=("lesson", "lesson", "assignment"))
    auth.login_as(factories.make_user())
    finish(client, course)
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "1 of 2 lessons done" in page and "0 of 1 assignment approved" in page


def test_concurrent_completions_issue_exactly_one(make_app, factories):
    app = make_app()
    course = factories.make_course(items=("lesson", "lesson"))
    user = factories.make_user()
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    cookie = client.get_cookie("nergi_session").value
    statuses = []

    def complete(slug):
        c = app.test_client()
        c.set_cookie("nergi_session", cookie)
        statuses.append(c.post(f"/courses/{course.slug}/{slug}/done").status_code)

    threads = [threading.Thread(target=complete, args=(f"item{1 + n % 2}",)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * 10
    with app.app_context():
        assert db.session.scalar(select(func.count(Progress.id))) == 2
        assert db.session.scalar(select(func.count(Certificate.id))) == 1


def test_public_verification_pages(earned, app, make_app):
    user, course, code = earned
    public = make_app().test_client()
    page = public.get(f"/verify/{codes.format_code(code).lower()}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Valid" in body
    assert "ნინო ბერიძე" in body and "Course" in body
    assert user.email not in body and "%" not in body.split("<main")[1]  # no e-mail, no grades
    assert public.get("/verify?code=" + code.lower()).status_code == 302
    form = public.get("/verify?code=NOT-A-CODE")
    assert form.status_code == 400 and 'value="NOT-A-CODE"' in form.get_data(as_text=True)
    unknown = codes.new_code()
    assert public.get(f"/verify/{unknown}").status_code == 404
    assert public.get("/verify/1").status_code == 404
    with app.app_context():
        certificate = db.session.scalar(select(Certificate))
        certificate.revoked_at = datetime.now(timezone.utc)
        db.session.commit()
    revoked = public.get(f"/verify/{code}").get_data(as_text=True)
    assert "Revoked" in revoked and "no longer valid" in revoked


def test_verification_is_rate_limited(make_app):
    client = make_app().test_client()
    statuses = [client.get(f"/verify/{codes.new_code()}").status_code for _ in range(31)]
    assert statuses[:30] == [404] * 30 and statuses[30] == 429


def test_credential_verifies_independently_and_breaks_when_flipped(earned, app, client):
    _user, _course, code = earned
    token = client.get(f"/certificates/{code}/credential.jwt").get_data(as_text=True)
    published = client.get("/.well-known/jwks.json").get_json()
    assert all("d" not in key for key in published["keys"])  # never the private part
    header, payload = joserfc_verify(token, published)
    assert header["kid"] == published["keys"][0]["kid"] and header["alg"] == "EdDSA"
    assert "OpenBadgeCredential" in payload["type"]
    assert payload["credentialStatus"]["statusListCredential"].endswith("/certificates/status-list")
    assert joserfc_rejects(flip_byte(token, segment=1, position=20), published)
    with app.app_context():
        certificate = db.session.scalar(select(Certificate))
        assert joserfc_verify(certificate.offline_token, published)[1]["jti"] == certificate.code


def test_cli_verify_revoke_reissue(earned, app, runner, tmp_path):
    _user, _course, code = earned
    with app.app_context():
        token = db.session.scalar(select(Certificate.credential_jwt))
    (tmp_path / "c.jwt").write_text(token)
    result = runner.invoke(args=["certificates", "verify", str(tmp_path / "c.jwt")])
    assert result.exit_code == 0 and result.output.startswith("valid")
    tampered = tmp_path / "bad.jwt"
    tampered.write_text(flip_byte(token, segment=2, position=3))
    assert runner.invoke(args=["certificates", "verify", str(tampered)]).exit_code == 1
    assert "revoked" in runner.invoke(args=["certificates", "revoke", code, "--reason", "test"]).output
    result = runner.invoke(args=["certificates", "verify", str(tmp_path / "c.jwt")])
    assert result.exit_code == 1 and "revoked" in result.output
    result = runner.invoke(args=["certificates", "reissue", code])
    new_code = result.output.strip()
    assert result.exit_code == 0 and codes.is_valid_code(new_code) and codes.normalise_code(new_code) != code
    with app.app_context():
        assert db.session.scalar(select(func.count(Certificate.id)).where(Certificate.revoked_at.is_(None))) == 1


def test_cli_issue(runner, factories, app):
    factories.make_course("cli-course", items=("lesson",))
    user = factories.make_user()
    result = runner.invoke(args=["certificates", "issue", "--email", user.email, "--course", "cli-course"])
    assert result.exit_code == 0 and codes.is_valid_code(result.output.strip())
    assert runner.invoke(args=["certificates", "issue", "--email", "x@example.org", "--course", "nope"]).exit_code == 1


def test_only_the_owner_and_admins_see_downloads_and_only_admins_revoke(earned, client, auth, factories, app):
    _user, _course, code = earned
    assert client.get(f"/certificates/{code}").status_code == 200
    assert client.post(f"/certificates/{code}/revoke").status_code == 403
    auth.logout()
    auth.login_as(factories.make_user())
    for path in (f"/certificates/{code}", f"/certificates/{code}/credential.jwt",
                 f"/certificates/{code}/certificate-en.pdf"):
        assert client.get(path).status_code == 404
    assert client.post(f"/certificates/{code}/revoke").status_code == 403
    auth.logout()
    auth.login_as(factories.make_admin())
    assert client.post(f"/certificates/{code}/revoke", data={"reason": "error"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Certificate.revoked_reason)) == "error"


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) not installed")
def test_pdf_has_the_name_in_its_script(earned, client):
    _user, _course, code = earned
    response = client.get(f"/certificates/{code}/certificate-ka.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=response.data, capture_output=True, check=True).stdout
    assert "ნინო ბერიძე" in text.decode()
    assert codes.format_code(code) in text.decode()
    again = client.get(f"/certificates/{code}/certificate-ka.pdf")
    assert again.data == response.data  # served from the cache, byte for byte


def test_status_list_and_issuer_are_public(earned, make_app):
    public = make_app().test_client()
    response = public.get("/certificates/status-list")
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", response.get_data(as_text=True))
    issuer = public.get("/issuer").get_json()
    assert issuer["id"].endswith("/issuer")
