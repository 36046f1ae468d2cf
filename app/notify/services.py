"""Queue e-mails in the outbox (same transaction as the event) and deliver them over SMTP."""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update

from app.config import mail_domain
from app.core.texts import setting_text
from app.database import rowcount, utcnow
from app.extensions import db
from app.notify.models import FAILED, PENDING, SENDING, SENT, Notice, OutboxMessage

# Subject lines per template; features add theirs with register_template().
SUBJECTS: dict[str, object] = {
    "password_reset": _l("Reset your Nergi password"),
    "invitation": _l("You are invited to Nergi"),
}
STALE_CLAIM = timedelta(minutes=10)
CLAIM_BATCH = 10  # with MAIL_TIMEOUT 10 s, a batch takes well under STALE_CLAIM


def register_template(name: str, subject) -> None:
    """subject: a (lazy) string, or a function of the message's payload returning one (for a
    subject that carries what someone wrote); either is rendered in the recipient's language."""
    SUBJECTS[name] = subject


def queue_email(to_address: str, template: str, locale: str = "en", **payload) -> OutboxMessage:
    """Add a message to the outbox in the current transaction; it is sent after commit."""
    if template not in SUBJECTS:
        raise KeyError(f"unknown e-mail template {template!r}")
    message = OutboxMessage(to_address=to_address, template=template, locale=locale or "en",
                            payload=payload, state=PENDING, attempts=0, next_attempt_at=utcnow())
    db.session.add(message)
    db.session.flush()
    return message


def queue_emails(template: str, messages: list[tuple[str, str, dict[str, Any]]]) -> int:
    """Queue many messages of one template, (address, locale, payload) each, in one bulk INSERT
    (a fixed number of statements however many there are). Returns how many."""
    if template not in SUBJECTS:
        raise KeyError(f"unknown e-mail template {template!r}")
    if messages:
        now = utcnow()
        db.session.execute(insert(OutboxMessage), [
            {"to_address": address, "template": template, "locale": locale or "en", "payload": payload,
             "state": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
            for address, locale, payload in messages])
    return len(messages)


def backoff(attempts: int) -> timedelta:
    """Wait 1, 2, 4 … minutes between tries, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def build_message(message: OutboxMessage) -> EmailMessage:
    """Render the message's templates in its language: plain text and HTML."""
    with force_locale(message.locale):
        context = dict(message.payload, programme_name=setting_text("PROGRAMME_NAME", message.locale))
        subject_of = SUBJECTS[message.template]
        subject = str(subject_of(context) if callable(subject_of) else subject_of)
        text = render_template(f"email/{message.template}.txt", **context)
        html = render_template(f"email/{message.template}.html", subject=subject, **context)
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.to_address
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = make_msgid(idstring=f"outbox{message.id}",
                                     domain=mail_domain(current_app.config["BASE_URL"]))
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    return email


def _smtp_send(email: EmailMessage) -> None:
    cfg = current_app.config
    smtp_class = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"]) as smtp:
        if cfg["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if cfg["MAIL_USERNAME"]:
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(email)


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _is_permanent(error: Exception) -> bool:
    """A 5xx answer about this message (sender, recipients or content refused): trying again
    will not help. Connection, time-out and authentication problems are the server's or the
    configuration's, and are retried."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
        return 500 <= error.smtp_code < 600
    return False


def _claim_due(limit: int, now: datetime) -> list[tuple[int, EmailMessage | None, str]]:
    """In one short transaction: release stale claims, claim the due messages and render them.
    Returns (id, rendered e-mail or None, rendering error) per claimed message."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.state == SENDING, OutboxMessage.claimed_at < now - STALE_CLAIM)
        .values(state=PENDING)
    )
    due_ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.state == PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    claimed: list[tuple[int, EmailMessage | None, str]] = []
    for message_id in due_ids:
        # Another worker may have claimed it since the select: the state test decides.
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.state == PENDING)
            .values(state=SENDING, claimed_at=now)
        )
        if rowcount(result) != 1:
            continue
        message = db.session.get_one(OutboxMessage, message_id)
        try:
            claimed.append((message_id, build_message(message), ""))
        except Exception as error:  # a template that fails to render is a permanent failure
            claimed.append((message_id, None, f"{type(error).__name__}: {error}"))
    db.session.commit()
    return claimed


