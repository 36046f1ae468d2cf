"""Attachments shown in the page and "download all" as a zip: headers, names, streaming, and
who may fetch them (the learner, their mentor, the cohort's trainer, an admin; nobody else)."""
from __future__ import annotations

import io
import os
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.assignments import archive
from app.assignments.models import Attachment, MentorLink, Submission
from app.extensions import db
from tests.assignments.test_assignments import PDF, PNG, save, submit
from tests.cohorts.conftest import make_cohort


def fetch(client, url):
    """(status, headers) of a GET, the response closed (files are sent from open handles)."""
    response = client.get(url)
    response.close()
    return response.status_code, response.headers


@pytest.fixture
def people(app, factories):
    course = factories.make_course(items=("lesson", "assignment"))
    who = {key: factories.make_user(name=key) for key in (
        "learner", "other_learner", "mentor", "other_mentor", "trainer", "other_trainer")}
    who["admin"] = factories.make_admin(name="admin")
    cohort = make_cohort(app, name="A", courses=[course], trainers=[who["trainer"]],
                         mentors=[who["mentor"], who["other_mentor"]], learners=[who["learner"], who["other_learner"]])
    make_cohort(app, name="B", courses=[course], trainers=[who["other_trainer"]])
    with app.app_context():
        db.session.add_all([MentorLink(mentor_id=who["mentor"].id, learner_id=who["learner"].id, cohort_id=cohort),
                            MentorLink(mentor_id=who["other_mentor"].id, learner_id=who["other_learner"].id,
                                       cohort_id=cohort)])
        db.session.commit()
    return course, who


@pytest.fixture
def handed_in(client, app, auth, people):
    course, who = people
    auth.login_as(who["learner"])
    save(client, course, "see files", files=[("plan.pdf", PDF), ("photo.png", PNG)])
    response, submission_id = submit(client, app, course, "see files")
    assert response.status_code == 302
    auth.logout()
    with app.app_context():
        files = {a.original_name: a.id for a in db.session.scalars(select(Attachment))}
    return submission_id, files


def test_pictures_and_pdfs_are_shown_in_the_page(client, app, auth, people, handed_in):
    _course, who = people
    submission_id, files = handed_in
    for person, url in (("mentor", f"/review/{submission_id}"), ("learner", f"/courses/{_course.slug}/item2")):
        auth.login_as(who[person])
        body = client.get(url).get_data(as_text=True)
        assert f'<img src="/files/{files["photo.png"]}/view" alt="photo.png"' in body
        assert f'<iframe src="/files/{files["plan.pdf"]}/view" title="plan.pdf"' in body
        assert f'href="/files/{files["plan.pdf"]}" download' in body  # the fallback
        assert f'href="/assignments/{submission_id}/files.zip"' in body
        auth.logout()


def test_inline_headers(client, app, auth, people, handed_in):
    _course, who = people
    _submission_id, files = handed_in
    auth.login_as(who["mentor"])
    pdf = client.get(f"/files/{files['plan.pdf']}/view")
    assert pdf.status_code == 200 and pdf.data == PDF and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("inline;")
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"
    csp = pdf.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'self'" in csp and "script" not in csp
    assert pdf.headers["X-Frame-Options"] == "SAMEORIGIN" and pdf.headers["Cache-Control"] == "private, no-store"
    png = client.get(f"/files/{files['photo.png']}/view")
    assert png.data == PNG and png.mimetype == "image/png" and png.headers["Content-Disposition"].startswith("inline;")
    assert png.headers["Content-Security-Policy"].startswith("sandbox")
    # The review page itself still refuses plugins and being framed.
    page_csp = client.get(f"/review/{_submission_id}").headers["Content-Security-Policy"]
    assert "object-src 'none'" in page_csp and "frame-ancestors 'none'" in page_csp
    pdf.close()
    png.close()


