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

from app import create_app
from app.config import normalise_database_url
from app.extensions import db
from tests.support.factories import Factories
from tests.support.smtp import SMTPServer

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
    "WTF_CSRF_ENABLED": False,
    # Fast hashing in tests; tests/auth/test_passwords.py checks the production setting.
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    "BASE_URL": "http://nergi.test",
    "SERVER_NAME": None,
}


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A database migrated to head once per test session."""
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


@pytest.fixture(scope="session")
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_app(database_url, smtp_server, tmp_path):
    """Build an app on the test database; the tables are emptied after the test."""
    apps = []

    def build(**overrides):
        config = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                  "MAIL_SERVER": smtp_server.host, "MAIL_PORT": smtp_server.port,
                  "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                  "SIGNING_KEY_PATH": str(tmp_path / "signing-key.pem"), **overrides}
        built = create_app(config)
        apps.append(built)
        return built

    yield build
    smtp_server.messages.clear()
    if apps:
        with apps[0].app_context():
            db.session.remove()
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()
        for built in apps:
            with built.app_context():
                db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


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
