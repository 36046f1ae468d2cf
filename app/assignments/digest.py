"""The mentors' daily digest: one e-mail with the number of new submissions since the last one.

The worker's "digests" job (app/reminders/digest.py) builds on :func:`mentors_due` and
:func:`claim_digest`, adding each mentor's reminders to the same e-mail; :func:`queue_digests` serves
`flask --app wsgi assignments digest`. A mentor's digest is due once a day, at ``DIGEST_HOUR`` in
the programme's time zone. Whether it is due is read from the data (``last_digest_at``), not from
the worker's memory, so a restart or a second worker never sends a digest twice: each mentor's row
is claimed with a conditional update.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select, update

from app.assignments.models import MentorPreference
from app.auth.models import User
from app.core.links import external_url
from app.database import rowcount
from app.extensions import db
from app.notify.models import Notice
from app.notify.services import queue_email


def last_digest_time(now: datetime) -> datetime:
    """The most recent DIGEST_HOUR o'clock in the programme's time zone, at or before ``now``."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local = now.astimezone(zone)
    boundary = datetime.combine(local.date(), time(current_app.config["DIGEST_HOUR"]), zone)
    if boundary > local:
        boundary -= timedelta(days=1)
    return boundary


def mentors_due(boundary: datetime, *, only_due: bool = True) -> list[int]:
    """The mentors who chose the digest (only those whose digest is due: none since ``boundary``)."""
    wanted = select(MentorPreference.user_id).where(MentorPreference.daily_digest.is_(True))
    if only_due:
        wanted = wanted.where(or_(MentorPreference.last_digest_at.is_(None),
                                  MentorPreference.last_digest_at < boundary))
    return list(db.session.scalars(wanted.order_by(MentorPreference.user_id)))


def claim_digest(user_id: int, now: datetime) -> int | None:
    """Claim the mentor's digest (a conditional update: their clock moves on to ``now``) and count
    the submissions received since the last one; None when another worker claimed it first."""
    since = db.session.scalar(select(MentorPreference.last_digest_at)
                              .where(MentorPreference.user_id == user_id))
    claim = update(MentorPreference).where(MentorPreference.user_id == user_id)
    claim = claim.where(MentorPreference.last_digest_at.is_(None) if since is None
                        else MentorPreference.last_digest_at == since)
    if rowcount(db.session.execute(claim.values(last_digest_at=now))) != 1:
        return None
    query = select(func.count(Notice.id)).where(Notice.user_id == user_id,
                                                Notice.kind == "submission_received")
    if since is not None:
        query = query.where(Notice.created_at > since)
    return db.session.scalar(query) or 0


def queue_digests(now: datetime, *, only_due: bool = True) -> int:
    """Queue the digests (all, or only those due), in the caller's transaction. Returns how many
    e-mails were queued (mentors with nothing new get none, but their clock moves on).

    The worker uses the reminders package's digest (app/reminders/digest.py), which adds each
    mentor's reminders to the same e-mail; this one serves `flask --app wsgi assignments digest`."""
    sent = 0
    for user_id in mentors_due(last_digest_time(now), only_due=only_due):
        count = claim_digest(user_id, now)
        if count:
            mentor = db.session.get_one(User, user_id)
            queue_email(mentor.email, "mentor_digest", mentor.locale, name=mentor.display_name, count=count,
                        link=external_url("assignments.queue"))
            sent += 1
    return sent
