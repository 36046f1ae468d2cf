"""What an operator relies on: readiness checks at start, logs, Redis down, trusted proxies,
mail headers, the worker, signing-key management and the account command line."""
from __future__ import annotations

import json
import logging
import os
import socket
import stat
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app import create_app
from app.auth.models import User
from app.certificates import keys
from app.config import ConfigError, catalogue_problems
from app.core import worker
from app.core.logs import JSONFormatter, loggable_path
from app.extensions import db
from app.notify import services as outbox
from app.notify.models import FAILED, PENDING, SENT, OutboxMessage
from tests.conftest import TEST_CONFIG, TEST_DATABASE_URL
from tests.support.factories import PASSWORD
from tests.support.smtp import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = PROJECT_ROOT / "app" / "translations"


# --- Start-up: a production server refuses to start with what would break it quietly ---------

def _production_config(tmp_path: Path, **overrides) -> dict:
    key = tmp_path / "key.pem"
    if not key.exists():
        keys.load_or_create_signing_key(key)
    return {"SECRET_KEY": "s" * 48, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}",
            "SIGNING_KEY_PATH": str(key), **overrides}


def test_production_start_refuses_without_signing_key_and_says_how_to_make_one(tmp_path):
    config = _production_config(tmp_path, SIGNING_KEY_PATH=str(tmp_path / "absent.pem"))
    with pytest.raises(ConfigError) as refused:
        create_app(config)
    assert "certificates keygen" in str(refused.value)
    assert not (tmp_path / "absent.pem").exists()  # nothing was conjured
    assert create_app(_production_config(tmp_path)) is not None


def test_the_command_line_runs_without_secret_and_web_requests_are_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    app = create_app(_production_config(tmp_path, SECRET_KEY="short"))
    assert "ERROR nergi.startup SECRET_KEY is the built-in development key" in capsys.readouterr().err
    response = app.test_client().get("/login")
    assert response.status_code == 500 and "sign in" not in response.get_data(as_text=True).lower()
    assert "ERROR nergi.errors unhandled exception" in capsys.readouterr().err  # the reason is logged


def test_courses_check_needs_no_secret_key_nor_database(tmp_path):
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("SECRET_KEY", "FLASK_DEBUG", "DATABASE_URL")}
    environment["NERGI_INSTANCE_PATH"] = str(tmp_path)  # empty: no config, no key, no database
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "courses", "check"],
                            cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / "nergi.db").exists() and not (tmp_path / "signing-key.pem").exists()


def test_missing_and_stale_catalogues_are_named(tmp_path):
    for lang in ("ka", "hy"):
        folder = tmp_path / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "messages.po").write_text("")
    assert catalogue_problems(tmp_path) == [
        f"translations not compiled for ka, hy: those pages would be English; run: pybabel compile -d {tmp_path} "
        "(or make install)"]
    for lang in ("ka", "hy"):
        (tmp_path / lang / "LC_MESSAGES" / "messages.mo").write_bytes(b"")
    older = (tmp_path / "hy" / "LC_MESSAGES" / "messages.po").stat().st_mtime - 60
    os.utime(tmp_path / "hy" / "LC_MESSAGES" / "messages.mo", (older, older))
    assert catalogue_problems(tmp_path) == [
        f"compiled translations older than their sources for hy; run: pybabel compile -d {tmp_path} (or make install)"]
    # The project's own catalogues, as `make test` compiled them, are complete and fresh.
    assert catalogue_problems(TRANSLATIONS) == []


def test_production_start_refuses_with_uncompiled_catalogues(tmp_path, monkeypatch):
    compiled = TRANSLATIONS / "az" / "LC_MESSAGES" / "messages.mo"
    moved = tmp_path / "messages.mo"
    compiled.rename(moved)
    try:
        with pytest.raises(ConfigError, match="translations not compiled for az"):
            create_app(_production_config(tmp_path))
    finally:
        moved.rename(compiled)


# --- Logs --------------------------------------------------------------------------------------

