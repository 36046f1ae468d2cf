"""Configuration: defaults here, then instance/config.py, then the environment, then test_config.

Every setting that an operator may change is listed in README.md ("Configuration").
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key-change-me"

LANGUAGES = ("en", "ka", "az", "hy", "ru")
LANGUAGE_NAMES = {
    "en": "English",
    "ka": "ქართული",
    "az": "Azərbaycanca",
    "hy": "Հայերեն",
    "ru": "Русский",
}


class Defaults:
    SECRET_KEY = DEFAULT_SECRET_KEY
    # None means: SQLite in the instance folder (set in create_app).
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    BASE_URL = "http://127.0.0.1:5000"

    PROGRAMME_NAME = "Civil Society Development Project"
    FUNDER_NOTICE = (
        "This platform was produced with the financial support of the European Union. "
        "Its contents are the sole responsibility of the programme and do not necessarily "
        "reflect the views of the European Union."
    )

    # E-mail (delivered from the outbox by `flask --app wsgi outbox send`).
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 1025
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    # None: "Nergi <no-reply@HOST>" with the host of BASE_URL (set in create_app).
    MAIL_DEFAULT_SENDER: str | None = None
    MAIL_TIMEOUT = 10
    OUTBOX_MAX_ATTEMPTS = 12
    # The worker (`flask --app wsgi worker`): seconds between rounds, and the hour (in
    # BABEL_DEFAULT_TIMEZONE) at which the daily digests (new submissions, reminders) go out; also
    # the hour on Monday (in each cohort's time zone) from which trainers' weekly summaries go.
    WORKER_INTERVAL = 30
    DIGEST_HOUR = 7

    REDIS_URL: str | None = None

    # How many reverse proxies (nginx, a load balancer) stand in front of the app. Their
    # X-Forwarded-For/-Proto/-Host are trusted that many hops deep and no further; 0 (the
    # default) trusts none, so a client cannot choose the address the rate limits count.
    TRUSTED_PROXIES = 0
    # Course media are authorised by the app and then sent by nginx (X-Accel-Redirect to this
    # internal location) when set, e.g. "/_media"; unset, the app sends the file itself.
    MEDIA_ACCEL_PREFIX: str | None = None

    # Logs go to standard error: "text" (one readable line per event) or "json" (JSON lines).
    LOG_FORMAT = "text"
    LOG_LEVEL = "INFO"

    # Printed on certificates.
    CERTIFICATE_SIGNATORY_NAME = "Programme Coordinator"
    CERTIFICATE_SIGNATORY_TITLE = "Civil Society Development Project"

    # Accounts and sessions.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:600000"
    PASSWORD_RESET_MINUTES = 60
    INVITATION_DAYS = 14
    SESSION_IDLE_MINUTES = 30
    SESSION_MAX_HOURS = 8
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    # None: decided from BASE_URL in create_app (Secure and __Host- names under https).
    SESSION_COOKIE_NAME: str | None = None
    SESSION_COOKIE_SECURE: bool | None = None
    REMEMBER_COOKIE_NAME: str | None = None
    REMEMBER_COOKIE_SECURE: bool | None = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)

    # Rate limits (Flask-Limiter syntax). Counters live in Redis when REDIS_URL is set.
    RATELIMIT_ENABLED = True
    LOGIN_LIMIT_PER_ADDRESS = "30 per 15 minutes"
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    RESET_LIMIT_PER_ADDRESS = "10 per hour"
    RESET_LIMIT_PER_ACCOUNT = "3 per hour"
    # Failed sign-ins count per account and client address (the owner signing in from elsewhere
    # is not locked out), and, more slowly, per account from anywhere (a spread-out guessing run).
    LOGIN_LIMIT_PER_ACCOUNT_ANYWHERE = "50 per hour"
    # With Redis unreachable, counting goes on in each process's memory (logged as a warning).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True

    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    # Pages travel gzip-compressed (weak connections); uploads and PDFs are sent as they are.
    COMPRESS_ALGORITHM = ["gzip"]
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/plain", "application/json",
                          "application/javascript", "text/javascript", "image/svg+xml"]
    COMPRESS_MIN_SIZE = 500
    # Static files carry a content hash in their URL (see static_url), so they may be cached long.
    SEND_FILE_MAX_AGE_DEFAULT = 31536000
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    LANGUAGES = LANGUAGES
    BABEL_DEFAULT_LOCALE = "en"
    # The programme's time zone: every date and time a person sees is shown in it (app/core/dates.py).
    # TIMEZONE in the environment sets it.
    BABEL_DEFAULT_TIMEZONE = "Asia/Tbilisi"

    COURSES_DIR = str(PROJECT_ROOT / "courses")
    # Example courses for authors (course.yml `example: true`): synced with the tree in
    # development and tests; None means "on when DEBUG or TESTING" (create_app decides).
    EXAMPLE_COURSES = None


# Settings read from the environment, with the type to convert to.
_ENV_SETTINGS: dict[str, type] = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "BASE_URL": str,
    "PROGRAMME_NAME": str,
    "FUNDER_NOTICE": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USE_TLS": bool,
    "MAIL_USE_SSL": bool,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_DEFAULT_SENDER": str,
    "WORKER_INTERVAL": int,
    "DIGEST_HOUR": int,
    "REDIS_URL": str,
    "COURSES_DIR": str,
    "EXAMPLE_COURSES": bool,
    "COURSE_UPLOADS_DIR": str,
    "UPLOAD_FOLDER": str,
    "CERTIFICATE_SIGNATORY_NAME": str,
    "CERTIFICATE_SIGNATORY_TITLE": str,
    "SIGNING_KEY_PATH": str,
    "TIMEZONE": str,
    "TRUSTED_PROXIES": int,
    "MEDIA_ACCEL_PREFIX": str,
    "LOG_FORMAT": str,
    "LOG_LEVEL": str,
    "SESSION_IDLE_MINUTES": int,
    "SESSION_MAX_HOURS": int,
    "MAX_CONTENT_LENGTH": int,
}


def _convert(raw: str, kind: type) -> Any:
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return kind(raw)


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the settings given in the environment, converted to their types."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for name, kind in _ENV_SETTINGS.items():
        if name in env and env[name] != "":
            found[name] = _convert(env[name], kind)
    for name in ("PROGRAMME_NAME", "FUNDER_NOTICE", "CERTIFICATE_SIGNATORY_NAME", "CERTIFICATE_SIGNATORY_TITLE"):
        for lang in LANGUAGES:
            key = f"{name}_{lang.upper()}"
            if env.get(key):
                found[key] = env[key]
    if "TIMEZONE" in found:
        found["BABEL_DEFAULT_TIMEZONE"] = found.pop("TIMEZONE")
    if "DATABASE_URL" in found:
        found["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(found.pop("DATABASE_URL"))
    return found


def normalise_database_url(url: str) -> str:
    """Point bare postgres URLs at the psycopg 3 driver that we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def mail_domain(base_url: str) -> str:
    """The host name of BASE_URL, for the sender address and Message-IDs."""
    from urllib.parse import urlsplit

    return urlsplit(base_url).hostname or "localhost"


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the message says what to change."""


SECRET_KEY_PROBLEM = (
    "SECRET_KEY is the built-in development key or shorter than 32 bytes. "
    "Set SECRET_KEY in the environment or in instance/config.py, for example to the "
    "output of: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
)


def check_config(config: dict[str, Any]) -> None:
    """Refuse to run outside debug and testing with settings that are unsafe in production."""
    if config.get("TESTING") or config.get("DEBUG"):
        return
    if _weak_secret(config):
        raise ConfigError(SECRET_KEY_PROBLEM)


def _weak_secret(config: dict[str, Any]) -> bool:
    secret = config.get("SECRET_KEY") or ""
    return secret == DEFAULT_SECRET_KEY or len(secret.encode()) < 32


def catalogue_problems(translations: Path, languages=LANGUAGES) -> list[str]:
    """Languages whose compiled catalogue (.mo) is missing or older than its source (.po).

    Without the .mo file a language silently shows English; an old one shows yesterday's text.
    """
    missing, stale = [], []
    for lang in languages:
        source = translations / lang / "LC_MESSAGES" / "messages.po"
        if not source.exists():
            continue  # English: the messages are the source
        compiled = source.with_suffix(".mo")
        if not compiled.exists():
            missing.append(lang)
        elif compiled.stat().st_mtime < source.stat().st_mtime:
            stale.append(lang)
    problems = []
    fix = f"run: pybabel compile -d {translations} (or make install)"
    if missing:
        problems.append(f"translations not compiled for {', '.join(missing)}: those pages would be "
                        f"English; {fix}")
    if stale:
        problems.append(f"compiled translations older than their sources for {', '.join(stale)}; {fix}")
    return problems


def readiness_problems(config: dict[str, Any], *, translations: Path) -> list[str]:
    """What must be fixed before this configuration may serve in production."""
    problems = []
    if _weak_secret(config):
        problems.append(SECRET_KEY_PROBLEM)
    problems.extend(catalogue_problems(translations))
    key = Path(config["SIGNING_KEY_PATH"])
    if not key.exists():
        problems.append(f"no certificate signing key at {key}: create it once with "
                        f"`flask --app wsgi certificates keygen` (and back it up), or copy the "
                        f"deployment's key there; the app never makes one by itself in production")
    return problems
