"""`flask --app wsgi assignments digest`: the daily e-mail for mentors who chose it;
`flask --app wsgi files prune [--dry-run]`: delete stored files that no row names."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.assignments.digest import queue_digests
from app.assignments.file_cleanup import find_orphans
from app.assignments.models import Attachment
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


files_cli = AppGroup("files", help="Stored assignment attachments.")


@files_cli.command("prune")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option("--older-than", "older_than", type=click.IntRange(min=0), default=60, show_default=True,
              help="Only files at least this many minutes old (an upload writes its file before "
                   "its row is committed).")
def prune_command(dry_run: bool, older_than: int) -> None:
    """Delete stored files that no attachment names any more (and unfinished writes)."""
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    known = set(db.session.scalars(select(Attachment.stored_name)))
    db.session.rollback()  # no transaction stays open while the disk is walked
    count = size = 0
    for orphan in find_orphans(folder, known, older_than_seconds=older_than * 60):
        if dry_run:
            click.echo(f"would delete {orphan.path} ({orphan.size} bytes)")
        else:
            orphan.path.unlink(missing_ok=True)
        count += 1
        size += orphan.size
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {count} orphaned file(s), {size} bytes; {len(known)} attachment(s) kept")
