"""Fixtures after the Flask tutorial: app, client, runner, auth; plus factories, a real SMTP
server on loopback, and count_queries. The same suite runs on SQLite (default) and on
PostgreSQL (TEST_DATABASE_URL)."""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager

import flask_migrate
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from app import create_app
from app.content.quiz_format import register_quiz_format
from app.quizzes.authoring import QUIZ_FORMAT
from app.config import normalise_database_url
from app.extensions import db
from tests.support import template_guard
from tests.support.factories import Factories
from tests.support.smtp import SMTPServer

# Tests load courses without an app too (tests/content): hand the loader the quiz syntax as
# create_app does.
register_quiz_format(QUIZ_FORMAT)

#: Under pytest-xdist (`make test` runs the suite on every core), each worker process has a
#: database of its own: on SQLite a file in its own temporary folder, on PostgreSQL the
#: TEST_DATABASE_URL database's name with the worker's id appended (test_gw0, test_gw1, …),
#: created on first use. Tests that make further databases derive their names from this one.
_BASE_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
TEST_DATABASE_URL = (f"{_BASE_DATABASE_URL}_{_WORKER}" if _BASE_DATABASE_URL and _WORKER
                     else _BASE_DATABASE_URL)

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
    "WTF_CSRF_ENABLED": False,
    # Fast hashing in tests; tests/auth/test_passwords.py checks the production setting.
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    "BASE_URL": "http://nergi.test",
    "SERVER_NAME": None,
}


#: The app asks SQLite to sync every commit to disk (synchronous=FULL, app/database.py). Tests
#: do not outlive a power cut: after the app's own settings, each SQLite connection opened by
#: the tests syncs less (OFF). A killed process still keeps what it committed (the kill -9 tests
#: check that). tests/core/test_database.py turns this off to see the app's own setting.
FAST_SQLITE = {"on": True}


@event.listens_for(Engine, "connect")
def _sqlite_without_fsync(dbapi_connection, connection_record):  # noqa: ARG001
    import sqlite3

    if FAST_SQLITE["on"] and isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    if _BASE_DATABASE_URL and url != normalise_database_url(_BASE_DATABASE_URL):
        server, name = url.rsplit("/", 1)
        admin = create_engine(normalise_database_url(_BASE_DATABASE_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A database migrated to head once per test session (per worker)."""
    if TEST_DATABASE_URL:
        url = normalise_database_url(TEST_DATABASE_URL)
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(autouse=True)
def _not_under_flask_cli(monkeypatch):
    """Start and end each test with shared process state as a new process has it.

    Flask's command line sets FLASK_RUN_FROM_CLI in the process when a test invokes it, which
    changes how create_app reports problems (logs instead of refusing): start each test without.
    An app built without TESTING attaches its log handler to the "nergi" logger: take it off
    again, so that later tests' caplog sees the records."""
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    yield
    # Flask-Limiter remembers "the storage is down" on the extension object, which every test's
    # app shares; a later app would count in a fallback store and then switch back mid-test.
    from app.extensions import limiter

    limiter._storage_dead = False
    for name in ("nergi", "flask-limiter"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if handler.get_name() == "nergi-stderr":
                logger.removeHandler(handler)
        logger.propagate = True


@pytest.fixture(autouse=True)
def _templates_never_query(request):
    """Fail a test in which a statement ran while a template rendered (tests/support/
    template_guard.py); `@pytest.mark.templates_may_query("why")` opts one test out."""
    template_guard.install()
    template_guard.reset()
    yield
    found = template_guard.statements_while_rendering()
    template_guard.reset()
    if found and request.node.get_closest_marker("templates_may_query") is None:
        lines = "\n".join(f"  {template}: {sql[:200]}" for template, sql in found)
        pytest.fail(f"{len(found)} statement(s) ran while a template rendered:\n{lines}", pytrace=False)


@pytest.fixture(scope="session")
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


def _test_config(database_url: str, smtp_server, tmp_path) -> dict:
    return {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
            "MAIL_SERVER": smtp_server.host, "MAIL_PORT": smtp_server.port,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "SIGNING_KEY_PATH": str(tmp_path / "signing-key.pem"),
            "CERTIFICATE_CACHE": str(tmp_path / "certificates")}


@pytest.fixture(scope="session")
def shared_app(database_url, smtp_server, tmp_path_factory):
    """The app most tests use, built once per session (per worker): building one registers
    every blueprint and costs more than most tests. Each test gets it with the configuration
    it had when built, its own folders, and empty tables (see ``app``)."""
    from app.extensions import limiter

    built = create_app(_test_config(database_url, smtp_server, tmp_path_factory.mktemp("shared")))
    # Flask-Limiter keeps its storage on the one extension object, and every create_app (a test's
    # own app) replaces it: remember the shared app's, to put it back for each test.
    built.extensions["test-limiter-state"] = dict(limiter.__dict__)
    return built


def _empty_tables() -> None:
    """Delete the rows of every table that has any: one query finds them, so a test that
    wrote to three tables costs three deletes, not one per table. Rows written by another
    process (the kill -9 tests' server) are found the same way."""
    tables = list(reversed(db.metadata.sorted_tables))
    probe = " UNION ALL ".join(
        f"SELECT {index} FROM (SELECT 1 FROM {db.engine.dialect.identifier_preparer.format_table(table)} LIMIT 1) AS t{index}"
        for index, table in enumerate(tables))
    db.session.remove()
    filled = {row[0] for row in db.session.execute(text(probe))}
    for index, table in enumerate(tables):
        if index in filled:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def make_app(database_url, smtp_server, tmp_path, shared_app):
    """Build an app on the test database with settings of the test's own (a new app each
    call); the tables are emptied after the test."""
    apps = []

    def build(**overrides):
        built = create_app({**_test_config(database_url, smtp_server, tmp_path), **overrides})
        apps.append(built)
        return built

    yield build
    smtp_server.messages.clear()
    with shared_app.app_context():
        _empty_tables()
    for built in apps:
        with built.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app, shared_app, database_url, smtp_server, tmp_path):
    """The shared app, for one test: its configuration is restored afterwards (a test may
    change settings), uploads and keys go to the test's folder, and rate-limit counters start
    at zero."""
    from app.extensions import limiter

    saved = dict(shared_app.config)
    shared_app.config.update(_test_config(database_url, smtp_server, tmp_path))
    limiter.__dict__.clear()
    limiter.__dict__.update(shared_app.extensions["test-limiter-state"])
    with shared_app.app_context():
        limiter.reset()
    yield shared_app
    shared_app.config.clear()
    shared_app.config.update(saved)
    with shared_app.app_context():
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def factories(app) -> Factories:
    return Factories(app)


class AuthActions:
    def __init__(self, client, factories):
        self._client = client
        self._factories = factories

    def login(self, email: str, password: str = "correct horse battery", remember: bool = False):
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        return self._client.post("/login", data=data)

    def login_as(self, user, **kwargs):
        response = self.login(user.email, **kwargs)
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client, factories) -> AuthActions:
    return AuthActions(client, factories)


@pytest.fixture
def count_queries(app):
    """Count the SQL statements run inside the block: `with count_queries() as queries:`."""

    @contextmanager
    def counter():
        statements: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")):
                statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counter
