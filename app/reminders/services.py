"""Sending reminders: the worker's "reminders" job records each due reminder once, with an in-app
notice and, for people who want each one as it happens, an e-mail through the outbox.

Each reminder is written in its own transaction: the ``Reminder`` row (its key is unique), the
notice and the e-mail go in together inside a savepoint, so a key another worker recorded first
(a unique-key collision) skips that reminder and nothing else; then it commits. Two workers, or a
restart in the middle of a round, therefore never send a reminder twice.

People choose how reminder e-mails reach them in their profile (``User.reminders``):
``immediate`` (an e-mail per reminder), ``daily`` (recorded with ``mailed_at`` empty, and listed in
the day's digest: app/reminders/digest.py) or ``none`` (the notice only).
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.auth.models import REMINDERS_IMMEDIATE
from app.cohorts.labels import risk_text
from app.cohorts.models import Cohort
from app.cohorts.queries import columns_of, learner_summaries
from app.core import logs
from app.core.dates import show_date
from app.core.links import external_url, url_path
from app.extensions import db
from app.notify.models import Notice
from app.notify.services import queue_email, register_template
from app.reminders import queries
from app.reminders.models import Reminder
from app.reminders.rules import DUE_SOON, OVERDUE, REVIEW_WAITING, TRAINER_SUMMARY, Due, due_reminders

log = logging.getLogger("nergi.reminders")

NOTICE_KIND = "reminder"
SUBJECTS = {
    DUE_SOON: _l("Due soon on Nergi"),
    OVERDUE: _l("Overdue on Nergi"),
    REVIEW_WAITING: _l("A submission is waiting for your review"),
    TRAINER_SUMMARY: _l("Your cohort this week: who needs attention"),
}
DIGEST_SUBJECT = _l("Your daily summary from Nergi")


def register() -> None:
    """Called by create_app: the e-mails this package sends."""
    for kind, subject in SUBJECTS.items():
        register_template(f"reminder_{kind}", subject)
    register_template("reminder_digest", DIGEST_SUBJECT)


# -- what a reminder says: its "line", in the recipient's language ------------------------------

class Context:
    """What the lines of one cohort's reminders name, loaded once (a fixed number of queries)."""

    def __init__(self, watch: queries.CohortWatch, cohort: Cohort, dues: list[Due], now: datetime):
        self.watch, self.cohort, self.now = watch, cohort, now
        # Read now: each reminder commits, which expires the cohort.
        self.cohort_id, self.cohort_name, self.target_days = cohort.id, cohort.name, cohort.review_target_days
        learner_ids = {learner for learner, _item in watch.submissions.values()}
        self.people = queries.people({due.user_id for due in dues} | learner_ids)
        item_ids = {int(due.about["item"]) for due in dues if "item" in due.about}
        item_ids |= {item for _learner, item in watch.submissions.values()}
        self.titles = queries.titles(item_ids)
        self._summaries: list | None = None

    def at_risk(self) -> list:
        """The cohort's learners at risk, as the dashboard computes them (its cached facts)."""
        if self._summaries is None:
            summaries = learner_summaries(self.cohort, columns_of(self.cohort, "en"), self.now)
            self._summaries = [summary for summary in summaries if summary.risks]
        return self._summaries


def _day(value: str, locale: str) -> str:
    return show_date(date.fromisoformat(value), "long", locale)


def line_for(due: Due, person: queries.Person, context: Context) -> tuple[dict[str, Any], str]:
    """The reminder's content in the recipient's language (kept with the reminder, shown by its
    notice and its e-mail) and the path its notice links to."""
    lang = person.locale
    line: dict[str, Any] = {"kind": due.kind}
    if due.kind in (DUE_SOON, OVERDUE):
        item_id = int(due.about["item"])
        course_id, item_slug, _titles = context.titles.items[item_id]
        course_slug = context.titles.courses[course_id][0]
        endpoint: tuple[str, dict[str, Any]] = ("learning.item", {"slug": course_slug, "item_slug": item_slug})
        line.update(course=context.titles.course_of(item_id, lang), item=context.titles.item(item_id, lang),
                    due=_day(str(due.about["due_on"]), lang))
    elif due.kind == REVIEW_WAITING:
        submission_id = int(due.about["submission"])
        learner_id, item_id = context.watch.submissions[submission_id]
        learner = context.people.get(learner_id)
        endpoint = ("assignments.review", {"submission_id": submission_id})
        line.update(course=context.titles.course_of(item_id, lang), item=context.titles.item(item_id, lang),
                    learner=learner.name if learner else "", days=context.target_days)
    else:
        endpoint = ("cohorts.dashboard", {"cohort_id": context.cohort_id})
        with force_locale(lang):
            at_risk = [{"name": summary.name, "reasons": [risk_text(risk) for risk in summary.risks]}
                       for summary in context.at_risk()]
        line.update(cohort=context.cohort_name, learners=context.watch.cohort.learner_count, at_risk=at_risk)
    line["link"] = external_url(endpoint[0], **endpoint[1])
    return line, url_path(endpoint[0], **endpoint[1])


# -- recording and sending ----------------------------------------------------------------------

def record_reminder(due: Due, person: queries.Person, line: dict[str, Any], path: str, now: datetime) -> bool:
    """Record the reminder with its notice and, for "immediate", its e-mail, inside a savepoint of
    the caller's transaction. Returns False (and writes nothing) when its key was recorded
    already, by this worker earlier or by another one just now."""
    immediate = person.reminders == REMINDERS_IMMEDIATE
    try:
        with db.session.begin_nested():
            db.session.add(Reminder(key=due.key, user_id=person.id, kind=due.kind, payload=line, created_at=now,
                                    mailed_at=now if immediate else None))
            db.session.flush()  # the unique key decides here
            db.session.add(Notice(user_id=person.id, kind=NOTICE_KIND, link=path, payload=line, created_at=now))
            if immediate:
                queue_email(person.email, f"reminder_{due.kind}", person.locale, name=person.name, reminder=line)
    except IntegrityError:
        return False
    return True


def send_cohort_reminders(cohort: Cohort, now: datetime) -> int:
    """Record and send the cohort's due reminders; commits after each. Returns how many."""
    watch = queries.watch(cohort, now)
    dues = due_reminders(tasks=watch.tasks, revisions=watch.revisions, cohorts=[watch.cohort], now=now,
                         digest_hour=current_app.config["DIGEST_HOUR"])
    recorded = queries.recorded_keys(due.key for due in dues)
    dues = [due for due in dues if due.key not in recorded]
    if not dues:
        return 0
    context = Context(watch, cohort, dues, now)
    sent = 0
    for due in dues:
        person = context.people.get(due.user_id)
        if person is None:  # a deactivated account
            continue
        line, path = line_for(due, person, context)
        if record_reminder(due, person, line, path, now):
            sent += 1
        db.session.commit()
    return sent


def send_reminders(now: datetime) -> str:
    """The worker's job: every cohort's due reminders."""
    sent = 0
    for cohort_id in [cohort.id for cohort in queries.cohorts_to_watch(now)]:
        cohort = db.session.get_one(Cohort, cohort_id)
        try:
            sent += send_cohort_reminders(cohort, now)
        except Exception as error:  # one cohort's problem must not stop the others' reminders
            db.session.rollback()
            logs.event(log, "reminders failed", logging.ERROR, cohort=cohort_id,
                       error=f"{type(error).__name__}: {error}")
    db.session.commit()
    return f"reminders recorded: {sent}" if sent else ""
