"""`flask --app wsgi outbox send|status|retry-failed`."""
from __future__ import annotations

import time

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.extensions import db
from app.notify import services
from app.notify.models import OutboxMessage

outbox_cli = AppGroup("outbox", help="Deliver queued e-mails.")


@outbox_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep running, checking every --interval seconds.")
@click.option("--interval", default=30, show_default=True, help="Seconds between rounds with --loop.")
@click.option("--limit", default=100, show_default=True, help="Messages per round.")
def send_command(loop: bool, interval: int, limit: int) -> None:
    """Send due messages; failures are retried later with back-off."""
    while True:
        report = services.deliver_due(limit=limit)
        click.echo(f"sent {report.sent}, deferred {report.deferred}, failed {report.failed}")
        for line in report.errors:
            click.echo(f"  {line}", err=True)
        if not loop:
            break
        time.sleep(interval)


@outbox_cli.command("status")
def status_command() -> None:
    """Count messages per state."""
    rows = db.session.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state).order_by(OutboxMessage.state)
    ).all()
    for state, count in rows:
        click.echo(f"{state}: {count}")
    if not rows:
        click.echo("the outbox is empty")


@outbox_cli.command("retry-failed")
def retry_failed_command() -> None:
    """Queue again the messages that used up their attempts."""
    count = services.requeue_failed()
    db.session.commit()
    click.echo(f"requeued {count}")
