"""Reads do not queue behind writes; writers still never see "database is locked" (issue 18).

On SQLite, requests that only read begin a deferred transaction (a WAL snapshot), so they run
while another connection holds the write lock; everything that writes begins IMMEDIATE and
queues. On PostgreSQL the same tests hold: reads never wait for row locks there.
"""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, func, select, text

import app.database as database
from app.auth import services as auth_services
from app.core.models import AuditEvent
from app.extensions import db
from tests.conftest import TEST_DATABASE_URL
from tests.support.factories import Factories
from tests.support.concurrency import race
from tests.support.factories import PASSWORD

sqlite_only = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite locking")


class WriteLockHolder:
    """Another connection that has written (uncommitted) and so holds the write lock (SQLite)
    or the row's lock (PostgreSQL) until release()."""

    def __init__(self, app, user_id: int, new_name: str):
        with app.app_context():
            self.engine = create_engine(db.engine.url)
        self.conn = self.engine.connect()
        # Our "begin" hook makes this BEGIN IMMEDIATE on SQLite (no request context).
        self.conn.execute(text('UPDATE "user" SET name = :name WHERE id = :id'),
                          {"name": new_name, "id": user_id})

    def release(self, commit: bool = False):
        if commit:
            self.conn.commit()
        else:
            self.conn.rollback()
        self.conn.close()
        self.engine.dispose()


@pytest.fixture
def short_busy_timeout(monkeypatch):
    # On a build where reads take the write lock, the read below fails after this long
    # instead of the production 15 s.
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 1000)


def test_a_read_proceeds_while_another_connection_holds_the_write_lock(
        app, client, auth, factories, short_busy_timeout):
    course = factories.make_course(items=("lesson",))
    learner = factories.make_user(name="Nino Beridze")
    auth.login_as(learner)
    holder = WriteLockHolder(app, learner.id, "Renamed Meanwhile")
    try:
        profile = client.get("/profile")
        lesson = client.get(f"/courses/{course.slug}/item1")
    finally:
        holder.release()
    assert profile.status_code == 200
    page = profile.get_data(as_text=True)
    # The read saw the last committed state, not the other connection's uncommitted write.
    assert "Nino Beridze" in page and "Renamed Meanwhile" not in page
    assert lesson.status_code == 200
    assert "Text of item 1 in en" in lesson.get_data(as_text=True)


def test_readers_run_during_a_long_write_and_the_write_is_kept(app, auth, factories, short_busy_timeout):
    course = factories.make_course(items=("lesson",))
    learner = factories.make_user(name="Ani Kapanadze")
    auth.login_as(learner)
    cookie = auth._client.get_cookie("nergi_session").value
    holder = WriteLockHolder(app, learner.id, "Ani Written")

    def read():
        client = app.test_client()
        client.set_cookie("nergi_session", cookie)
        response = client.get(f"/courses/{course.slug}/item1")
        return response.status_code, "Text of item 1 in en" in response.get_data(as_text=True)

    try:
        results = race(*[read for _ in range(6)])
    finally:
        holder.release(commit=True)
    assert results == [(200, True)] * 6
    with app.app_context():
        assert db.session.scalar(text('SELECT name FROM "user" WHERE id = :id'), {"id": learner.id}) \
            == "Ani Written"