def test_one_json_line_per_request_with_request_id_and_user_and_no_tokens(make_app, factories, capsys):
    app = make_app(LOG_FORMAT="json", LOG_TO_STDERR=True)
    try:
        user = factories.make_user()
        client = app.test_client()
        client.post("/login", data={"email": user.email, "password": PASSWORD})
        capsys.readouterr()
        client.get("/profile", headers={"X-Request-ID": "req-abcdef123"})
        client.get("/reset/SECRET-TOKEN-123?next=/x")
        client.get("/invitation/OTHER-SECRET-456")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        pass
    requests = [line for line in lines if line["logger"] == "nergi.request"]
    assert requests[0] | {"ms": None, "time": None} == {
        "time": None, "level": "info", "logger": "nergi.request", "message": "request", "method": "GET",
        "path": "/profile", "status": 200, "ms": None, "request_id": "req-abcdef123", "user_id": user.id,
        "ip": "127.0.0.1"}
    assert [line["path"] for line in requests[1:]] == ["/reset/[redacted]", "/invitation/[redacted]"]
    assert "SECRET-TOKEN" not in json.dumps(lines) and "OTHER-SECRET" not in json.dumps(lines)


def test_audit_events_reach_the_log_as_structured_lines(client, factories, caplog):
    caplog.set_level(logging.INFO, logger="nergi.audit")
    user = factories.make_user()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    entries = [json.loads(JSONFormatter().format(record)) for record in caplog.records if record.name == "nergi.audit"]
    assert [(entry["action"], entry["actor"], entry["target"]) for entry in entries] == [
        ("login_success", user.id, f"User:{user.id}")]
    assert entries[0]["request_id"]


def test_loggable_path_redacts_link_tokens():
    assert loggable_path("/reset/abc?x=1") == "/reset/[redacted]"
    assert loggable_path("/invitation/abc/") == "/invitation/[redacted]/"
    assert loggable_path("/verify/ABCD?t=secret") == "/verify/ABCD"
    assert loggable_path("/courses/reset/x") == "/courses/reset/x"
    assert loggable_path("/calendar/s3cret-Token_x.ics") == "/calendar/[redacted]"
    assert loggable_path("/calendar/reset") == "/calendar/reset"  # the reset button's address has none


# --- Redis: degrade, don't break ---------------------------------------------------------------

def _closed_port() -> int:
    return free_port()  # nothing listens there


def test_with_redis_down_sign_in_and_verify_work_and_health_says_so(make_app, factories, caplog):
    caplog.set_level(logging.WARNING)
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0")
    user = factories.make_user()
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/verify/ABCD-EFGH-JKMN-PQRS").status_code == 404  # an unknown code, answered
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json == {"status": "degraded", "database": "ok", "redis": "down"}
    assert any("falling back to in-memory" in record.getMessage() for record in caplog.records)
    # Limits still count, in memory: the sixth failure from this client is refused.
    other = factories.make_user()
    for _ in range(5):
        client.post("/login", data={"email": other.email, "password": "wrong password"})
    assert client.post("/login", data={"email": other.email, "password": PASSWORD}).status_code == 429


def test_health_reports_redis_ok_when_it_answers(make_app):
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no Redis on 127.0.0.1:6379")
    app = make_app(REDIS_URL="redis://127.0.0.1:6379/15")
    assert app.test_client().get("/healthz").json == {"status": "ok", "database": "ok", "redis": "ok"}


# --- Trusted proxies and sign-in limits ----------------------------------------------------------

def test_client_addresses_come_from_trusted_proxies_only(make_app):
    def seen_by(app, forwarded):
        @app.get("/_address")
        def _address():
            from flask import request

            return request.remote_addr or ""

        return app.test_client().get("/_address", headers={"X-Forwarded-For": forwarded},
                                     environ_base={"REMOTE_ADDR": "10.0.0.1"}).get_data(as_text=True)

    assert seen_by(make_app(), "203.0.113.9") == "10.0.0.1"  # default: no proxy is trusted
    assert seen_by(make_app(TRUSTED_PROXIES=1), "198.51.100.7, 203.0.113.9") == "203.0.113.9"
    assert seen_by(make_app(TRUSTED_PROXIES=2), "198.51.100.7, 203.0.113.9") == "198.51.100.7"


