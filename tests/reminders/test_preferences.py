"""The reminder e-mail preference: "daily" waits for the day's digest (one e-mail, shared with a
mentor's new submissions), "none" gives the notice only."""
from __future__ import annotations

from sqlalchemy import func, select

from app.assignments.models import MentorPreference
from app.extensions import db
from app.notify.models import Notice
from app.reminders.models import Reminder
from tests.reminders.conftest import build_rhythm, received, run_at, subject_of, utc


def test_daily_waits_for_the_digest_and_none_sends_no_email(app, factories, smtp_server):
    rhythm = build_rhythm(app, factories, preferences={"nino": "daily", "ivan": "none", "mentor": "daily"})
    with app.app_context():
        # The mentor also chose the daily digest of new submissions, had today's at 07:30 Tbilisi,
        # and a new submission came in since.
        db.session.add(MentorPreference(user_id=rhythm.mentor.id, daily_digest=True, last_digest_at=utc(10, 3, 30)))
        db.session.add(Notice(user_id=rhythm.mentor.id, kind="submission_received", payload={"learner": "Nino"},
                              created_at=utc(10, 10)))
        db.session.commit()

    # Tuesday 10 March, noon: four reminders recorded; only the trainer ("immediate") is e-mailed.
    assert run_at(app, utc(10))["reminders"] == "reminders recorded: 4"
    assert [(to, subject) for to, subject, _t in received(smtp_server)] == [
        ("trainer@example.org", subject_of(app, "trainer_summary", "en"))]
    with app.app_context():
        assert db.session.scalar(select(func.count(Notice.id)).where(Notice.kind == "reminder")) == 4
        mailed = dict(db.session.execute(select(Reminder.user_id, Reminder.mailed_at)).all())
        assert mailed[rhythm.nino.id] is None and mailed[rhythm.ivan.id] is None and mailed[rhythm.mentor.id] is None
        assert mailed[rhythm.trainer.id] is not None

    # Later that day: not the digest hour yet.
    assert run_at(app, utc(10, 22))["digests"] == ""
    # Wednesday 07:00 in Tbilisi: one digest each for Nino (in Georgian) and the mentor (with his
    # new submission in the same e-mail); none for Ivan.
    assert run_at(app, utc(11, 3))["digests"] == "digests queued: 2"
    digests = {to: (subject, text) for to, subject, text in received(smtp_server)[1:]}
    assert sorted(digests) == ["mentor@example.org", "nino@example.org"]
    subject, text = digests["mentor@example.org"]
    assert subject == subject_of(app, "digest", "en")
    assert "1 new submission is waiting for your review" in text and "The work of Nino Beridze" in text
    subject, text = digests["nino@example.org"]
    assert subject == subject_of(app, "digest", "ka") and "Item 1 ka" in text and "new submission" not in text

    # Each is listed once: nothing on the next rounds, even when the next digest is due.
    assert run_at(app, utc(11, 5))["digests"] == ""
    # Thursday: overdue for Nino and Ivan, recorded; Friday's digest lists Nino's.
    assert run_at(app, utc(12, 8))["reminders"] == "reminders recorded: 2"
    assert run_at(app, utc(13, 3))["digests"] == "digests queued: 1"
    last = received(smtp_server)[3:]
    assert [(to, subject) for to, subject, _t in last] == [("nino@example.org", subject_of(app, "digest", "ka"))]
    assert "Item 1 ka" in last[0][2]
    assert all(to != "ivan@example.org" for to, _s, _t in received(smtp_server))
    with app.app_context():
        unmailed = db.session.scalars(select(Reminder.user_id).where(Reminder.mailed_at.is_(None))).all()
        assert sorted(unmailed) == [rhythm.ivan.id, rhythm.ivan.id]  # "none": notices only, never mailed


def test_the_mentors_digest_without_reminders_is_as_before(app, factories, smtp_server):
    mentor = factories.make_user("solo@example.org")
    with app.app_context():
        db.session.add(MentorPreference(user_id=mentor.id, daily_digest=True))
        db.session.add(Notice(user_id=mentor.id, kind="submission_received", payload={}))
        db.session.commit()
    assert run_at(app, utc(11, 3))["digests"] == "digests queued: 1"
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "solo@example.org" and message["Subject"] == "Submissions waiting for your review"
