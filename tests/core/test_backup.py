"""Backup drill (docs/security.md DATA-6): an online copy taken while a writer runs is whole and complete."""
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


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="the SQLite restore; PostgreSQL's is below")
def test_sqlite_backup_is_private_and_restores_as_documented(tmp_path, app, runner, factories):
    """docs/operations.md: stop the app, put the copy in place of instance/nergi.db (removing any
    -wal/-shm beside it), start again."""
    import os
    import stat

    factories.make_user(email="kept@example.org")
    dest = tmp_path / "backups" / "nergi.db"
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    restored = tmp_path / "restored" / "nergi.db"
    restored.parent.mkdir()
    shutil.copy2(dest, restored)
    again = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{restored}"})
    with again.app_context():
        assert db.session.execute(text("SELECT email FROM \"user\"")).scalars().all() == ["kept@example.org"]
        heads = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        db.engine.dispose()
    assert len(heads) == 1
    os.chmod(dest, 0o644)  # an existing file is made private again by the next backup
    runner.invoke(args=["backup", str(dest)])
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600


@pytest.mark.skipif(not TEST_DATABASE_URL or not shutil.which("pg_restore"), reason="needs PostgreSQL and pg_restore")
def test_postgres_restore_as_documented_into_an_empty_database_and_over_a_used_one(app, runner, tmp_path, factories):
    import stat
    import subprocess
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    factories.make_user(email="kept@example.org")
    dump = tmp_path / "nergi.dump"
    assert runner.invoke(args=["backup", str(dump)]).exit_code == 0
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    server = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    name = f"restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    target = server.set(database=name, drivername="postgresql").render_as_string(hide_password=False)
    try:
        for attempt in ("empty database", "over the restored one"):
            # The command docs/operations.md gives, word for word but for the names.
            done = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={target}",
                                   str(dump)], capture_output=True, text=True)
            assert done.returncode == 0 and not done.stderr, (attempt, done.stderr[-2000:])
        restored = create_engine(server.set(database=name))
        with restored.connect() as connection:
            assert connection.execute(text('SELECT email FROM "user"')).scalars().all() == ["kept@example.org"]
        restored.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_an_in_memory_database_is_refused_with_a_reason(tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.db")])
    assert result.exit_code == 2
    assert "in-memory SQLite database has no file to back up" in result.output
    assert not (tmp_path / "copy.db").exists()
