"""A stricter sanitiser reaches lessons rendered before it (issue 11, finding 9; docs/security.md OUT-4).

Course HTML is rendered at sync time and stored; a course whose hash is unchanged is skipped.
The rendering policy is part of that hash, so changing the allow-list re-renders every course.
"""
from __future__ import annotations

from sqlalchemy import select

from app.content import render, sanitize
from app.content.models import Course, ItemTranslation
from app.extensions import db
from tests.learning.test_sync_and_pages import lesson, sync, write_course


def stored_html(app) -> dict[str, str]:
    with app.app_context():
        rows = db.session.execute(select(ItemTranslation.lang, ItemTranslation.html)
                                  .order_by(ItemTranslation.id)).all()
        return {f"{lang}{n}": html for n, (lang, html) in enumerate(rows)}


def test_the_fingerprint_follows_the_policy(monkeypatch):
    before = render.rendering_fingerprint()
    assert render.rendering_fingerprint() == before  # stable: an unchanged policy re-renders nothing
    assert render.rendered_hash("abc") != render.rendered_hash("abd")
    monkeypatch.setattr(sanitize, "ALLOWED_TAGS", sanitize.ALLOWED_TAGS - {"mark"})
    stricter = render.rendering_fingerprint()
    assert stricter != before
    monkeypatch.setattr(sanitize, "ALLOWED_PROTOCOLS", frozenset({"https"}))
    assert render.rendering_fingerprint() not in (before, stricter)
    monkeypatch.undo()
    monkeypatch.setattr(sanitize, "POLICY_VERSION", sanitize.POLICY_VERSION + 1)
    assert render.rendering_fingerprint() != before


def test_a_stricter_allow_list_reaches_lessons_synced_before_it(runner, app, tmp_path, monkeypatch):
    folder = write_course(tmp_path)
    (folder / "01-intro.en.md").write_text(
        lesson("Lesson intro", "Keep <mark>this highlighted</mark> and [this link](https://example.org/a).\n"),
        encoding="utf-8")
    assert "added demo" in sync(runner, tmp_path).output
    first = stored_html(app)
    assert "<mark>this highlighted</mark>" in first["en0"]
    with app.app_context():
        hash_before = db.session.scalar(select(Course.source_hash))

    # The next release drops <mark> and plain http(s) links stay: the files do not change.
    monkeypatch.setattr(sanitize, "ALLOWED_TAGS", sanitize.ALLOWED_TAGS - {"mark"})
    result = sync(runner, tmp_path)
    assert "changed demo" in result.output, result.output
    second = stored_html(app)
    assert "<mark>" not in second["en0"] and "this highlighted" in second["en0"]
    assert '<a href="https://example.org/a">this link</a>' in second["en0"]
    assert second.keys() == first.keys()
    with app.app_context():
        assert db.session.scalar(select(Course.source_hash)) != hash_before

    # Nothing changed since: nothing to do, as before.
    assert "nothing to do" in sync(runner, tmp_path).output
