"""Messages from a cohort's trainers to its learners: the whole cohort, a group chosen from the
dashboard (at risk, not started, not finished an item) or one learner.

Who receives a message is worked out from the database when the trainer composes it and again
when they send it; the page they confirmed carries a digest of that list, and a different list
at sending (someone left the cohort, someone finished the item) is refused with the new list
shown, so nobody outside the cohort, or outside the group as confirmed, is written to. Sending
records the message (Announcement) and its recipients (AnnouncementRecipient), and gives each
recipient a notice and an e-mail through the outbox, in bulk: a fixed number of statements for
one recipient or five thousand. The form's one-time token makes a double click send once.

Functions add and flush; the route commits once. Authorisation is checked here.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import exists, insert, select

from app.auth.models import User
from app.cohorts.models import LEARNER, TRAINER, Announcement, AnnouncementRecipient, Cohort, Membership
from app.cohorts.queries import Column, columns_of, learner_summaries
from app.cohorts.services import CohortError
from app.content.render import render_markdown
from app.core import audit
from app.core.authz import has_role, is_signed_in, policy, require
from app.core.errors import Conflict
from app.core.links import external_url, url_path
from app.extensions import db
from app.learning.models import Progress
from app.notify.services import notify_many, queue_emails, register_template
from app.offline.models import IdempotencyKey

TEMPLATE = "announcement"  # the notice's kind and the e-mail's template
SUBJECT_MAX, BODY_MAX = 200, 10_000
ALL, AT_RISK, NOT_STARTED, NOT_DONE, ONE = "all", "at_risk", "not_started", "not_done", "learner"
KEY_PREFIX = "message:"  # idempotency keys of this form, beside the offline ones


def register() -> None:
    """Called by create_app: the e-mail a message goes out as; its subject is the trainer's."""
    register_template(TEMPLATE, _email_subject)


def _email_subject(payload: dict) -> str:
    return _("%(cohort)s: %(subject)s", cohort=payload.get("cohort", ""), subject=payload.get("message_subject", ""))


@policy("cohort.message")
def _may_write(user, cohort: Cohort) -> bool:
    return has_role(user, cohort, TRAINER)


@policy("announcement.read")
def _may_read(user, message: Announcement) -> bool:
    """Its recipients and the cohort's trainers (admins pass every policy)."""
    if not is_signed_in(user):
        return False
    if db.session.scalar(select(exists().where(AnnouncementRecipient.announcement_id == message.id,
                                               AnnouncementRecipient.user_id == user.id))):
        return True
    return has_role(user, db.session.get_one(Cohort, message.cohort_id), TRAINER)


def open_message(actor, message: Announcement) -> tuple[Cohort, bool]:
    """Check that the actor may read the message (its recipients, the cohort's trainers and
    admins); returns its cohort and whether they manage it (and so see the recipients). Raises
    AccessDenied (404: the message's existence stays secret)."""
    cohort = db.session.get_one(Cohort, message.cohort_id)  # held here: the policy finds it loaded
    require(actor, "announcement.read", message, hide=True)
    return cohort, bool(actor.is_admin or has_role(actor, cohort, TRAINER))


# -- audiences ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Audience:
    """Who a message is for, as the `to` parameter and the record spell it: "all", "at_risk",
    "not_started", "not_done:<item id>" or "learner:<user id>"."""

    kind: str
    target: int | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.target}" if self.target is not None else self.kind

    @classmethod
    def parse(cls, text: str | None) -> Audience:
        """Raises CohortError for anything else."""
        kind, _sep, target = (text or ALL).strip().partition(":")
        if kind in (ALL, AT_RISK, NOT_STARTED) and not target:
            return cls(kind)
        if kind in (NOT_DONE, ONE) and target.isdigit() and len(target) < 12:
            return cls(kind, int(target))
        raise CohortError(_("Choose who the message is for."))


@dataclass(frozen=True)
class Recipient:
    user_id: int
    name: str
    email: str
    locale: str


@dataclass
class Group:
    audience: Audience
    people: list[Recipient]
    description: str

    @property
    def digest(self) -> str:
        """What the trainer confirmed: the audience and exactly these people."""
        ids = ",".join(str(person.user_id) for person in sorted(self.people, key=lambda p: p.user_id))
        return hashlib.sha256(f"{self.audience.key}|{ids}".encode()).hexdigest()[:40]