def test_concurrent_sign_ins_and_writes_beside_reads_all_succeed(app, factories):
    """Writers queue (sign-ins and lesson completions), readers do not; nothing fails."""
    course = factories.make_course(items=("lesson", "lesson"))
    learners = [factories.make_user() for _ in range(6)]
    readers = [factories.make_user() for _ in range(2)]
    signed_in = []
    for reader in readers:
        client = app.test_client()
        assert client.post("/login", data={"email": reader.email, "password": PASSWORD}).status_code == 302
        signed_in.append(client)

    def sign_in_and_finish(learner):
        def call():
            client = app.test_client()
            first = client.post("/login", data={"email": learner.email, "password": PASSWORD})
            enrol = client.post(f"/courses/{course.slug}/enrol")
            done = client.post(f"/courses/{course.slug}/item1/done")
            return first.status_code, enrol.status_code, done.status_code
        return call

    def read(client):
        def call():
            return [client.get(f"/courses/{course.slug}/item{n}").status_code for n in (1, 2, 1)]
        return call

    results = race(*[sign_in_and_finish(learner) for learner in learners],
                   *[read(client) for client in signed_in])
    assert results[:6] == [(302, 302, 302)] * 6
    assert results[6:] == [[200, 200, 200]] * 2
    from app.learning.models import Progress

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "login_success")) == 8
        assert db.session.scalar(select(func.count()).select_from(Progress)
                                 .where(Progress.user_id.in_([u.id for u in learners]))) == 6


@sqlite_only
def test_sign_in_checks_the_password_without_holding_the_write_lock(app, auth, factories, monkeypatch):
    learner = factories.make_user()
    with app.app_context():
        path = db.engine.url.database
    others_could_write: list[bool] = []
    real_check = auth_services.check_password_hash

    def check_and_probe(stored, password):
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            others_could_write.append(True)
        except sqlite3.OperationalError:
            others_could_write.append(False)
        finally:
            probe.close()
        return real_check(stored, password)

    monkeypatch.setattr(auth_services, "check_password_hash", check_and_probe)
    assert auth.login(learner.email).status_code == 302
    assert auth.login("nobody@example.org", "wrong password here").status_code == 200
    assert others_could_write == [True, True]
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["login_success", "login_failure"]


def test_an_account_deactivated_during_the_password_check_is_not_signed_in(app, auth, factories, monkeypatch):
    learner = factories.make_user()
    real_check = auth_services.check_password_hash

    def check_then_deactivate(stored, password):
        result = real_check(stored, password)
        with app.app_context():
            engine = create_engine(db.engine.url)
        with engine.begin() as conn:
            conn.execute(text('UPDATE "user" SET is_active_account = :no WHERE id = :id'),
                         {"no": False, "id": learner.id})
        engine.dispose()
        return result

    monkeypatch.setattr(auth_services, "check_password_hash", check_then_deactivate)
    response = auth.login(learner.email)
    assert response.status_code == 200
    assert "not correct" in response.get_data(as_text=True)
    with app.app_context():
        last = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())).first()
    assert last == "login_failure"


@sqlite_only
def test_a_get_view_that_writes_after_reading_is_caught_unless_marked(make_app):
    app = make_app()  # an app of its own: the test adds routes
    user = Factories(app).make_user()

    def unmarked():
        db.session.execute(text('SELECT name FROM "user"')).all()
        db.session.execute(text('UPDATE "user" SET name = name WHERE id = :id'), {"id": user.id})
        db.session.commit()
        return "written"

    marked = database.writes(lambda: unmarked())
    app.add_url_rule("/_test/unmarked", "unmarked", unmarked)
    app.add_url_rule("/_test/marked", "marked", marked)
    client = app.test_client()
    with pytest.raises(database.WriteInReadTransaction):
        client.get("/_test/unmarked")
    assert client.get("/_test/marked").get_data(as_text=True) == "written"


@sqlite_only
def test_requests_that_write_begin_immediate_and_reads_deferred(app, client, auth, factories):
    course = factories.make_course(items=("lesson",))
    learner = factories.make_user()
    auth.login_as(learner)
    begins: list[str] = []

    def watch(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("BEGIN"):
            begins.append(statement.strip().upper())

    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", watch)
    try:
        client.get(f"/courses/{course.slug}/item1")
        reads = list(begins)
        begins.clear()
        client.post(f"/courses/{course.slug}/enrol")
        written = list(begins)
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert reads and set(reads) == {"BEGIN"}
    assert written and set(written) == {"BEGIN IMMEDIATE"}
