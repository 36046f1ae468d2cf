"""Queue e-mails in the outbox (same transaction as the event) and deliver them over SMTP."""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.database import utcnow
from app.extensions import db
from app.notify.models import FAILED, PENDING, SENDING, SENT, OutboxMessage

# Subject lines per template; features add theirs with register_template().
SUBJECTS: dict[str, object] = {
    "password_reset": _l("Reset your Nergi password"),
    "invitation": _l("You are invited to Nergi"),
}
STALE_CLAIM = timedelta(minutes=10)


def register_template(name: str, subject) -> None:
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


def backoff(attempts: int) -> timedelta:
    """Wait 1, 2, 4 … minutes between tries, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def build_message(message: OutboxMessage) -> EmailMessage:
    """Render the message's templates in its language: plain text and HTML."""
    with force_locale(message.locale):
        context = dict(message.payload, programme_name=current_app.config["PROGRAMME_NAME"])
        subject = str(SUBJECTS[message.template])
        text = render_template(f"email/{message.template}.txt", **context)
        html = render_template(f"email/{message.template}.html", subject=subject, **context)
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.to_address
    email["Message-ID"] = make_msgid(idstring=f"outbox{message.id}", domain="nergi")
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


def _claim(message_id: int, now: datetime) -> bool:
    """Mark a message as being sent; False when another worker took it first."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == PENDING)
        .values(state=SENDING, claimed_at=now)
    )
    db.session.commit()
    return result.rowcount == 1


def deliver_due(limit: int = 100, now: datetime | None = None) -> DeliveryReport:
    """Send the messages whose time has come; failures wait with back-off. Commits per message.

    Delivery is at least once: a worker killed between SMTP and the final commit leaves the
    message "sending", and it is tried again once its claim is older than ten minutes.
    """
    now = now or utcnow()
    report = DeliveryReport()
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.state == SENDING, OutboxMessage.claimed_at < now - STALE_CLAIM)
        .values(state=PENDING)
    )
    db.session.commit()
    due_ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.state == PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    for message_id in due_ids:
        if not _claim(message_id, now):
            continue
        message = db.session.get(OutboxMessage, message_id)
        try:
            _smtp_send(build_message(message))
        except (OSError, smtplib.SMTPException) as error:
            message.attempts += 1
            message.last_error = f"{type(error).__name__}: {error}"[:2000]
            if message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
                message.state = FAILED
                report.failed += 1
            else:
                message.state = PENDING
                message.next_attempt_at = now + backoff(message.attempts)
                report.deferred += 1
            report.errors.append(f"#{message.id}: {message.last_error}")
        else:
            message.attempts += 1
            message.state = SENT
            message.sent_at = utcnow()
            message.last_error = ""
            report.sent += 1
        db.session.commit()
    return report


def requeue_failed() -> int:
    """Give messages that exhausted their attempts another round. Returns how many."""
    result = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.state == FAILED)
        .values(state=PENDING, attempts=0, next_attempt_at=utcnow())
    )
    return result.rowcount
