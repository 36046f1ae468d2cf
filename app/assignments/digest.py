"""The mentors' daily digest: one e-mail with the number of new submissions since the last one.

The worker (`flask --app wsgi worker`) calls :func:`queue_due_digests` every round; a mentor's
digest is due once a day, at ``DIGEST_HOUR`` in the programme's time zone. Whether it is due is
read from the data (``last_digest_at``), not from the worker's memory, so a restart or a second
worker never sends a digest twice: each mentor's row is claimed with a conditional update.
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


def queue_digests(now: datetime, *, only_due: bool = True) -> int:
    """Queue the digests (all, or only those due), in the caller's transaction. Returns how many
    e-mails were queued (mentors with nothing new get none, but their clock moves on)."""
    boundary = last_digest_time(now)
    wanted = select(MentorPreference.user_id).where(MentorPreference.daily_digest.is_(True))
    if only_due:
        wanted = wanted.where(or_(MentorPreference.last_digest_at.is_(None),
                                  MentorPreference.last_digest_at < boundary))
    sent = 0
    for user_id in db.session.scalars(wanted).all():
        since = db.session.scalar(select(MentorPreference.last_digest_at)
                                  .where(MentorPreference.user_id == user_id))
        claim = update(MentorPreference).where(MentorPreference.user_id == user_id)
        claim = claim.where(MentorPreference.last_digest_at.is_(None) if since is None
                            else MentorPreference.last_digest_at == since)
        if rowcount(db.session.execute(claim.values(last_digest_at=now))) != 1:
            continue  # another worker took this mentor's digest
        query = select(func.count(Notice.id)).where(Notice.user_id == user_id,
                                                    Notice.kind == "submission_received")
        if since is not None:
            query = query.where(Notice.created_at > since)
        count = db.session.scalar(query)
        if count:
            mentor = db.session.get_one(User, user_id)
            queue_email(mentor.email, "mentor_digest", mentor.locale, name=mentor.display_name, count=count,
                        link=external_url("assignments.queue"))
            sent += 1
    return sent


def queue_due_digests(now: datetime) -> str:
    """The worker's job: queue the digests that are due and commit."""
    sent = queue_digests(now)
    db.session.commit()
    return f"digests queued: {sent}" if sent else ""