def test_text_and_office_files_are_never_shown_inline(client, app, auth, people):
    course, who = people
    auth.login_as(who["learner"])
    save(client, course, files=[("notes.txt", b"<script>alert(1)</script>")])
    with app.app_context():
        attachment_id = db.session.scalar(select(Attachment.id))
    assert fetch(client, f"/files/{attachment_id}/view")[0] == 404
    assert fetch(client, f"/files/{attachment_id}")[1]["Content-Disposition"].startswith("attachment;")
    for content_type, kind in (("application/pdf", "pdf"), ("image/png", "image"), ("image/jpeg", "image"),
                               ("text/plain", None), ("image/svg+xml", None), ("text/html", None),
                               ("application/vnd.oasis.opendocument.text", None)):
        assert archive.viewable_kind(Attachment(content_type=content_type)) == kind


def test_download_all_is_a_zip_of_every_version(client, app, auth, people, handed_in):
    _course, who = people
    submission_id, _files = handed_in
    auth.login_as(who["trainer"])
    response = client.get(f"/assignments/{submission_id}/files.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.is_streamed
    assert response.headers["Content-Disposition"] == f'attachment; filename="work-{submission_id}.zip"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with zipfile.ZipFile(io.BytesIO(response.data)) as bundle:
        assert bundle.testzip() is None
        assert {name: bundle.read(name) for name in bundle.namelist()} == {"v1/plan.pdf": PDF, "v1/photo.png": PNG}


def test_names_in_the_zip_are_safe_and_unique():
    assert archive.zip_names([("v1", "../../plan.pdf"), ("v1", "PLAN.pdf"), ("v1", "plan.pdf"), ("v2", "plan.pdf"),
                              ("v1", "\u202egnp.exe"), ("v1", "noext"), ("v1", "NOEXT"), ("v1", "..")]) == [
        "v1/plan.pdf", "v1/PLAN (2).pdf", "v1/plan (3).pdf", "v2/plan.pdf", "v1/gnp.exe", "v1/noext",
        "v1/NOEXT (2)", "v1/file"]


def test_the_zip_is_streamed_in_small_pieces(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    small = tmp_path / "small"
    small.write_bytes(b"hello")
    at = datetime(2026, 12, 6, tzinfo=UTC)
    pieces = list(archive.stream_zip([("v1/big.bin", big, big.stat().st_size, at),
                                      ("v1/small.txt", small, 5, at)]))
    assert len(pieces) > 20 and max(len(piece) for piece in pieces) < 512 * 1024
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as bundle:
        assert bundle.read("v1/big.bin") == big.read_bytes() and bundle.read("v1/small.txt") == b"hello"


def test_authorisation_table(client, app, auth, people, handed_in):
    _course, who = people
    submission_id, files = handed_in
    routes = [f"/files/{files['plan.pdf']}/view", f"/files/{files['photo.png']}/view",
              f"/assignments/{submission_id}/files.zip", f"/files/{files['plan.pdf']}"]
    expected = {None: 302, "learner": 200, "mentor": 200, "trainer": 200, "admin": 200,
                "other_learner": 404, "other_mentor": 404, "other_trainer": 404}
    for person, status in expected.items():
        if person:
            auth.login_as(who[person])
        for route in routes:
            response = client.get(route)
            assert response.status_code == status, (person, route)
            if status != 200:
                assert PDF not in response.data and PNG not in response.data
            response.close()
        if person:
            auth.logout()


def test_draft_files_stay_the_learners_and_no_files_is_not_found(client, app, auth, people):
    course, who = people
    auth.login_as(who["learner"])
    save(client, course, "draft", files=[("draft.pdf", PDF)])
    with app.app_context():
        attachment_id = db.session.scalar(select(Attachment.id))
        submission_id = db.session.scalar(select(Submission.id))
    assert fetch(client, f"/files/{attachment_id}/view")[0] == 200
    assert fetch(client, f"/assignments/{submission_id}/files.zip")[0] == 404  # nothing handed in yet
    auth.logout()
    auth.login_as(who["mentor"])
    assert fetch(client, f"/files/{attachment_id}/view")[0] == 404
