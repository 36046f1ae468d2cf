"""Per-request behaviour: request ids, session ageing, security headers, safe redirects."""
from __future__ import annotations

import re
import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, current_app, g, has_request_context, request, session
from flask_login import current_user, logout_user

from app.config import LANGUAGES

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def clock() -> float:
    """Seconds since the epoch; one place for tests to move time."""
    return time.time()


def safe_next(target: str | None) -> str | None:
    """Return target when it is a path on this site, else None (no open redirects)."""
    if not target or any(ch in target for ch in "\\\r\n\t\x00"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def select_locale() -> str:
    """The user's setting, then the switcher's choice, then the page's own language (an
    invitation's page is in the invitation's language), then Accept-Language, then English."""
    if not has_request_context():
        return "en"
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if g.get("page_locale") in LANGUAGES:
        return g.page_locale
    return request.accept_languages.best_match(LANGUAGES) or "en"


def _assign_request_id() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.match(given) else secrets.token_hex(8)


def _age_session() -> None:
    """End sessions idle for too long or older than the maximum, unless "remember me" was chosen."""
    if "_user_id" not in session or session.get("remember_me"):
        return
    now = clock()
    started = session.setdefault("started_at", now)
    seen = session.get("seen_at", now)
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    longest = current_app.config["SESSION_MAX_HOURS"] * 3600
    if now - seen > idle or now - started > longest:
        logout_user()
        session.clear()
        g.session_expired = True
        return
    if now - seen > 60:  # avoid rewriting the cookie on every request
        session["seen_at"] = now


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers["X-Request-ID"] = g.get("request_id", "")
    if current_app.config["BASE_URL"].startswith("https://"):
        # Browsers that saw the site over https once never try plain http for it for a year.
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if "_user_id" in session and "Cache-Control" not in headers:
        headers["Cache-Control"] = "private, no-store"
    return response


def _materialise_static_text(response):
    """Read small passthrough text files (CSS, JS) into memory and close them, so that the
    compression step, which runs next, neither streams nor leaks the open file."""
    if (response.direct_passthrough and response.status_code == 200
            and response.mimetype in current_app.config.get("COMPRESS_MIMETYPES", ())
            and (response.content_length or 0) < 512 * 1024):
        data = b"".join(response.response)
        close = getattr(response.response, "close", None)
        if close:
            close()
        response.direct_passthrough = False
        response.set_data(data)
    return response


def register_request_hooks(app: Flask) -> None:
    """Register per-request hooks. Call after the extensions: after_request hooks run in reverse
    order, so these run before Flask-Compress's."""
    app.before_request(_assign_request_id)
    app.before_request(_age_session)
    app.after_request(_security_headers)
    app.after_request(_materialise_static_text)