def describe(audience: Audience, item_title: str = "", learner_name: str = "") -> str:
    """The audience in words, in the reader's language."""
    if audience.kind == AT_RISK:
        return _("Everyone at risk")
    if audience.kind == NOT_STARTED:
        return _("Everyone who has not started")
    if audience.kind == NOT_DONE:
        return _("Everyone who has not finished “%(item)s”", item=item_title or "—")
    if audience.kind == ONE:
        return _("One learner: %(name)s", name=learner_name or "—")
    return _("The whole cohort")


def _learners(cohort: Cohort) -> list[Recipient]:
    """The cohort's learners whose accounts are active, by name: one query."""
    return [Recipient(user_id, name or email, email, locale or "en") for user_id, name, email, locale in
            db.session.execute(
                select(User.id, User.name, User.email, User.locale)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.cohort_id == cohort.id, Membership.role == LEARNER,
                       User.is_active_account.is_(True))
                .order_by(User.name, User.email, User.id))]


def _finished(cohort: Cohort, item_ids: list[int]) -> set[int]:
    """The learners of the cohort who finished at least one of these items: one query."""
    if not item_ids:
        return set()
    learners = select(Membership.user_id).where(Membership.cohort_id == cohort.id, Membership.role == LEARNER)
    return set(db.session.scalars(select(Progress.user_id).distinct().where(
        Progress.item_id.in_(item_ids), Progress.user_id.in_(learners))))


def audience_group(cohort: Cohort, audience: Audience, lang: str, now: datetime,
                   columns: list[Column] | None = None) -> Group:
    """The cohort's learners this audience means now, by name. A fixed number of queries.

    Raises CohortError for an item that is not one of the cohort's, or someone who is not one
    of its learners.
    """
    people = _learners(cohort)
    if audience.kind == ONE:
        people = [person for person in people if person.user_id == audience.target]
        if not people:
            raise CohortError(_("This person is not a learner of this cohort."))
        return Group(audience, people, describe(audience, learner_name=people[0].name))
    if audience.kind == ALL:
        return Group(audience, people, describe(audience))
    columns = columns_of(cohort, lang) if columns is None else columns
    if audience.kind == NOT_DONE:
        column = next((c for c in columns if c.item_id == audience.target), None)
        if column is None:
            raise CohortError(_("This item is not in the cohort's courses."))
        done = _finished(cohort, [column.item_id])
        return Group(audience, [p for p in people if p.user_id not in done], describe(audience, column.title))
    if audience.kind == NOT_STARTED:
        done = _finished(cohort, [c.item_id for c in columns])
        return Group(audience, [p for p in people if p.user_id not in done], describe(audience))
    # At risk: the dashboard's own rules, over the same (cached) facts.
    at_risk = {s.user_id for s in learner_summaries(cohort, columns, now) if s.risks}
    return Group(audience, [p for p in people if p.user_id in at_risk], describe(audience))


def compose(actor, cohort: Cohort, to: str | None, lang: str, now: datetime,
            columns: list[Column] | None = None) -> Group:
    """Who a message to `to` would reach now (the compose page). Raises AccessDenied (404 for
    people outside the cohort) or CohortError."""
    require(actor, "cohort.message", cohort, hide=True)
    return audience_group(cohort, Audience.parse(to), lang, now, columns)


def audience_choices(columns: list[Column], group: Group | None) -> list[tuple[str, str]]:
    """The groups the compose page offers, as (to, words); the chosen learner's too."""
    choices = [(ALL, describe(Audience(ALL))), (AT_RISK, describe(Audience(AT_RISK))),
               (NOT_STARTED, describe(Audience(NOT_STARTED)))]
    choices += [(Audience(NOT_DONE, c.item_id).key, f"{c.label} · " + describe(Audience(NOT_DONE, c.item_id), c.title))
                for c in columns]
    if group is not None and group.audience.kind == ONE:
        choices.append((group.audience.key, group.description))
    return choices


# -- sending --------------------------------------------------------------------------------------

