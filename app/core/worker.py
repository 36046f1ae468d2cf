"""`flask --app wsgi worker`: the one background process of a deployment.

Every WORKER_INTERVAL seconds it runs each registered job once: the reminders, the daily
digests, sending the e-mail outbox, and whatever later features register with
:func:`register_job` in create_app. Jobs decide from the data whether anything is due, so an operator supervises two
processes (the web server and this), not a cron table, and a restart or a second worker never
does a job twice. A job that fails is logged and the others still run; SIGTERM (systemd's stop)
ends the worker between rounds.
"""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.core import logs
from app.database import utcnow
from app.extensions import db

log = logging.getLogger("nergi.worker")

Job = Callable[[datetime], str]


def register_job(app: Flask, name: str, job: Job) -> None:
    """Add a job: a function of the current time that does what is due, commits, and returns a
    short summary ("" when there was nothing to do)."""
    app.extensions.setdefault("nergi.jobs", {})[name] = job


def jobs(app: Flask) -> dict[str, Job]:
    return dict(app.extensions.get("nergi.jobs", {}))


def run_round(app: Flask, now: datetime | None = None) -> dict[str, str]:
    """Run every job once; returns each job's summary, or "error: …" for a job that failed."""
    now = now or utcnow()
    results = {}
    for name, job in jobs(app).items():
        try:
            results[name] = job(now)
        except Exception as error:  # one broken job must not stop the others
            db.session.rollback()
            logs.event(log, "job failed", logging.ERROR, job=name, error=f"{type(error).__name__}: {error}")
            results[name] = f"error: {type(error).__name__}"
        else:
            if results[name]:
                logs.event(log, "job", job=name, result=results[name])
        finally:
            db.session.remove()  # no transaction or connection is held between rounds
    return results


@click.command("worker")
@click.option("--once", is_flag=True, help="Run every job once and stop (for tests and cron).")
@click.option("--interval", type=int, default=None,
              help="Seconds between rounds (default: WORKER_INTERVAL, 30).")
@with_appcontext
def worker_command(once: bool, interval: int | None) -> None:
    """Send e-mails and run the scheduled jobs, every --interval seconds, until stopped."""
    # current_app is a werkzeug LocalProxy that Flask types as Flask itself.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    interval = interval or app.config["WORKER_INTERVAL"]
    stop = threading.Event()
    if not once:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        logs.event(log, "worker started", jobs=",".join(jobs(app)), interval=interval)
    while True:
        results = run_round(app)
        if once:
            for name, summary in results.items():
                click.echo(f"{name}: {summary or 'nothing due'}")
            return
        if stop.wait(interval):
            logs.event(log, "worker stopped")
            return
