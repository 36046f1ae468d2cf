"""`flask --app wsgi assignments digest`: the daily e-mail for mentors who chose it."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.assignments.models import MentorPreference, Notice
from app.auth.models import User
from app.database import utcnow
from app.extensions import db
from app.notify.services import queue_email

assignments_cli = AppGroup("assignments", help="Mentoring tasks.")


@assignments_cli.command("digest")
def digest_command() -> None:
    """Queue one e-mail per mentor with a daily digest and new submissions since the last one."""
    now = utcnow()
    sent = 0
    for preference in db.session.scalars(select(MentorPreference).where(MentorPreference.daily_digest.is_(True))):
        since = preference.last_digest_at
        query = select(func.count(Notice.id)).where(Notice.user_id == preference.user_id,
                                                    Notice.kind == "submission_received")
        if since is not None:
            query = query.where(Notice.created_at > since)
        count = db.session.scalar(query)
        preference.last_digest_at = now
        if count:
            mentor = db.session.get(User, preference.user_id)
            queue_email(mentor.email, "mentor_digest", mentor.locale, name=mentor.display_name, count=count,
                        link=current_app.config["BASE_URL"].rstrip("/") + "/review")
            sent += 1
    db.session.commit()
    click.echo(f"digests queued: {sent}")
