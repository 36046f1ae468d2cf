"""Smaller upload findings of issue 11 (finding 8): the 413 in every language, draft files stay
private, removed files leave the disk, `files prune`, and ids too large for any row."""
from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.assignments import files as file_store
from app.assignments import services
from app.assignments.models import Attachment, Submission
from app.core.authz import AccessDenied
from app.core.converters import MAX_ID, IdConverter
from app.core.models import AuditEvent
from app.extensions import db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TOO_BIG = {"en": "big.pdf is larger than 0.1 MB.", "ka": "ფაილი big.pdf 0.1 მბ-ზე დიდია.",
           "az": "big.pdf faylı 0.1 MB həddini aşır.", "hy": "big.pdf ֆայլը գերազանցում է 0.1 ՄԲ սահմանաչափը։",
           "ru": "Файл big.pdf больше 0.1 МБ."}


def save(client, course, body="My answer", files=()):
    data = {"body": body, "action": "save"}
    if files:
        data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"/courses/{course.slug}/item2/work", data=data, content_type="multipart/form-data")


def stored_file(app) -> Path:
    with app.app_context():
        name = db.session.scalar(select(Attachment.stored_name))
    return file_store.stored_path(Path(app.config["UPLOAD_FOLDER"]), name)


@pytest.mark.parametrize("locale", sorted(TOO_BIG))
def test_an_oversize_file_is_413_in_every_language(client, auth, factories, app, locale):
    course = factories.make_course(items=("lesson", "assignment"))
    auth.login_as(factories.make_user(locale=locale))
    response = save(client, course, "ჩემი პასუხი — мой ответ", files=[("big.pdf", PDF + b"0" * (110 * 1024))])
    body = response.get_data(as_text=True)
    assert response.status_code == 413
    assert TOO_BIG[locale] in body
    assert "ჩემი პასუხი — мой ответ" in body
    with app.app_context():
        assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_a_mentor_cannot_download_a_draft_file_until_it_is_submitted(client, auth, app, setup):
    course, learner, mentor = setup
    auth.login_as(learner)
    save(client, course, "draft", files=[("plan.pdf", PDF)])
    with app.app_context():
        attachment_id = db.session.scalar(select(Attachment.id))
        submission_id = db.session.scalar(select(Submission.id))
    response = client.get(f"/files/{attachment_id}")
    assert response.status_code == 200 and response.data == PDF
    response.close()
    auth.logout()
    auth.login_as(mentor)
    response = client.get(f"/files/{attachment_id}")
    assert response.status_code == 404 and PDF not in response.data
    with app.app_context():
        refusal = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "authz_fail")).all()
        assert [(event.actor_id, event.target) for event in refusal] == [(mentor.id, f"Submission:{submission_id}")]
    auth.logout()
    auth.login_as(learner)
    client.post(f"/assignments/{submission_id}/submit", data={"form_token": "t" * 24})
    auth.logout()
    auth.login_as(mentor)
    response = client.get(f"/files/{attachment_id}")
    assert response.status_code == 200 and response.data == PDF
    response.close()


def test_a_removed_file_leaves_the_disk_once_the_removal_commits(client, auth, app, setup):
    course, learner, _mentor = setup
    auth.login_as(learner)
    save(client, course, files=[("plan.pdf", PDF)])
    path = stored_file(app)
    assert path.read_bytes() == PDF
    with app.app_context():
        attachment_id = db.session.scalar(select(Attachment.id))
        submission_id = db.session.scalar(select(Submission.id))
    # A removal that is rolled back keeps the bytes: the row still names them.
    with app.test_request_context():
        user = db.session.get(type(learner), learner.id)
        services.remove_file(user, db.session.get(Submission, submission_id), attachment_id)
        db.session.flush()
        db.session.rollback()
    assert path.is_file()
    response = client.post(f"/assignments/{submission_id}/files/{attachment_id}/remove")
    assert response.status_code == 302
    assert not path.exists()
    with app.app_context():
        assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_a_file_whose_upload_is_not_committed_is_deleted(app, setup):
    """store_file writes before the commit; a rolled-back upload must not leave its bytes."""
    course, learner, _mentor = setup
    upload = type("Upload", (), {"filename": "plan.pdf", "stream": io.BytesIO(PDF)})()
    options = services.AssignmentOptions(rubric=[], types=["pdf"], max_count=3, max_mb=1,
                                         pass_points=None, suggested_words=None)
    with app.test_request_context():
        from app.content.models import Item

        user = db.session.get(type(learner), learner.id)
        item = db.session.scalar(select(Item).where(Item.course_id == course.id, Item.slug == "item2"))
        submission = services.submission_for(user, item, create=True)
        attachment = services.attach_file(user, submission, upload, options)
        path = file_store.stored_path(Path(app.config["UPLOAD_FOLDER"]), attachment.stored_name)
        assert path.read_bytes() == PDF
        db.session.rollback()
    assert not path.exists()


