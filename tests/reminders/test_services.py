"""Who the job reminds of what: the facts it gathers per cohort (a fixed number of queries), the
people it reaches and the ones it must not."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.assignments.models import MentorLink
from app.auth.models import User
from app.cohorts.models import LEARNER, MENTOR, Cohort, CohortCourse, CohortItemDate, ItemRelease, Membership
from app.content.models import Item
from app.extensions import db
from app.reminders import queries
from app.reminders.models import Reminder
from app.reminders.services import send_reminders
from tests.reminders.conftest import DUE_ON, JOINED_AT, build_rhythm, utc


def _keys(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Reminder.key)))


def test_the_reminders_reach_the_right_people_only(app, factories):
    rhythm = build_rhythm(app, factories)
    stranger = factories.make_user("stranger@example.org")  # a mentor of the cohort, not Nino's
    other_trainer = factories.make_user("other@example.org")
    with app.app_context():
        db.session.add(Membership(cohort_id=rhythm.cohort_id, user_id=stranger.id, role=MENTOR))
        other = Cohort(name="Elsewhere", starts_on=date(2026, 3, 2))
        db.session.add(other)
        db.session.flush()
        db.session.add(Membership(cohort_id=other.id, user_id=other_trainer.id, role="trainer"))
        # a link to Nino in another cohort does not reach her work in this one
        db.session.add(MentorLink(mentor_id=stranger.id, learner_id=rhythm.nino.id, cohort_id=other.id))
        db.session.commit()
    with app.app_context():
        send_reminders(utc(10))
    nino, ivan, mentor, trainer = rhythm.nino.id, rhythm.ivan.id, rhythm.mentor.id, rhythm.trainer.id
    lesson = rhythm.lesson.id
    assert _keys(app) == {f"due_soon:{nino}:{lesson}:2026-03-11", f"due_soon:{ivan}:{lesson}:2026-03-11",
                          f"review_waiting:{mentor}:{rhythm.revision_id}",
                          f"trainer_summary:{rhythm.cohort_id}:{trainer}:2026-W11"}
    # nothing to the unassigned mentor, nor to the trainer of a cohort without learners
    assert not any(f":{stranger.id}:" in key or f":{other_trainer.id}:" in key for key in _keys(app))


def test_locks_releases_finished_work_and_deactivated_accounts(app, factories):
    rhythm = build_rhythm(app, factories)
    quiz, assignment = rhythm.course.items[1], rhythm.course.items[2]
    with app.app_context():
        # the quiz needs the lesson first (locked for both), the assignment is handed in by Nino
        db.session.get(Item, quiz.id).requires = ["item1"]
        db.session.add(CohortItemDate(cohort_id=rhythm.cohort_id, item_id=quiz.id, due_on=DUE_ON))
        db.session.add(CohortItemDate(cohort_id=rhythm.cohort_id, item_id=assignment.id, due_on=DUE_ON))
        # a trainer released the quiz early for Ivan
        db.session.add(ItemRelease(cohort_id=rhythm.cohort_id, item_id=quiz.id, user_id=rhythm.ivan.id))
        db.session.commit()
    with app.app_context():
        send_reminders(utc(10))
    due_soon = {key.rsplit(":", 1)[0] for key in _keys(app) if key.startswith("due_soon")}
    nino, ivan = rhythm.nino.id, rhythm.ivan.id
    assert due_soon == {f"due_soon:{nino}:{rhythm.lesson.id}", f"due_soon:{ivan}:{rhythm.lesson.id}",
                        f"due_soon:{ivan}:{quiz.id}",  # released: open to Ivan; still locked for Nino
                        f"due_soon:{ivan}:{assignment.id}"}  # Nino handed hers in
    # Overdue: the lock does not matter any more (it is late either way); Ivan's account is closed.
    with app.app_context():
        db.session.get(User, ivan).is_active_account = False
        db.session.commit()
        send_reminders(utc(12))
    overdue = {key.rsplit(":", 1)[0] for key in _keys(app) if key.startswith("overdue")}
    assert overdue == {f"overdue:{nino}:{rhythm.lesson.id}", f"overdue:{nino}:{quiz.id}"}


def test_a_learner_in_two_cohorts_follows_the_first_ones_dates(app, factories):
    rhythm = build_rhythm(app, factories)
    with app.app_context():
        second = Cohort(name="Second", starts_on=date(2026, 3, 2))
        db.session.add(second)
        db.session.flush()
        db.session.add(CohortCourse(cohort_id=second.id, course_id=rhythm.course.id))
        db.session.add(Membership(cohort_id=second.id, user_id=rhythm.ivan.id, role=LEARNER))  # joined later
        db.session.add(CohortItemDate(cohort_id=second.id, item_id=rhythm.lesson.id, due_on=date(2026, 3, 10)))
        db.session.commit()
        send_reminders(utc(10))
    ivan_keys = {key for key in _keys(app) if key.startswith(f"due_soon:{rhythm.ivan.id}:")}
    assert ivan_keys == {f"due_soon:{rhythm.ivan.id}:{rhythm.lesson.id}:2026-03-11"}


def test_the_facts_cost_the_same_queries_for_2_or_40_learners(app, factories, count_queries):
    rhythm = build_rhythm(app, factories)

    def gather() -> tuple[int, int]:
        with app.app_context():
            cohort = db.session.get(Cohort, rhythm.cohort_id)
            with count_queries() as statements:
                found = queries.watch(cohort, utc(10))
            return len(statements), len(found.tasks)

    few, tasks = gather()
    assert tasks == 2
    with app.app_context():
        for n in range(38):
            user = User(email=f"many{n}@example.org", name=f"Many {n}", locale="en")
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(cohort_id=rhythm.cohort_id, user_id=user.id, role=LEARNER, created_at=JOINED_AT))
        db.session.commit()
    many, tasks = gather()
    assert tasks == 40 and many == few <= 10


def test_a_key_taken_by_another_worker_skips_that_reminder_only(app, factories):
    from app.notify.models import Notice, OutboxMessage
    from app.reminders.queries import Person
    from app.reminders.rules import Due
    from app.reminders.services import record_reminder

    user = factories.make_user("taken@example.org")
    person = Person(user.id, user.email, user.name, "en", "immediate")
    line = {"kind": "due_soon", "course": "C", "item": "I", "due": "11 March 2026", "link": "http://x/"}
    with app.app_context():
        db.session.add(Reminder(key="due_soon:taken", user_id=user.id, kind="due_soon", payload={}))
        db.session.commit()
        assert record_reminder(Due("due_soon", user.id, "due_soon:taken"), person, line, "/x", utc(10)) is False
        assert record_reminder(Due("due_soon", user.id, "due_soon:free"), person, line, "/x", utc(10)) is True
        db.session.commit()
        assert sorted(db.session.scalars(select(Reminder.key))) == ["due_soon:free", "due_soon:taken"]
        assert db.session.scalar(select(func.count(Notice.id))) == 1
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_the_trainers_summary_gives_the_reasons_in_the_trainers_language(app, factories):
    rhythm = build_rhythm(app, factories)
    with app.app_context():
        db.session.get(User, rhythm.trainer.id).locale = "ru"
        db.session.commit()
        send_reminders(utc(8))
        payload = db.session.scalar(select(Reminder.payload).where(Reminder.kind == "trainer_summary"))
    assert payload["cohort"] == "YPP 2026 — Marneuli" and payload["link"].endswith(f"/cohorts/{rhythm.cohort_id}")
    assert payload["at_risk"] == [{"name": "Ivan Petrov", "reasons": ["неактивен 35 дней"]}]
