"""Conditional GET for lesson pages (issue 18): a phone that has the page already asks "has it
changed?" (If-None-Match) and gets 304 Not Modified, with no body, when it has not.

The ETag is a digest of everything the page shows or depends on: this server's start (a deploy,
a new configuration or new templates restart it), the signed-in account and its session version,
the session's CSRF token (the page's forms carry it), the header's facts (trainer, mentor,
unread notices, admin), the interface language and the address, the course's version and titles,
the lesson's translation (language, content hash, title, objectives and the HTML itself), whether
the learner marked it done, and the previous and next items. Another person's ETag never matches:
their account is part of it. A page with a flashed message pending gets no ETag (the message is
shown once). Cache-Control is `private, no-cache`: the browser may keep the page, never a shared
cache, and asks each time.
"""
from __future__ import annotations

import hashlib
import secrets

from flask import Response, current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.core.header import header_facts

# Per process start; with gunicorn's preload the workers share the master's.
RELEASE = secrets.token_hex(8)
CACHE_CONTROL = "private, no-cache"


def lesson_etag(*, course, item, translation, before, after, done: bool, lang: str) -> str | None:
    """The lesson page's ETag, or None when it must not have one (a flashed message pending)."""
    if session.get("_flashes"):
        return None
    generate_csrf()  # the session's CSRF token, made now if the page is its first form
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    neighbours = [(row.item.id, row.item.slug, row.title) if row is not None else None for row in (before, after)]
    parts = (RELEASE, current_user.get_id(), bool(current_user.is_admin), session.get(field),
             sorted(header_facts(current_user).items()), lang, request.full_path,
             course.id, course.source_hash, sorted(course.titles.items()),
             item.id, item.slug, translation.id, translation.lang, translation.source_hash, translation.title,
             translation.objectives, hashlib.blake2b(translation.html.encode(), digest_size=16).hexdigest(),
             bool(done), neighbours)
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def is_fresh(etag: str | None) -> bool:
    """Does the browser have this very page (If-None-Match)?"""
    return etag is not None and request.if_none_match.contains_weak(etag)


def with_etag(response: Response, etag: str | None) -> Response:
    """Weak (the compressed and the plain page are the same page, and the compressor leaves a
    weak ETag alone)."""
    if etag is not None:
        response.set_etag(etag, weak=True)
        response.headers["Cache-Control"] = CACHE_CONTROL
        response.vary.add("Cookie")
    return response


def not_modified(etag: str) -> Response:
    return with_etag(Response(status=304), etag)
