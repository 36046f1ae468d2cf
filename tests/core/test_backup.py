"""Backup drill (SECURITY R6): an online copy taken while a writer runs is whole and complete."""
from __future__ import annotations

import shutil
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from tests.conftest import TEST_CONFIG, TEST_DATABASE_URL


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="the SQLite drill; PostgreSQL uses pg_dump below")
def test_sqlite_backup_while_writing(tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.db'}"})
    with app.app_context():
        db.session.execute(text("CREATE TABLE event (id INTEGER PRIMARY KEY, body TEXT)"))
        db.session.commit()
    acknowledged: list[int] = []
    stop = threading.Event()

    def writer():
        with app.app_context():
            n = 0
            while not stop.is_set():
                n += 1
                db.session.execute(text("INSERT INTO event (id, body) VALUES (:n, :b)"), {"n": n, "b": "x" * 200})
                db.session.commit()
                acknowledged.append(n)

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.3)
    before_backup = list(acknowledged)
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.db")])
    stop.set()
    thread.join()
    assert result.exit_code == 0 and "integrity_check: ok" in result.output
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = {row[0] for row in copy.execute("SELECT id FROM event")}
    assert before_backup and set(before_backup) <= ids
    with app.app_context():
        db.engine.dispose()


@pytest.mark.skipif(not TEST_DATABASE_URL or not shutil.which("pg_dump"), reason="needs PostgreSQL and pg_dump")
def test_postgres_backup_with_pg_dump(app, runner, tmp_path, factories):
    factories.make_user(email="kept@example.org")
    result = runner.invoke(args=["backup", str(tmp_path / "nergi.dump")])
    assert result.exit_code == 0, result.output
    listing = __import__("subprocess").run(["pg_restore", "--list", str(tmp_path / "nergi.dump")],
                                           capture_output=True, text=True, check=True).stdout
    assert "TABLE DATA public user" in listing