def _login(client, email, password, address):
    return client.post("/login", data={"email": email, "password": password},
                       headers={"X-Forwarded-For": address}, environ_base={"REMOTE_ADDR": "127.0.0.1"})


def test_failures_behind_the_proxy_do_not_lock_out_other_clients(make_app, factories):
    app = make_app(TRUSTED_PROXIES=1, LOGIN_LIMIT_PER_ADDRESS="3 per 15 minutes")
    user, other = factories.make_user(), factories.make_user()
    client = app.test_client()
    for _ in range(3):
        _login(client, "nobody@example.org", "wrong password", "203.0.113.1")
    assert _login(client, other.email, PASSWORD, "203.0.113.1").status_code == 429  # that client
    assert _login(app.test_client(), user.email, PASSWORD, "203.0.113.2").status_code == 302  # not all


def test_the_owner_signs_in_while_someone_else_guesses_the_password(make_app, factories):
    app = make_app(TRUSTED_PROXIES=1)
    user = factories.make_user()
    attacker = app.test_client()
    for _ in range(5):
        assert _login(attacker, user.email, "guess", "198.51.100.66").status_code == 200
    assert _login(attacker, user.email, PASSWORD, "198.51.100.66").status_code == 429
    assert _login(app.test_client(), user.email, PASSWORD, "203.0.113.10").status_code == 302


def test_a_guessing_run_spread_over_many_clients_is_still_stopped(make_app, factories):
    app = make_app(TRUSTED_PROXIES=1, LOGIN_LIMIT_PER_ACCOUNT_ANYWHERE="8 per hour")
    user = factories.make_user()
    for n in range(8):
        _login(app.test_client(), user.email, "guess", f"198.51.100.{n + 1}")
    assert _login(app.test_client(), user.email, PASSWORD, "198.51.100.200").status_code == 429


def test_memory_limits_in_production_are_announced(tmp_path, capsys):
    create_app(_production_config(tmp_path))
    assert "WARNING nergi.startup REDIS_URL is not set: sign-in and reset limits are counted per worker" \
        in capsys.readouterr().err


def test_hsts_only_under_https(make_app):
    assert "Strict-Transport-Security" not in make_app().test_client().get("/login").headers
    secure = make_app(BASE_URL="https://nergi.example.org").test_client().get("/login", base_url="https://nergi.example.org")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


# --- E-mail headers and the outbox ---------------------------------------------------------------

def test_mail_has_date_message_id_and_a_sender_of_the_site(make_app, factories, smtp_server):
    app = make_app(BASE_URL="https://learn.example.org")
    factories.make_user(email="ka@example.org", locale="ka")
    with app.app_context():
        from app.auth import services as accounts

        accounts.request_password_reset("ka@example.org")
        db.session.commit()
        report = outbox.deliver_due()
    assert report.sent == 1
    message = smtp_server.wait_for(1)[0]
    assert message["From"] == "Nergi <no-reply@learn.example.org>"
    assert message["Message-ID"].endswith("@learn.example.org>")
    sent_at = parsedate_to_datetime(message["Date"])
    assert abs(datetime.now(timezone.utc) - sent_at) < timedelta(minutes=5)
    assert message["Subject"] != "Reset your Nergi password"  # Georgian, not English


class _SilentSMTP:
    """Accepts connections and never says a word, like a mail server that hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.connected = threading.Event()
        self.release = threading.Event()
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        try:
            connection, _ = self.sock.accept()
        except OSError:
            return
        self.connections.append(connection)
        self.connected.set()
        self.release.wait(30)
        connection.close()

    def close(self):
        self.release.set()
        self.sock.close()


def _database_is_writable_now(app) -> bool:
    """Write from another connection without waiting: False if someone holds the write lock
    (SQLite) or is idle inside a transaction (PostgreSQL)."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            import sqlite3

            connection = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("ROLLBACK")
                return True
            except sqlite3.OperationalError:
                return False
            finally:
                connection.close()
        with engine.connect() as connection:
            idle = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()")).scalar()
            return idle == 0


