"""Issue 14's "done when": a trainer runs a cohort from its start date to certificates with
dates, reminders and messages, and the learner always knows what is due next — through the
pages, with the shipped local-participation course (requires and pacing: weekly), the worker's
round and the real SMTP sink."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from app.assignments.models import MentorLink
from app.auth.models import User
from app.certificates.models import Certificate
from app.cohorts.queries import columns_of
from app.cohorts.models import Cohort
from app.content.models import Course, Item, ItemTranslation
from app.content.sync import sync_courses
from app.core import worker
from app.database import utcnow
from app.extensions import db
from app.quizzes.models import QuizAttempt
from app.quizzes.spec import Quiz
from app.reminders.models import Reminder
from tests.cohorts.conftest import make_cohort
from tests.learning.test_curriculum_completable import course_spec, hand_in_and_approve, right_answers

SLUG = "local-participation"
PASSWORD = "correct horse battery"


def signed_in(app, user):
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)


def finish(app, student, reviewer, learner, item_slug: str, kind: str) -> None:
    """Finish one item through the pages (a lesson done, a quiz passed, work approved)."""
    base = f"/courses/{SLUG}/{item_slug}"
    assert student.get(base).status_code == 200, item_slug
    if kind == "lesson":
        assert student.post(base + "/done").status_code == 302
    elif kind == "quiz":
        location = student.post(base + "/attempts").headers["Location"]
        with app.app_context():
            attempt = db.session.get(QuizAttempt, int(location.split("/")[2]))
            stored = db.session.scalar(select(ItemTranslation).where(
                ItemTranslation.item_id == attempt.item_id, ItemTranslation.lang == attempt.lang))
            form = right_answers(Quiz.from_dict(stored.data["quiz"]), attempt.seed)
        student.post(location, data={**form, "action": "submit", "sequence": "0"})
        with app.app_context():
            assert db.session.get(QuizAttempt, attempt.id).passed, item_slug
    else:
        hand_in_and_approve(app, student, reviewer, learner.id, base, "run-through-" + "x" * 12)


def test_a_trainer_runs_a_cohort_from_its_start_to_certificates(make_app, factories, smtp_server):
    app = make_app()
    with app.app_context():
        sync_courses([course_spec(SLUG)], [], retire_missing=False)
        db.session.commit()
        course = db.session.scalar(select(Course).where(Course.slug == SLUG))
        items = [(item.slug, item.kind) for item in db.session.scalars(
            select(Item).where(Item.course_id == course.id, Item.retired_at.is_(None)).order_by(Item.position))]
        course_id = course.id
    final = items[-1][0]
    trainer, mentor = factories.make_user(name="Tamar Trainer"), factories.make_user(name="Giorgi Mentor")
    learner = factories.make_user(name="Aygün Learner", locale="az")
    with app.app_context():
        course = db.session.get(Course, course_id)
    today = date.today()
    cohort_id = make_cohort(app, name="Marneuli 2026", courses=[course], trainers=[trainer], mentors=[mentor],
                            learners=[learner], starts_on=today - timedelta(days=14))
    with app.app_context():
        db.session.add(MentorLink(mentor_id=mentor.id, learner_id=learner.id, cohort_id=cohort_id))
        db.session.commit()
    coach, student, reviewer = signed_in(app, trainer), signed_in(app, learner), signed_in(app, mentor)

    # 1. The trainer fills the schedule: one module a week from the start, two weeks ago.
    page = coach.get(f"/cohorts/{cohort_id}/schedule").get_data(as_text=True)
    response = coach.post(f"/cohorts/{cohort_id}/schedule/weekly", data={
        "version": hidden(page, "version"), "start": (today - timedelta(days=14)).isoformat()})
    assert response.status_code == 302
    with app.app_context():
        # (rows only where the week differs from the course's own pacing: here none needed)
        dates = {column.item_id: column for column in columns_of(db.session.get(Cohort, cohort_id), "en")
                 if column.opens_on is not None}
        by_slug = {item.slug: item.id for item in db.session.scalars(select(Item).where(Item.course_id == course_id))}
    assert len(dates) == len(items)
    assert dates[by_slug[items[0][0]]].opens_on == today - timedelta(days=14)
    assert dates[by_slug[final]].opens_on == today + timedelta(days=14)  # the fifth module

    # 2. The learner knows what is due: overdue and this week's work on the home page; the fourth
    # module is not open yet and says when it opens; the final assignment says what it needs.
    home = student.get("/").get_data(as_text=True)
    assert 'lang="az"' in home
    with app.app_context():
        titles = {row.item_id: row.title for row in db.session.scalars(
            select(ItemTranslation).where(ItemTranslation.lang == "az",
                                          ItemTranslation.item_id.in_(by_slug.values())))}
    assert titles[by_slug[items[0][0]]] in home  # module 1: overdue
    assert titles[by_slug[items[4][0]]] in home  # module 3: due this week
    locked = student.get(f"/courses/{SLUG}/{items[6][0]}")
    assert locked.status_code == 403
    assert titles[by_slug[items[6][0]]] in locked.get_data(as_text=True)
    assert student.get(f"/courses/{SLUG}/{final}").status_code == 403

    # 3. The worker's round: the learner is reminded of the overdue second module, once, in Azerbaijani.
    before = len(smtp_server.messages)
    with app.app_context():
        worker.run_round(app, now=utcnow())
        worker.run_round(app, now=utcnow())
        reminders = db.session.scalars(select(Reminder).where(Reminder.user_id == learner.id)).all()
        assert {r.kind for r in reminders} >= {"overdue"}
        assert len({r.key for r in reminders}) == len(reminders)
    to_learner = [m for m in smtp_server.messages[before:] if m["To"] == learner.email]
    assert to_learner and len(to_learner) == len([r for r in reminders if r.kind in ("overdue", "due_soon")])

    # 4. The dashboard flags the learner as behind schedule; the trainer writes to everyone at risk.
    dashboard = coach.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "behind schedule" in dashboard.lower()
    compose = coach.get(f"/cohorts/{cohort_id}/messages/new?to=at_risk").get_data(as_text=True)
    assert "Aygün Learner" in compose
    response = coach.post(f"/cohorts/{cohort_id}/messages/new", data={
        "to": "at_risk", "confirmed": hidden(compose, "confirmed"), "form_token": hidden(compose, "form_token"),
        "subject": "Catch up this week", "body": "Finish **module 2** by Friday, please."})
    assert response.status_code == 302
    notices = student.get("/notices").get_data(as_text=True)
    assert "Catch up this week" in notices

    # 5. The learner catches up; the trainer opens the rest (the schedule moved five weeks back);
    # the final assignment opens only when every lesson and quiz is finished; the mentor
    # approves it and the certificate is issued.
    for item_slug, kind in items[:6]:
        finish(app, student, reviewer, learner, item_slug, kind)
    page = coach.get(f"/cohorts/{cohort_id}/schedule").get_data(as_text=True)
    assert coach.post(f"/cohorts/{cohort_id}/schedule/weekly", data={
        "version": hidden(page, "version"), "start": (today - timedelta(days=35)).isoformat()}).status_code == 302
    refused = student.get(f"/courses/{SLUG}/{final}").get_data(as_text=True)
    assert titles[by_slug[items[6][0]]] in refused  # still needed first
    for item_slug, kind in items[6:]:
        finish(app, student, reviewer, learner, item_slug, kind)
    with app.app_context():
        assert db.session.scalar(select(Certificate).where(Certificate.user_id == learner.id,
                                                           Certificate.cohort_id == cohort_id)) is not None
        assert db.session.get(User, learner.id).locale == "az"
    home = student.get("/").get_data(as_text=True)
    assert titles[by_slug[items[0][0]]] not in home  # nothing overdue any more
