"""The certificate's cohort becomes a foreign key (issue 17): from an empty database, and from the
previous head with certificates in it (both databases). A certificate naming a cohort that does not
exist loses it; deleting a cohort keeps its certificates (their cohort becomes NULL); down and up."""
from __future__ import annotations

import flask_migrate
import pytest
from sqlalchemy import inspect, text

from app import create_app
from app.extensions import db
from tests.conftest import TEST_CONFIG, TEST_DATABASE_URL
from tests.support.databases import own_database

PREVIOUS = "b5e2d8c4a913"
MINE = "d4e8a1f2c7b5"


@pytest.fixture
def empty_database(tmp_path):
    """A database of its own (tests/support/databases.py)."""
    with own_database(TEST_DATABASE_URL, tmp_path, "certificate_cohort") as url:
        yield url


def _foreign_keys() -> list[tuple[list[str], str]]:
    return [(key["constrained_columns"], key["referred_table"])
            for key in inspect(db.engine).get_foreign_keys("certificate")]


def test_from_an_empty_database_the_schema_is_the_models(empty_database):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        flask_migrate.upgrade()
        assert (["cohort_id"], "cohort") in _foreign_keys()
        flask_migrate.check()
        db.session.remove()
        db.engine.dispose()


CERTIFICATE = (
    "INSERT INTO certificate (code, user_id, course_id, cohort_id, lang, learner_name, issued_at, "
    "revoked_reason, status_index, salt, credential_jwt, offline_token) "
    "SELECT :code, u.id, c.id, :cohort, 'en', 'Nino', CURRENT_TIMESTAMP, '', :index, 's', 'j', 't' "
    "FROM \"user\" u, course c WHERE c.slug = :course")


def test_from_the_previous_head_certificates_keep_their_cohort(empty_database):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        flask_migrate.upgrade(revision=PREVIOUS)
        assert (["cohort_id"], "cohort") not in _foreign_keys()
        db.session.execute(text(
            "INSERT INTO \"user\" (email, name, locale, is_admin, is_active_account, session_version, "
            "municipality, organisation, created_at) VALUES ('l@example.org', 'L', 'en', false, true, 1, '', '', "
            "CURRENT_TIMESTAMP)"))
        db.session.execute(text(
            "INSERT INTO course (slug, source_hash, titles, summaries, audience, languages, estimated_hours, "
            "is_open, completion, created_at, updated_at) VALUES ('c', 'h', '{}', '{}', '{}', '[]', 1, true, "
            "'{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), ('d', 'h', '{}', '{}', '{}', '[]', 1, true, "
            "'{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        cohort_id = db.session.execute(text(
            "INSERT INTO cohort (name, municipality, language, risk_inactive_days, risk_failed_attempts, "
            "risk_unanswered_days, risk_behind_points, created_at, updated_at) "
            "VALUES ('YPP Marneuli', 'Marneuli', 'az', 14, 3, 7, 20, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id")).scalar()
        db.session.execute(text(CERTIFICATE), {"code": "A" * 16, "cohort": cohort_id, "index": 1, "course": "c"})
        db.session.execute(text(CERTIFICATE), {"code": "B" * 16, "cohort": cohort_id + 100, "index": 2, "course": "d"})
        db.session.commit()

        flask_migrate.upgrade(revision=MINE)
        assert (["cohort_id"], "cohort") in _foreign_keys()
        rows = db.session.execute(text("SELECT code, cohort_id FROM certificate ORDER BY code")).all()
        assert [tuple(row) for row in rows] == [("A" * 16, cohort_id), ("B" * 16, None)]
        db.session.commit()
        keys = [key for key in inspect(db.engine).get_foreign_keys("certificate")
                if key["constrained_columns"] == ["cohort_id"]]
        assert keys[0]["options"].get("ondelete") == "SET NULL"
        if TEST_DATABASE_URL:  # a deleted cohort leaves its certificates valid, without a cohort
            db.session.execute(text("DELETE FROM cohort WHERE id = :id"), {"id": cohort_id})
            db.session.commit()
            assert db.session.execute(text("SELECT count(*) FROM certificate WHERE cohort_id IS NULL")).scalar() == 2
            db.session.commit()  # PostgreSQL: the downgrade's ALTER TABLE waits for open transactions

        flask_migrate.downgrade(revision=PREVIOUS)
        assert (["cohort_id"], "cohort") not in _foreign_keys()
        assert db.session.execute(text("SELECT count(*) FROM certificate")).scalar() == 2
        db.session.commit()
        flask_migrate.upgrade()
        db.session.remove()
        db.engine.dispose()
