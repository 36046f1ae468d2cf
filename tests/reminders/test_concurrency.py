"""Several workers at once: each reminder is recorded, noticed and e-mailed once."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.notify.models import Notice, OutboxMessage
from app.reminders.digest import queue_due_digests
from app.reminders.models import Reminder
from app.reminders.services import send_reminders
from tests.reminders.conftest import build_rhythm, utc
from tests.support.concurrency import race


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count(Reminder.id))),
                db.session.scalar(select(func.count(Notice.id)).where(Notice.kind == "reminder")),
                db.session.scalar(select(func.count(OutboxMessage.id))))


def _in_context(app, job, now):
    def call():
        with app.app_context():
            try:
                return job(now)
            finally:
                db.session.remove()
    return call


def test_running_the_job_twice_records_nothing_new(app, factories):
    build_rhythm(app, factories)
    for _ in range(2):
        with app.app_context():
            send_reminders(utc(10))
    assert _counts(app) == (4, 4, 4)  # two "due soon", the review waiting, the trainer's summary


def test_two_workers_at_once_send_each_reminder_once(app, make_app, factories):
    build_rhythm(app, factories, preferences={"nino": "daily"})
    other = make_app()  # a second worker process has its own app, engine and connections
    results = race(_in_context(app, send_reminders, utc(10)), _in_context(other, send_reminders, utc(10)))
    assert sum(int(result.rsplit(": ", 1)[1]) for result in results if result) == 4  # split between them, or not
    assert _counts(app) == (4, 4, 3)  # Nino's waits for her digest
    digests = race(_in_context(app, queue_due_digests, utc(11, 3)), _in_context(other, queue_due_digests, utc(11, 3)))
    assert sorted(digests) == ["", "digests queued: 1"]
    assert _counts(app) == (4, 4, 4)
