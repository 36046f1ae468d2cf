"""The outbox: written with the event, delivered over real SMTP, retried when the server is down."""
from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time
from sqlalchemy import select

from app.extensions import db
from app.notify import services
from app.notify.models import FAILED, PENDING, SENT, OutboxMessage
from tests.support.smtp import SMTPServer, free_port, text_body


def messages(app):
    with app.app_context():
        return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_message_is_lost_with_a_rolled_back_event(app):
    with app.test_request_context():
        services.queue_email("a@example.org", "password_reset", "en", name="A", link="http://x", minutes=60)
        db.session.rollback()
    assert messages(app) == []


def test_retry_with_backoff_until_the_server_is_back(make_app):
    port = free_port()
    app = make_app(MAIL_PORT=port)
    with app.test_request_context():
        services.queue_email("nino@example.org", "password_reset", "ka", name="ნინო",
                             link="http://nergi.test/reset/abc", minutes=60)
        db.session.commit()
    with app.app_context():
        report = services.deliver_due()
    assert (report.sent, report.deferred) == (0, 1)
    [message] = messages(app)
    assert message.state == PENDING and message.attempts == 1 and "Connection" in message.last_error
    with app.app_context():
        assert services.deliver_due().sent == 0  # not due yet: it waits its back-off
    server = SMTPServer(port=port)
    server.start()
    try:
        with freeze_time(None) as frozen:
            frozen.tick(timedelta(minutes=2))
            with app.app_context():
                assert services.deliver_due().sent == 1
        [received] = server.wait_for(1)
    finally:
        server.stop()
    assert received["To"] == "nino@example.org"
    assert "ნინო" in text_body(received)
    assert "http://nergi.test/reset/abc" in text_body(received)
    assert messages(app)[0].state == SENT


def test_gives_up_after_max_attempts_and_can_be_requeued(make_app):
    app = make_app(MAIL_PORT=free_port(), OUTBOX_MAX_ATTEMPTS=2)
    with app.test_request_context():
        services.queue_email("a@example.org", "invitation", "en", name="", inviter="T", link="http://x", days=14)
        db.session.commit()
    with freeze_time(None) as frozen:
        for _ in range(2):
            with app.app_context():
                services.deliver_due()
            frozen.tick(timedelta(hours=7))
    assert messages(app)[0].state == FAILED
    with app.app_context():
        assert services.requeue_failed() == 1
        db.session.commit()
    assert messages(app)[0].state == PENDING


def test_backoff_grows_and_is_capped():
    assert [services.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert services.backoff(30) == timedelta(hours=6)


def test_outbox_cli(runner, app, smtp_server):
    with app.test_request_context():
        services.queue_email("a@example.org", "invitation", "az", name="Aygün", inviter="T",
                             link="http://x/invitation/1", days=14)
        db.session.commit()
    assert "pending: 1" in runner.invoke(args=["outbox", "status"]).output
    assert "sent 1" in runner.invoke(args=["outbox", "send"]).output
    [message] = smtp_server.wait_for(1)
    assert message.get_body(preferencelist=("html",)) is not None
