"""The worker sends each reminder once, in the recipient's language, through the outbox to a real
SMTP server on loopback, with a frozen clock stepping across a due date; nothing more on a
second round, nor after a restart (a new app object)."""
from __future__ import annotations

from babel.dates import format_date
from sqlalchemy import func, select

from app.core import worker
from app.extensions import db
from app.notify.models import Notice
from app.reminders.models import Reminder
from tests.reminders.conftest import DUE_ON, due_soon_sentence, finish, greeting, received, run_at, subject_of, utc


def test_each_reminder_arrives_once_in_the_recipients_language(app, make_app, rhythm, smtp_server, monkeypatch):
    # Sunday 8 March: the submission has waited three days (target: two); the trainer's weekly summary.
    results = run_at(app, utc(8))
    assert results["reminders"] == "reminders recorded: 2" and results["outbox"].startswith("sent 2")
    first = received(smtp_server)
    assert sorted((to, subject) for to, subject, _text in first) == [
        ("mentor@example.org", subject_of(app, "review_waiting", "en")),
        ("trainer@example.org", subject_of(app, "trainer_summary", "en"))]
    mentor_text = next(text for to, _s, text in first if to == "mentor@example.org")
    assert "Nino Beridze" in mentor_text and "Item 3 en" in mentor_text and "more than 2 days" in mentor_text
    assert f"/review/{rhythm.submission_id}" in mentor_text
    trainer_text = next(text for to, _s, text in first if to == "trainer@example.org")
    assert "YPP 2026 — Marneuli" in trainer_text and f"/cohorts/{rhythm.cohort_id}" in trainer_text
    # Ivan joined on 1 February and did nothing since: inactive, as the dashboard says; Nino handed
    # in her work on 5 March.
    assert "1 learner needs attention" in trainer_text and "Ivan Petrov: inactive for 35 days" in trainer_text
    assert "Nino" not in trainer_text

    # Tuesday 10 March, through the command line (the clock frozen there): due within 48 hours.
    monkeypatch.setattr(worker, "utcnow", lambda: utc(10))
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "reminders: reminders recorded: 3" in result.output and "outbox: sent 3" in result.output
    second = received(smtp_server)[2:]
    by_address = {to: (subject, text) for to, subject, text in second}
    assert sorted(by_address) == ["ivan@example.org", "nino@example.org", "trainer@example.org"]
    for address, lang, name in (("nino@example.org", "ka", "Nino Beridze"), ("ivan@example.org", "ru", "Ivan Petrov")):
        subject, text = by_address[address]
        assert subject == subject_of(app, "due_soon", lang) != subject_of(app, "due_soon", "en")
        assert f"Item 1 {lang}" in text and rhythm.course.titles[lang] in text
        # the sentence in their language, with the month as a word
        assert due_soon_sentence(app, lang, f"Item 1 {lang}", rhythm.course.titles[lang],
                                 format_date(DUE_ON, "long", locale=lang)) in text
        assert greeting(app, lang, name) in text and "Hello" not in text
        assert f"/courses/{rhythm.course.slug}/item1" in text
    assert "2026-W11" not in by_address["trainer@example.org"][1]

    # Ivan finishes the lesson; Thursday 12 March: only Nino's is overdue.
    finish(app, rhythm.ivan, rhythm.lesson, utc(11, 9))
    results = run_at(app, utc(12, 8))
    assert results["reminders"] == "reminders recorded: 1"
    third = received(smtp_server)[5:]
    assert [(to, subject) for to, subject, _text in third] == [("nino@example.org", subject_of(app, "overdue", "ka"))]
    assert format_date(DUE_ON, "long", locale="ka") in third[0][2]

    # Nothing more: the same round again, a later one, and a new app (a restarted worker).
    assert run_at(app, utc(12, 8)) == {"reminders": "", "digests": "", "outbox": "", "idempotency-keys": ""}
    assert run_at(app, utc(13, 9))["reminders"] == ""
    restarted = make_app()
    assert run_at(restarted, utc(12, 9))["reminders"] == ""
    assert len(smtp_server.wait_for(7, timeout=0.5)) == 6
    with app.app_context():
        assert db.session.scalar(select(func.count(Reminder.id))) == 6
        assert db.session.scalar(select(func.count(Notice.id)).where(Notice.kind == "reminder")) == 6
        assert db.session.scalar(select(func.count(Reminder.id)).where(Reminder.mailed_at.is_(None))) == 0


def test_the_reminder_notices_read_in_the_viewers_language(app, rhythm, client, auth):
    run_at(app, utc(10))
    auth.login_as(rhythm.ivan)
    page = client.get("/notices").get_data(as_text=True)
    expected = due_soon_sentence(app, "ru", "Item 1 ru", rhythm.course.titles["ru"],
                                 format_date(DUE_ON, "long", locale="ru"))
    assert expected.replace("«", "&laquo;") in page or expected in page
    assert f'href="/courses/{rhythm.course.slug}/item1"' in page
