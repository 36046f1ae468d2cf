"""Headers, errors, health, languages, CSRF and the route map (docs/security.md REQ-1, REQ-2,
REQ-4, OUT-6, AUTHZ-1, OPS-1, OPS-3)."""
from __future__ import annotations

import json
import re
import logging

import pytest
from sqlalchemy import func, select

from app import create_app
from app.certificates.keys import load_or_create_signing_key
from app.config import ConfigError, check_config
from app.core.logs import JSONFormatter, TextFormatter
from app.extensions import db

# The service worker, the web app manifest, the offline page and its strings hold nothing private.
PUBLIC_GET = {"/login", "/forgot", "/healthz", "/verify", "/verify/<code>", "/.well-known/jwks.json",
              "/sw.js", "/manifest.webmanifest", "/offline", "/offline/strings.json",
              "/issuer", "/certificates/status-list"}


def test_every_html_page_has_security_headers(client, factories, auth):
    auth.login_as(factories.make_admin())
    for path in ["/", "/profile", "/admin/users", "/missing-page"]:
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        for part in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self'"):
            assert part in csp, (path, part)
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]
        assert response.headers["Cache-Control"] == "private, no-store"


def test_healthz_reports_database(client, make_app, tmp_path):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "not configured"}
    broken = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_error_pages_are_translated(client):
    english = client.get("/no-such-page")
    assert english.status_code == 404 and "Page not found" in english.get_data(as_text=True)
    georgian = client.get("/no-such-page", headers={"Accept-Language": "ka"})
    body = georgian.get_data(as_text=True)
    assert georgian.status_code == 404 and "Page not found" not in body and 'lang="ka"' in body


def test_500_page_shows_no_traceback(make_app, tmp_path):
    key = tmp_path / "production-key.pem"
    load_or_create_signing_key(key)  # production refuses to start without one
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False, SIGNING_KEY_PATH=str(key))

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in body and "secret internals" not in body
    assert "Something went wrong" in body


def test_language_switcher_uses_session_then_user_setting(client, factories, auth, app):
    response = client.post("/language", data={"lang": "hy", "next": "/login"})
    assert response.headers["Location"] == "/login"
    assert 'lang="hy"' in client.get("/login").get_data(as_text=True)
    # an unknown language is ignored and an outside next is refused
    response = client.post("/language", data={"lang": "xx", "next": "https://evil.example"})
    assert response.headers["Location"] == "/"
    user = factories.make_user(locale="ru")
    auth.login_as(user)
    assert 'lang="ru"' in client.get("/").get_data(as_text=True)
    client.post("/language", data={"lang": "az", "next": "/"})
    assert 'lang="az"' in client.get("/").get_data(as_text=True)
    from app.auth.models import User

    with app.app_context():
        assert db.session.get(User, user.id).locale == "az"


def test_accept_language_then_english(client):
    assert 'lang="ru"' in client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    assert 'lang="en"' in client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)


def post_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.endpoint.startswith("static"):
            values = {arg: 1 if arg.endswith("id") else "x" for arg in rule.arguments}
            with app.test_request_context():
                from flask import url_for

                yield url_for(rule.endpoint, **values)


def table_counts(app):
    with app.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def test_every_post_route_rejects_missing_csrf_token(make_app, factories):
    app = make_app(WTF_CSRF_ENABLED=True)
    admin = factories.make_admin()
    client = app.test_client()
    with client.session_transaction() as session:  # a signed-in admin, so only CSRF stops them
        session["_user_id"] = f"{admin.id}:{admin.session_version}"
        session["_fresh"] = True
    before = table_counts(app)
    routes = list(post_routes(app))
    assert len(routes) >= 8
    for path in routes:
        response = client.post(path, data={"email": "x@example.org", "lang": "ka", "action": "grant_admin"})
        assert response.status_code == 400, path
        assert "This form has expired" in response.get_data(as_text=True)
    assert table_counts(app) == before


def test_no_get_route_changes_the_database(client, factories, auth, app):
    auth.login_as(factories.make_admin())
    before = table_counts(app)
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments:
            client.get(rule.rule)
    assert table_counts(app) == before