def clean_text(subject: str | None, body: str | None) -> tuple[str, str]:
    """The subject on one line and the body as typed (ends trimmed). Raises CohortError when
    either is empty or too long."""
    subject = " ".join((subject or "").split())
    body = (body or "").strip()
    if not subject:
        raise CohortError(_("Write a subject."))
    if len(subject) > SUBJECT_MAX:
        raise CohortError(_("The subject is too long: at most %(max)d characters.", max=SUBJECT_MAX))
    if not body:
        raise CohortError(_("Write the message."))
    if len(body) > BODY_MAX:
        raise CohortError(_("The message is too long: at most %(max)d characters.", max=BODY_MAX))
    return subject, body


def _claim(actor, cohort: Cohort, form_token: str, fingerprint: str) -> tuple[IdempotencyKey, Announcement | None]:
    """Note the form's token in this transaction: its row, and the message already sent with it
    (a second click, a resent form), or None when it is new. Two requests with one token at once:
    the second's insert waits on the unique index until the first commits, then reads its row.
    Raises Conflict when the token was used for another text."""
    row, new = IdempotencyKey.claim(actor.id, KEY_PREFIX + form_token, fingerprint)
    if new:
        return row, None
    sent_id = (row.response or {}).get("announcement_id")
    sent = db.session.get(Announcement, sent_id) if sent_id else None
    if row.fingerprint != fingerprint or sent is None or sent.cohort_id != cohort.id:
        raise Conflict(_("This form was sent already. Open a new one to write another message."))
    return row, sent


@dataclass
class Sent:
    message: Announcement
    recipients: int  # how many were written to now: 0 when the form had been sent already
    replayed: bool


def send_announcement(actor, cohort: Cohort, *, to: str | None, subject: str | None, body: str | None,
                      confirmed: str, form_token: str, lang: str, now: datetime) -> Sent:
    """Send a message to the learners `to` means now: the record, a notice and an e-mail each.
    Returns the message and whether it had been sent already with this form (nothing new then).

    `confirmed` is the digest of the group the trainer saw (Group.digest). Raises AccessDenied
    (404 for people outside the cohort); CohortError for an empty or too long text, an unknown
    audience, item or learner, or a group with nobody in it; Conflict when the group changed
    since the page was shown, or the form was used for another text.
    """
    require(actor, "cohort.message", cohort, hide=True)
    subject, body = clean_text(subject, body)
    audience = Audience.parse(to)
    fingerprint = hashlib.sha256(json.dumps([cohort.id, audience.key, subject, body]).encode()).hexdigest()
    key, sent = _claim(actor, cohort, form_token, fingerprint)
    if sent is not None:
        return Sent(sent, 0, True)
    group = audience_group(cohort, audience, lang, now)
    if not group.people:
        raise CohortError(_("Nobody matches: nothing was sent."))
    if group.digest != confirmed:
        raise Conflict(_("The recipients changed since the page was shown: check the list and send again."))
    message = Announcement(cohort_id=cohort.id, author_id=actor.id, subject=subject, body_md=body,
                           body_html=str(render_markdown(body)), audience=audience.key, created_at=now)
    db.session.add(message)
    db.session.flush()
    _deliver(actor, cohort, message, group.people)
    key.status, key.response = 200, {"announcement_id": message.id}
    audit.record("announcement_send", actor=actor, target=f"Cohort:{cohort.id}", announcement=message.id,
                 audience=audience.key, recipients=len(group.people))
    return Sent(message, len(group.people), False)


def _deliver(actor, cohort: Cohort, message: Announcement, people: list[Recipient]) -> None:
    """The record of who was written to, a notice and an e-mail each: three bulk INSERTs."""
    ids = [person.user_id for person in people]
    db.session.execute(insert(AnnouncementRecipient), [
        {"announcement_id": message.id, "user_id": user_id} for user_id in ids])
    by = actor.display_name
    notify_many(ids, TEMPLATE, url_path("cohorts.message", announcement_id=message.id),
                subject=message.subject, cohort=cohort.name, by=by)
    link = external_url("cohorts.message", announcement_id=message.id)
    common = {"cohort": cohort.name, "by": by, "message_subject": message.subject, "body_md": message.body_md,
              "body_html": message.body_html, "link": link}
    queue_emails(TEMPLATE, [(person.email, person.locale, {**common, "name": person.name}) for person in people])