def test_a_hanging_mail_server_holds_no_transaction(make_app, factories):
    silent = _SilentSMTP()
    app = make_app(MAIL_PORT=silent.port, MAIL_TIMEOUT=20)
    factories.make_user(email="waiting@example.org")
    with app.app_context():
        outbox.queue_email("waiting@example.org", "password_reset", "en", name="W", link="http://x/reset/1",
                           minutes=60)
        db.session.commit()
    results = []

    def run():
        with app.app_context():
            results.append(outbox.deliver_due())

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert silent.connected.wait(10), "the worker never reached the mail server"
        assert _database_is_writable_now(app)
    finally:
        silent.close()
        thread.join(30)
    assert results and results[0].deferred == 1


class _RefusingSMTP:
    def __init__(self, code: int):
        from aiosmtpd.controller import Controller

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):
                return f"{code} 5.1.1 no such mailbox" if code >= 500 else f"{code} try later"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self):
        self.controller.stop()


@pytest.mark.parametrize(("code", "state", "attempts"), [(550, FAILED, 1), (451, PENDING, 1)])
def test_a_permanent_refusal_fails_at_once_and_a_temporary_one_waits(make_app, code, state, attempts):
    server = _RefusingSMTP(code)
    try:
        app = make_app(MAIL_PORT=server.port)
        with app.app_context():
            message = outbox.queue_email("gone@example.org", "password_reset", "en", name="G",
                                         link="http://x/reset/1", minutes=60)
            db.session.commit()
            outbox.deliver_due()
            db.session.expire_all()
            stored = db.session.get(OutboxMessage, message.id)
            assert (stored.state, stored.attempts) == (state, attempts)
            assert str(code) in stored.last_error
    finally:
        server.close()


# --- The worker ----------------------------------------------------------------------------------

def test_worker_once_sends_mail_and_the_daily_digest_once(make_app, factories, smtp_server):
    from app.assignments.models import MentorPreference
    from app.notify.models import Notice

    app = make_app()
    mentor = factories.make_user(email="mentor@example.org")
    with app.app_context():
        db.session.add(MentorPreference(user_id=mentor.id, daily_digest=True))
        db.session.add(Notice(user_id=mentor.id, kind="submission_received", payload={}))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "digests: digests queued: 1" in result.output and "outbox: sent 1" in result.output
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["mentor@example.org"]
    again = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert "digests: nothing due" in again.output and "outbox: nothing due" in again.output
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.state)) == SENT


def test_digest_is_due_once_a_day_at_the_digest_hour(make_app):
    from app.assignments.digest import last_digest_time

    app = make_app(DIGEST_HOUR=7)
    with app.app_context():
        # 02:30 UTC is 06:30 in Tbilisi: the last digest time is yesterday's 07:00 there.
        assert last_digest_time(datetime(2026, 3, 10, 2, 30, tzinfo=timezone.utc)) == \
            datetime(2026, 3, 9, 3, 0, tzinfo=timezone.utc)
        assert last_digest_time(datetime(2026, 3, 10, 3, 0, tzinfo=timezone.utc)) == \
            datetime(2026, 3, 10, 3, 0, tzinfo=timezone.utc)


def test_a_failing_job_does_not_stop_the_others(make_app, caplog):
    app = make_app()
    ran = []

    def broken(now):
        raise RuntimeError("boom")

    worker.register_job(app, "broken", broken)
    worker.register_job(app, "after", lambda now: ran.append(now) or "done")
    with app.app_context():
        results = worker.run_round(app)
    assert results["broken"] == "error: RuntimeError" and results["after"] == "done" and ran


# --- The signing key -----------------------------------------------------------------------------

def test_keygen_makes_a_private_key_once(app, runner, tmp_path):
    path = Path(app.config["SIGNING_KEY_PATH"])
    result = runner.invoke(args=["certificates", "keygen"])
    assert result.exit_code == 0 and str(path) in result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = runner.invoke(args=["certificates", "keygen"])
    assert again.exit_code != 0 and "exists already" in again.output


