"""Replaying writes made offline: each once, under the same rules as online.

A phone queues a write with a key it made up (a UUID). The key is stored in the same
transaction as the write, so a retry after a lost answer finds it and gets the first answer
back instead of writing again. Functions add and flush; the route commits once.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import current_app, url_for
from sqlalchemy import delete, select
from sqlalchemy.orm.exc import StaleDataError

from app.assignments import services as assignment_services
from app.assignments.models import IllegalTransition
from app.content.models import Course, CourseMedia, Item
from app.core.authz import require
from app.database import rowcount, utcnow
from app.extensions import db
from app.learning import queries as learning_queries
from app.learning import services as learning_services
from app.offline.models import IdempotencyKey
from app.quizzes import services as quiz_services
from app.quizzes.models import IN_PROGRESS, QuizAttempt

KEEP_KEYS_FOR = timedelta(days=30)
# A page's template, header and footer, gzipped, on top of its own text (measured: about 2.5 KB).
PAGE_OVERHEAD = 3000


class KeyReused(Exception):
    """The key was used before for a different request."""


class Refused(Exception):
    """The server's rules refuse the write; code says why (the route words it for the learner)."""

    def __init__(self, code: str, status: int = 409, **extra: Any):
        super().__init__(code)
        self.code, self.status, self.extra = code, status, extra


def fingerprint(request_body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request_body, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


def claim_key(user, key: str, print_: str) -> tuple[IdempotencyKey, bool]:
    """The key's row and whether it is new (IdempotencyKey.claim); an existing one carries the
    stored answer to send again. Raises KeyReused when the key was used for another request."""
    row, new = IdempotencyKey.claim(user.id, key, print_)
    if not new and row.fingerprint != print_:
        raise KeyReused(key)
    return row, new


def remember(row: IdempotencyKey, status: int, response: dict[str, Any]) -> None:
    row.status, row.response = status, response
    db.session.flush()


def purge_old_keys(now: datetime) -> str:
    """Worker job: forget keys older than 30 days (a phone retries within days, not months)."""
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - KEEP_KEYS_FOR))
    db.session.commit()
    removed = rowcount(result)
    return f"{removed} idempotency keys removed" if removed else ""


def mark_done(user, item: Item) -> dict[str, Any]:
    """Mark a lesson done (as online). Raises Refused("not_a_lesson"), AccessDenied."""
    try:
        learning_services.mark_lesson_done(user, item)
    except learning_services.NotALesson:
        raise Refused("not_a_lesson", status=400) from None
    return {"done": True}


def save_quiz_answers(user, attempt: QuizAttempt, answers: dict[str, Any], sequence: int) -> dict[str, Any]:
    """Save answers given offline into a started attempt.

    Raises Refused: "quiz_closed" (handed in or closed meanwhile), "quiz_time_up" (the server's
    clock says the time limit passed), "quiz_stale" (newer answers were saved elsewhere);
    AccessDenied for someone else's attempt.
    """
    require(user, "attempt.view", attempt, hide=True)
    quiz_services.lock_attempt(attempt)
    if attempt.state != IN_PROGRESS:
        raise Refused("quiz_closed")
    if quiz_services.is_overdue(attempt):
        raise Refused("quiz_time_up")
    if sequence != attempt.sequence:
        raise Refused("quiz_stale", sequence=attempt.sequence)
    quiz_services.save_answers(user, attempt, answers, sequence)
    return {"saved": True, "sequence": attempt.sequence}


def save_draft(user, item: Item, body: str, version: int) -> dict[str, Any]:
    """Save assignment text written offline into the draft it was written over.

    Raises Refused: "draft_conflict" (the draft changed since; the saved text comes back as
    "saved") or "draft_submitted"; AccessDenied.
    """
    try:
        submission = assignment_services.save_draft(user, item, body, version)
        db.session.flush()
    except (assignment_services.DraftConflict, StaleDataError):
        db.session.rollback()
        current = assignment_services.submission_for(user, item)
        if current is not None and not current.is_editable:
            raise Refused("draft_submitted") from None
        raise Refused("draft_conflict", saved=current.draft_body if current else "",
                      version=current.version if current else 0) from None
    except IllegalTransition:
        raise Refused("draft_submitted") from None
    return {"saved": True, "version": submission.version}


def user_tag(user) -> str:
    """An opaque name for the user's store on a phone (the browser never sees the user's id)."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"offline:{user.id}".encode(), hashlib.sha256).hexdigest()[:20]


def course_hash(course: Course, lang: str, locked: Iterable[int] = ()) -> str:
    """Changes when the course's files change (the sync's source hash), the language does, or
    the items still locked for the learner do (an item that opens is then fetched too)."""
    closed = ",".join(str(item_id) for item_id in sorted(locked))
    return hashlib.sha256(f"{course.source_hash}:{lang}:{closed}".encode()).hexdigest()[:16]


def course_bundle(user, course: Course, lang: str) -> dict[str, Any]:
    """What keeping the course on a phone downloads: its page, every item's page, the learner's
    open quiz attempts, and its media; with an estimate of the bytes. Raises AccessDenied."""
    require(user, "course.view", course, hide=True)
    # Items locked for the learner (a date not reached, items to finish first) stay off the phone:
    # their pages would only say why; the hash changes when one opens, and the page asks again.
    outline = learning_queries.course_outline(user, course, lang)
    items = [row.item for row in outline.rows]
    pages = [url_for("learning.course", slug=course.slug)]
    estimate = PAGE_OVERHEAD
    for item in (row.item for row in outline.rows if row.lock is None):
        translation = learning_queries.translation_for(item, lang)
        if translation is None:
            continue
        pages.append(url_for("learning.item", slug=course.slug, item_slug=item.slug))
        # Lesson text compresses to about a third with gzip.
        estimate += PAGE_OVERHEAD + len(translation.html.encode()) // 3
    attempts = db.session.scalars(select(QuizAttempt.id).where(
        QuizAttempt.user_id == user.id, QuizAttempt.state == IN_PROGRESS,
        QuizAttempt.item_id.in_([item.id for item in items]))).all()
    for attempt_id in attempts:
        pages.append(url_for("quizzes.attempt", attempt_id=attempt_id))
        estimate += PAGE_OVERHEAD
    media = []
    root = Path(current_app.config["COURSES_DIR"]) / course.slug
    for row in db.session.scalars(select(CourseMedia).where(CourseMedia.course_id == course.id)
                                  .order_by(CourseMedia.path)):
        if row.path.lower().endswith(".pdf"):
            continue  # downloads are attachments, opened outside the browser
        media.append(f"/media/{quote(course.slug)}/{row.sha256[:12]}/{quote(row.path)}")
        path = root / row.path
        estimate += path.stat().st_size if path.is_file() else 0
    return {"course": course.slug, "title": course.title(lang), "hash": course_hash(course, lang, outline.locked_ids),
            "pages": pages, "media": media, "bytes": estimate, "made_at": utcnow().isoformat()}