def test_anonymous_may_reach_only_public_pages(client, app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        path = re.sub(r"<int:[^>]+>", "1", rule.rule)
        path = re.sub(r"<[^>]+>", "nonexistent", path)
        response = client.get(path)
        if rule.rule in PUBLIC_GET or "<token>" in rule.rule:
            assert response.status_code in (200, 404), rule.rule
        else:
            assert response.status_code in (302, 401, 405), rule.rule
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login")


def test_production_config_refuses_default_secret():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        check_config({"SECRET_KEY": "dev-only-insecure-secret-key-change-me"})
    with pytest.raises(ConfigError):
        check_config({"SECRET_KEY": "short"})
    check_config({"SECRET_KEY": "x" * 40})
    check_config({"DEBUG": True, "SECRET_KEY": "dev-only-insecure-secret-key-change-me"})


def test_production_settings_are_safe(monkeypatch, tmp_path):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    load_or_create_signing_key(tmp_path / "key.pem")
    monkeypatch.setenv("SIGNING_KEY_PATH", str(tmp_path / "key.pem"))
    monkeypatch.setenv("SECRET_KEY", "p" * 48)
    monkeypatch.setenv("BASE_URL", "https://nergi.example.org")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/nergi")
    app = create_app()
    assert app.config["DEBUG"] is False
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-nergi"
    assert app.config["MAX_CONTENT_LENGTH"] == 25 * 1024 * 1024
    assert app.config["REMEMBER_COOKIE_DURATION"].days == 14
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/nergi"
    assert app.config["MAIL_DEFAULT_SENDER"] == "Nergi <no-reply@nergi.example.org>"


def test_instance_config_sits_between_defaults_and_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("PROGRAMME_NAME = 'From instance'\nBASE_URL = 'http://instance'\n")
    monkeypatch.setenv("BASE_URL", "http://environment")
    monkeypatch.setenv("NERGI_INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True})
    assert app.config["PROGRAMME_NAME"] == "From instance"
    assert app.config["BASE_URL"] == "http://environment"


def test_audit_log_lines_cannot_be_forged(client, caplog):
    caplog.set_level(logging.INFO, logger="nergi.audit")
    client.post("/login", data={"email": "a@example.org\r\nINJECTED line", "password": "x" * 9})
    client.post("/login", data={"email": "eve@example.org", "password": "my secret password"})
    records = [r for r in caplog.records if r.name == "nergi.audit"]
    for formatter in (JSONFormatter(), TextFormatter()):
        lines = [formatter.format(record) for record in records]
        assert lines and all("\n" not in line and "\r" not in line for line in lines)
        assert all("my secret password" not in line for line in lines)
    entries = [json.loads(JSONFormatter().format(record)) for record in records]
    assert [(entry["action"], entry["target"]) for entry in entries] == [("login_failure", "eve@example.org")]
    # A value with a line break stays on its line in both formats.
    record = logging.LogRecord("nergi.audit", logging.INFO, __file__, 1, "audit", None, None)
    record.fields = {"target": "x\nINJECTED 2026 INFO nergi.audit"}
    assert "\n" not in TextFormatter().format(record) and "\n" not in JSONFormatter().format(record)


def test_request_size_is_limited(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    response = app.test_client().post("/login", data={"email": "a@example.org", "password": "x" * 5000})
    assert response.status_code == 413
    assert "Too large" in response.get_data(as_text=True)


def test_demo_command_loads_accounts_once(runner, app):
    result = runner.invoke(args=["demo", "--if-empty"])
    assert "8 created" in result.output and "mentor links: 4 created" in result.output
    result = runner.invoke(args=["demo", "--if-empty"])
    assert "demo data not loaded" in result.output
    client = app.test_client()
    response = client.post("/login", data={"email": "learner1@example.org", "password": "seedling-demo-2025"})
    assert response.status_code == 302


def test_users_create_command(runner, app):
    result = runner.invoke(args=["users", "create", "--email", "Boss@Example.org", "--name", "Boss",
                                 "--password", "a strong enough one", "--admin"])
    assert result.exit_code == 0 and "created boss@example.org (admin)" in result.output
    result = runner.invoke(args=["users", "create", "--email", "boss@example.org", "--password", "whatever long"])
    assert result.exit_code != 0 and "already exists" in result.output
    result = runner.invoke(args=["users", "create", "--email", "x@example.org", "--password", "short"])
    assert result.exit_code != 0 and "at least 8" in result.output


def test_refusals_are_audited(client, factories, auth, app):
    from app.core.models import AuditEvent

    user = factories.make_user()
    auth.login_as(user)
    assert client.get("/admin/users").status_code == 403
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "authz_fail"))
        assert event.actor_id == user.id and event.detail == {"attempted": "admin.users"}


def test_rate_limit_counters_live_in_redis_when_configured(make_app, factories):
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        if __import__("os").environ.get("CI") == "true":
            raise
        pytest.skip("no Redis on 127.0.0.1:6379")
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    app = make_app(REDIS_URL=url)
    user = factories.make_user()
    client = app.test_client()
    for _ in range(5):
        client.post("/login", data={"email": user.email, "password": "wrong password"})
    assert any(b"account:" + user.email.encode() in key for key in connection.keys("*"))
    # A second app (another worker) shares the counters and refuses the sixth attempt.
    other = make_app(REDIS_URL=url).test_client()
    assert other.post("/login", data={"email": user.email, "password": "correct horse battery"}).status_code == 429
    connection.flushdb()