def test_a_production_host_without_the_key_never_makes_one(make_app, tmp_path):
    keys.load_or_create_signing_key(tmp_path / "key.pem")
    app = make_app(TESTING=False, SIGNING_KEY_PATH=str(tmp_path / "key.pem"))
    (tmp_path / "key.pem").unlink()  # lost after start, or never copied to this host
    from app.certificates import services

    with app.app_context(), pytest.raises(keys.MissingKeyError, match="certificates keygen"):
        services.public_jwks()
    assert not (tmp_path / "key.pem").exists()


def test_rotation_keeps_earlier_credentials_verifying(app, runner, factories):
    from app.certificates import credential, services
    from app.content.models import Course

    learner = factories.make_user()
    course = factories.make_course(slug="rotation")
    with app.app_context():
        certificate = services.issue_certificate(db.session.get(User, learner.id),
                                                 db.session.get(Course, course.id))
        db.session.commit()
        old_token = certificate.credential_jwt
        old_kid = services.public_jwks()["keys"][0]["kid"]
    result = runner.invoke(args=["certificates", "rotate-key", "--yes"])
    assert result.exit_code == 0 and f"retired {old_kid}" in result.output, result.output
    now = datetime.now(timezone.utc)
    with app.app_context():
        published = services.public_jwks()
        assert [entry["kid"] for entry in published["keys"]][1:] == [old_kid]  # new key first
        assert published["keys"][0]["kid"] != old_kid
        assert credential.verify_credential_jwt(old_token, published, now=now, status_lookup=None).status \
            == "status_unknown"  # the signature holds; only the status was not asked here
        # What is signed from now on is signed with the new key, and verifies too.
        new_token = services.signed_status_list()
        assert credential.verify_credential_jwt(new_token, published, now=now, status_lookup=None).status == "valid"
    assert app.test_client().get("/.well-known/jwks.json").json == published
    # With only the current key, the old credential would not verify: the retired key matters.
    alone = {"keys": published["keys"][:1]}
    assert credential.verify_credential_jwt(old_token, alone, now=now, status_lookup=None).reason == \
        "signed by an unknown key"


# --- Accounts from the command line ---------------------------------------------------------------

def test_users_create_validates_the_address_like_the_forms(runner, app):
    result = runner.invoke(args=["users", "create", "--email", "not-an-address", "--password", "a long password 1"])
    assert result.exit_code != 0 and "Enter an e-mail address such as name@example.org." in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "not-an-address")) is None
    ok = runner.invoke(args=["users", "create", "--email", "Real@Example.org", "--password", "a long password 1"])
    assert ok.exit_code == 0 and "created real@example.org" in ok.output


# --- The admin is told the truth about e-mail -------------------------------------------------------

def test_invitations_say_queued_and_a_stalled_outbox_is_flagged(client, app, factories, auth):
    auth.login_as(factories.make_admin())
    page = client.post("/admin/users", data={"email": "new@example.org", "locale": "en"}, follow_redirects=True)
    body = page.get_data(as_text=True)
    assert "Invitation queued for new@example.org" in body and "waiting more than five minutes" not in body
    with app.app_context():
        db.session.execute(text("UPDATE outbox_message SET next_attempt_at = :t"),
                           {"t": datetime.now(timezone.utc) - timedelta(minutes=6)})
        db.session.commit()
    body = client.get("/admin/users", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "worker" in body and "waiting more than five minutes" in body  # the admin's own language: en


def test_stalled_outbox_warning_is_translated(client, app, factories, auth):
    admin = factories.make_admin(locale="ru")
    auth.login_as(admin)
    with app.app_context():
        outbox.queue_email("x@example.org", "password_reset", "en", name="X", link="http://x/reset/1", minutes=60)
        db.session.execute(text("UPDATE outbox_message SET next_attempt_at = :t"),
                           {"t": datetime.now(timezone.utc) - timedelta(minutes=6)})
        db.session.commit()
    body = client.get("/admin/users").get_data(as_text=True)
    assert "Некоторые письма ждут отправки больше пяти минут" in body
