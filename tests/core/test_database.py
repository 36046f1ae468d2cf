"""Database settings (docs/security.md DATA-1) and migrations from an empty database (both databases)."""
from __future__ import annotations

import threading

import flask_migrate
import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from tests.conftest import FAST_SQLITE, TEST_CONFIG, TEST_DATABASE_URL

sqlite_only = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite settings")


@sqlite_only
def test_sqlite_connection_settings(app, monkeypatch):
    monkeypatch.setitem(FAST_SQLITE, "on", False)  # the app's own settings, not the suite's
    with app.app_context():
        db.engine.dispose()
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


@sqlite_only
def test_concurrent_writers_do_not_lose_updates_or_fail(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.session.execute(text("CREATE TABLE counter (n INTEGER)"))
        db.session.execute(text("INSERT INTO counter VALUES (0)"))
        db.session.commit()
    errors: list[Exception] = []

    def work():
        with app.app_context():
            for _ in range(50):
                try:
                    n = db.session.execute(text("SELECT n FROM counter")).scalar()
                    db.session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
                    db.session.commit()
                except Exception as error:  # collected and asserted below
                    errors.append(error)
                    db.session.rollback()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        assert db.session.execute(text("SELECT n FROM counter")).scalar() == 400
        db.engine.dispose()
    assert errors == []


def test_upgrade_from_empty_database_then_nothing_pending(tmp_path):
    if TEST_DATABASE_URL:
        from sqlalchemy import create_engine

        from app.config import normalise_database_url

        base = normalise_database_url(TEST_DATABASE_URL)
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS nergi_migration_test"))
            conn.execute(text("CREATE DATABASE nergi_migration_test"))
        url = base.rsplit("/", 1)[0] + "/nergi_migration_test"
    else:
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.check()  # exits non-zero (SystemExit) when the models and the schema differ
        tables = set(db.inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert {"user", "audit_event", "outbox_message", "auth_token", "alembic_version"} <= tables
    if TEST_DATABASE_URL:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE nergi_migration_test"))
        admin.dispose()