def _record(message_id: int, now: datetime, error: str, permanent: bool, report: DeliveryReport) -> None:
    """In one short transaction: write down how the attempt went."""
    message = db.session.get_one(OutboxMessage, message_id)
    message.attempts += 1
    if not error:
        message.state = SENT
        message.sent_at = utcnow()
        message.last_error = ""
        report.sent += 1
    else:
        message.last_error = error[:2000]
        if permanent or message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            message.state = FAILED
            report.failed += 1
        else:
            message.state = PENDING
            message.next_attempt_at = now + backoff(message.attempts)
            report.deferred += 1
        report.errors.append(f"#{message.id}: {message.last_error}")
    db.session.commit()


def deliver_due(limit: int = 100, now: datetime | None = None) -> DeliveryReport:
    """Send the messages whose time has come; failures wait with back-off.

    No transaction is open while the SMTP server is talked to (on SQLite an open transaction
    holds the write lock, and a slow mail server would stall every page): messages are claimed
    and rendered in one short transaction, sent with a socket time-out, and each result is
    written in another. A 5xx refusal of a message fails it at once.

    Delivery is at least once: a worker killed between SMTP and the final commit leaves the
    message "sending", and it is tried again once its claim is older than ten minutes.
    """
    now = now or utcnow()
    report = DeliveryReport()
    remaining = limit
    while remaining > 0:
        # Small batches: a claim must not go stale (STALE_CLAIM) while its batch is still
        # waiting for a slow server, or another worker would send it a second time.
        batch = _claim_due(min(remaining, CLAIM_BATCH), now)
        for message_id, email, render_error in batch:
            if email is None:
                _record(message_id, now, render_error, True, report)
                continue
            try:
                _smtp_send(email)
            except (OSError, smtplib.SMTPException) as error:
                _record(message_id, now, f"{type(error).__name__}: {error}", _is_permanent(error), report)
            else:
                _record(message_id, now, "", False, report)
        if len(batch) < min(remaining, CLAIM_BATCH):
            break
        remaining -= len(batch)
    return report


def deliver_round(now: datetime) -> str:
    """The worker's job: send what is due now."""
    report = deliver_due()  # its own clock: include what this round queued
    if not (report.sent or report.deferred or report.failed):
        return ""
    return f"sent {report.sent}, deferred {report.deferred}, failed {report.failed}"


def outbox_is_stalled(minutes: int = 5) -> bool:
    """True when a message has been due for longer than ``minutes``: no worker is sending."""
    cutoff = utcnow() - timedelta(minutes=minutes)
    return db.session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.state == PENDING, OutboxMessage.next_attempt_at < cutoff)
        .limit(1)
    ) is not None


def requeue_failed() -> int:
    """Give messages that exhausted their attempts another round. Returns how many."""
    result = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.state == FAILED)
        .values(state=PENDING, attempts=0, next_attempt_at=utcnow())
    )
    return rowcount(result)


# -- in-app notices -------------------------------------------------------------------------------

def notify(user, kind: str, link: str, **payload: Any) -> Notice:
    notice = Notice(user_id=user.id, kind=kind, link=link, payload=payload)
    db.session.add(notice)
    return notice


def notify_many(user_ids: list[int], kind: str, link: str, **payload: Any) -> int:
    """The same notice for many users, in one bulk INSERT. Returns how many."""
    if user_ids:
        now = utcnow()
        db.session.execute(insert(Notice), [{"user_id": user_id, "kind": kind, "link": link, "payload": payload,
                                             "created_at": now} for user_id in user_ids])
    return len(user_ids)


def unread_count_expression(user_id: int):
    """SQL: the number of the user's unread notices (for the site header)."""
    return (select(func.count(Notice.id)).where(Notice.user_id == user_id, Notice.read_at.is_(None))
            .scalar_subquery())


def unread_count(user) -> int:
    return db.session.scalar(select(func.count(Notice.id)).where(
        Notice.user_id == user.id, Notice.read_at.is_(None))) or 0


def mark_notices_read(user) -> None:
    for notice in db.session.scalars(select(Notice).where(Notice.user_id == user.id, Notice.read_at.is_(None))):
        notice.read_at = utcnow()
