"""Browser tests: the app served on a free loopback port, driven in Debian's Chromium.

Never downloads a browser. Under CI (CI=true) a missing Chromium fails the run; elsewhere the
tests are skipped with the reason.
"""
from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import flask_migrate
import pytest
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from tests.support.smtp import SMTPServer, free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        message = f"Chromium not found at {CHROMIUM}; install Debian's chromium package"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


@pytest.fixture(scope="session")
def mail_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, mail_server):
    """The app with demo accounts and the courses, on its own SQLite database."""
    folder = tmp_path_factory.mktemp("live")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "e2e-secret-key-long-enough-for-the-tests-xx",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'e2e.db'}",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "MAIL_SERVER": mail_server.host, "MAIL_PORT": mail_server.port,
        "UPLOAD_FOLDER": str(folder / "uploads"),
        "SIGNING_KEY_PATH": str(folder / "signing-key.pem"),
        "RATELIMIT_ENABLED": False,
    })
    with app.app_context():
        flask_migrate.upgrade()
    runner = app.test_cli_runner()
    # Courses first, as `make run` does: the demo cohort takes the courses there are, and work
    # belongs to a cohort only in the cohort's courses.
    for args in (["courses", "sync"], ["demo"]):
        if args[0] in app.cli.commands:
            result = runner.invoke(args=args)
            assert result.exit_code == 0, result.output
    return app


@pytest.fixture(scope="session")
def base_url(live_app):
    port = free_port()
    server = make_server("127.0.0.1", port, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    with live_app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser(chromium_path, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    """A phone-sized page (360 x 740) in a fresh browser context."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=base_url,
                                  locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, email: str, password: str = "seedling-demo-2025") -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button.primary")


@pytest.fixture(scope="module")
def cohort_id(live_app) -> int:
    """The demo cohort (made once per module if the demo has not made it)."""
    from app.cohorts.demo import create_demo_cohort

    with live_app.app_context():
        cohort = create_demo_cohort()
        db.session.commit()
        return cohort.id


@contextmanager
def reading_english(live_app, *emails: str):
    """These demo people (who read Georgian) read English for a test, then Georgian again."""
    from app.auth.models import User

    def set_locale(locale: str) -> None:
        with live_app.app_context():
            for email in emails:
                User.by_email(email).locale = locale
            db.session.commit()

    set_locale("en")
    try:
        yield
    finally:
        set_locale("ka")
