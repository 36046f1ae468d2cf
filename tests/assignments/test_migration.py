"""The comment-bank sharing migration: from an empty database, and from the previous head with
comments in it (both databases); existing comments stay, private to their authors; it goes down
and up again."""
from __future__ import annotations

import flask_migrate
import pytest
from sqlalchemy import inspect, text

from app import create_app
from app.extensions import db
from tests.conftest import TEST_CONFIG, TEST_DATABASE_URL
from tests.support.databases import own_database

PREVIOUS = "7f3a9c1d2e4b"
MINE = "b5e2d8c4a913"


@pytest.fixture
def empty_database(tmp_path):
    """A database of its own (tests/support/databases.py)."""
    with own_database(TEST_DATABASE_URL, tmp_path, "comment_bank") as url:
        yield url


def _columns(table: str) -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns(table)}


def test_from_an_empty_database_the_schema_is_the_models(empty_database):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        flask_migrate.upgrade()
        assert {"cohort_id", "shared", "updated_at"} <= _columns("comment_bank_entry")
        flask_migrate.check()
        db.session.remove()
        db.engine.dispose()


def test_from_the_previous_head_comments_are_kept_private(empty_database):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        flask_migrate.upgrade(revision=PREVIOUS)
        db.session.execute(text(
            "INSERT INTO \"user\" (email, name, locale, is_admin, is_active_account, session_version, "
            "municipality, organisation, created_at) VALUES ('m@example.org', 'M', 'en', false, true, 1, '', '', "
            "CURRENT_TIMESTAMP)"))
        db.session.execute(text(
            "INSERT INTO course (slug, source_hash, titles, summaries, audience, languages, estimated_hours, "
            "is_open, completion, created_at, updated_at) VALUES ('c', 'h', '{}', '{}', '{}', '[]', 1, true, "
            "'{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        db.session.execute(text(
            "INSERT INTO item (course_id, slug, kind, position, required, minutes, created_at, updated_at) "
            "SELECT id, 'a', 'assignment', 0, true, 5, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM course"))
        db.session.execute(text(
            "INSERT INTO comment_bank_entry (item_id, author_id, text, created_at) "
            "SELECT item.id, \"user\".id, 'Kept comment', CURRENT_TIMESTAMP FROM item, \"user\""))
        db.session.commit()
        flask_migrate.upgrade(revision=MINE)
        rows = db.session.execute(text("SELECT text, shared, cohort_id, updated_at, author_id IS NOT NULL "
                                       "FROM comment_bank_entry")).all()
        assert [(row[0], bool(row[1]), row[2], row[3], bool(row[4])) for row in rows] == [
            ("Kept comment", False, None, None, True)]
        db.session.commit()
        flask_migrate.downgrade(revision=PREVIOUS)
        assert "shared" not in _columns("comment_bank_entry")
        assert db.session.execute(text("SELECT text FROM comment_bank_entry")).scalars().all() == ["Kept comment"]
        db.session.commit()
        flask_migrate.upgrade()
        assert "shared" in _columns("comment_bank_entry")
        db.session.remove()
        db.engine.dispose()
