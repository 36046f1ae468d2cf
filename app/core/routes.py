"""Home page, health check and the language switcher."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from app.config import LANGUAGES
from app.core.web import safe_next
from app.extensions import csrf, db, limiter

bp = Blueprint("core", __name__)


def _redis_state() -> str:
    """"ok", "down", or "not configured" (no REDIS_URL: limits are counted per process)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "not configured"
    import redis  # here: a worker that never answers /healthz with Redis set does not load it

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return "down"
    return "ok"


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    """503 only when the database cannot be reached (nothing works without it). Redis down is
    reported, status "degraded", with 200: rate limits then count in each worker's memory and
    the site keeps working, so the load balancer should keep sending traffic."""
    redis_state = _redis_state()
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database is "unavailable"
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable", redis=redis_state), 503
    status = "degraded" if redis_state == "down" else "ok"
    return jsonify(status=status, database="ok", redis=redis_state)


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated and current_user.locale != lang:
            current_user.locale = lang
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("learning.home"))
