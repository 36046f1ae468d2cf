"""The daily e-mail: a mentor's new submissions and a person's reminders, in one message.

The worker's "digests" job (this module's :func:`queue_due_digests`, registered in create_app in
place of the mentors' digest it extends: app/assignments/digest.py) runs every round; a digest is
due once a day, from DIGEST_HOUR in the programme's time zone (``last_digest_time``):

- a mentor who chose the digest for new submissions (``MentorPreference.daily_digest``, on the
  review queue) has their day claimed as before (``last_digest_at``, a conditional update);
- a person who chose "one summary a day" for reminders (``User.reminders == "daily"``) has the
  reminders recorded before the digest hour and not mailed yet claimed (``mailed_at``, set by a
  conditional update, so each reminder is listed in one digest only);
- whoever has anything gets one e-mail listing both: a mentor with both choices receives one
  message, not two. A mentor with only new submissions gets the mentors' digest as before.

The two choices stay separate: a mentor may want new submissions once a day and reminders at once,
or the other way round; when both are daily they share the e-mail.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from app.assignments.digest import claim_digest, last_digest_time, mentors_due
from app.auth.models import User
from app.core.links import external_url
from app.database import rowcount
from app.extensions import db
from app.notify.services import queue_email
from app.reminders import queries
from app.reminders.models import Reminder


def _claim_reminders(reminders: list[Reminder], now: datetime) -> list[Reminder]:
    """The reminders this worker marked as mailed (another may have taken them first)."""
    claimed = []
    for reminder in reminders:
        result = db.session.execute(update(Reminder).where(Reminder.id == reminder.id, Reminder.mailed_at.is_(None))
                                    .values(mailed_at=now).execution_options(synchronize_session=False))
        if rowcount(result) == 1:
            claimed.append(reminder)
    return claimed


def queue_daily_digests(now: datetime) -> int:
    """Queue the day's digests that are due, in the caller's transaction; returns how many."""
    boundary = last_digest_time(now)
    mentors = set(mentors_due(boundary))
    waiting = queries.unmailed_daily(boundary)
    sent = 0
    for user_id in sorted(mentors | set(waiting)):
        count = (claim_digest(user_id, now) or 0) if user_id in mentors else 0
        lines = [reminder.payload for reminder in _claim_reminders(waiting.get(user_id, []), now)]
        if not (count or lines):
            continue
        person = db.session.get_one(User, user_id)
        queue_link = external_url("assignments.queue")
        if lines:
            queue_email(person.email, "reminder_digest", person.locale, name=person.display_name, count=count,
                        queue_link=queue_link, reminders=lines)
        else:
            queue_email(person.email, "mentor_digest", person.locale, name=person.display_name, count=count,
                        link=queue_link)
        sent += 1
    return sent


def queue_due_digests(now: datetime) -> str:
    """The worker's job: queue the digests that are due and commit."""
    sent = queue_daily_digests(now)
    db.session.commit()
    return f"digests queued: {sent}" if sent else ""