def _age(path: Path, minutes: float) -> None:
    moment = time.time() - minutes * 60
    os.utime(path, (moment, moment))


def test_files_prune_deletes_only_old_orphans(client, auth, app, setup, runner):
    course, learner, _mentor = setup
    auth.login_as(learner)
    save(client, course, files=[("plan.pdf", PDF)])
    kept = stored_file(app)
    _age(kept, 600)
    folder = Path(app.config["UPLOAD_FOLDER"])
    old_orphan = folder / "ab" / ("ab" + "1" * 30)
    young_orphan = folder / "ab" / ("ab" + "2" * 30)
    partial = folder / "cd" / f".{'cd' + '3' * 30}.part"
    foreign = folder / "ab" / "notes.txt"
    for path in (old_orphan, young_orphan, partial, foreign):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 10)
    for path in (old_orphan, partial, foreign):
        _age(path, 120)

    dry = runner.invoke(args=["files", "prune", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    listed = set(re.findall(r"would delete (\S+) \(", dry.output))
    assert listed == {str(old_orphan), str(partial)}
    assert "would delete 2 orphaned file(s), 20 bytes; 1 attachment(s) kept" in dry.output
    assert old_orphan.exists() and partial.exists()

    result = runner.invoke(args=["files", "prune"])
    assert result.exit_code == 0 and "deleted 2 orphaned file(s)" in result.output
    assert not old_orphan.exists() and not partial.exists()
    assert kept.read_bytes() == PDF and young_orphan.exists() and foreign.exists()
    assert "deleted 1 orphaned" in runner.invoke(args=["files", "prune", "--older-than", "0"]).output
    assert not young_orphan.exists() and kept.exists()


HUGE_IDS = [str(2**31), str(2**63), str(2**64), "9" * 30, "1" * 5000]


def test_ids_too_large_for_any_row_are_404_on_every_route(client, auth, factories, app):
    """Every route with an <int:…> part, walked from the URL map, as an admin (who may see
    everything): an id no row can have is simply not found. Id columns are INTEGER, so on
    PostgreSQL anything past 2**31 - 1 failed too (the parameter is cast to INTEGER)."""
    auth.login_as(factories.make_admin())
    routes = [rule for rule in app.url_map.iter_rules()
              if any(isinstance(converter, IdConverter) for converter in rule._converters.values())]
    prefixes = {rule.rule.split("/")[1] for rule in routes}
    assert {"files", "attempts", "review", "cohorts", "assignments", "admin"} <= prefixes
    for rule in routes:
        method = "GET" if "GET" in rule.methods else "POST"
        for huge in HUGE_IDS:
            path = re.sub(r"<int:\w+>", huge, rule.rule)
            path = re.sub(r"<(?:\w+:)?\w+>", "x", path)
            response = client.open(path, method=method)
            assert response.status_code == 404, (rule.rule, huge[:25], response.status_code)
    # The largest id a row can have is a number like any other.
    assert MAX_ID == 2**31 - 1
    assert client.get(f"/files/{MAX_ID}").status_code == 404
    assert client.get(f"/review/{MAX_ID:025d}").status_code == 404  # leading zeros


def test_a_review_form_with_a_huge_revision_id_is_refused(client, auth, app, setup):
    course, learner, mentor = setup
    auth.login_as(learner)
    save(client, course, "done")
    with app.app_context():
        submission_id = db.session.scalar(select(Submission.id))
    client.post(f"/assignments/{submission_id}/submit", data={"form_token": "h" * 24})
    auth.logout()
    auth.login_as(mentor)
    response = client.post(f"/review/{submission_id}", data={"revision_id": str(2**31), "version": "2",
                                                              "decision": "approve"})
    assert response.status_code == 400


def test_attachment_to_download_refuses_unknown_ids(app, setup):
    _course, learner, _mentor = setup
    with app.test_request_context():
        with pytest.raises(AccessDenied) as refused:
            services.attachment_to_download(learner, 12345)
        assert refused.value.hide
