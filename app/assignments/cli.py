"""`flask --app wsgi assignments digest`: the daily e-mail for mentors who chose it."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.assignments.digest import queue_digests
from app.database import utcnow
from app.extensions import db

assignments_cli = AppGroup("assignments", help="Mentoring tasks.")


@assignments_cli.command("digest")
def digest_command() -> None:
    """Queue one e-mail per mentor with a daily digest and new submissions since the last one,
    now (the worker does this by itself once a day at DIGEST_HOUR)."""
    sent = queue_digests(utcnow(), only_due=False)
    db.session.commit()
    click.echo(f"digests queued: {sent}")
