"""How many SQL statements each list and detail page runs (issue 17): pinned for a small world,
and for the list pages the same with a bigger one — the count does not grow with the rows.

Templates never query (tests/support/template_guard.py fails any test whose template runs a
statement); this table pins what the views run. The numbers include the session's user (1) and
the header's facts (1) on every signed-in page. A change that adds a statement changes the
table here and in docs/performance.md on purpose.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.assignments.models import MentorLink, Review, Revision, Submission, SubmissionMessage
from app.auth.models import User
from app.authoring.models import CourseAuthor
from app.certificates import services as certificate_services
from app.certificates.codes import format_code
from app.content.models import Course, ItemTranslation
from app.extensions import db
from app.quizzes.models import QuizAttempt
from tests.cohorts.conftest import NOW, make_cohort

QUIZ_MD = """
## single: Who is the primary duty-bearer? {#duty}

- [ ] A local CSO
- [x] The State, including the municipality
"""

#: page → (who looks, statements). For a small world (2 of everything listed) and a bigger one
#: (6): the list pages must not change. The table is repeated in docs/performance.md.
PAGES: dict[str, tuple[str, int]] = {
    "home": ("learner", 6),  # +1 in a cohort: what is due across its courses, with the feed (issue 14)
    "catalogue": ("learner", 5),
    "course": ("learner", 11),  # +2: the learner's cohort and its schedule (issue 14)
    "lesson": ("learner", 8),
    "quiz": ("learner", 9),
    "quiz result": ("learner", 6),
    "assignment work page": ("learner", 14),  # +1: the conversation under the feedback (issue 14)
    "review queue": ("mentor", 8),
    "review page": ("mentor", 13),  # +1: the conversation under the feedback (issue 14)
    "notices": ("learner", 3),
    "certificates": ("learner", 3),
    "certificate": ("learner", 3),
    "verify": ("anonymous", 1),
    "cohorts": ("trainer", 4),
    "cohort dashboard": ("trainer", 12),  # per-learner facts cached per cohort version (issue 18)
    # +3 (issue 14): the learner's locked items — which cohort gives their schedule, its early releases
    # for them, their finished items.
    "cohort learner page": ("trainer", 23),
    "admin users": ("admin", 7),
    "admin certificates": ("admin", 4),
    "authoring": ("admin", 3),
    "mentoring links": ("admin", 3),
    "authoring course": ("admin", 6),
    "quiz report": ("admin", 7),
    "cohort settings": ("admin", 6),
    "cohort mentors": ("admin", 13),
    "admin cohorts": ("admin", 4),
}


@dataclass
class World:
    people: dict[str, Any]
    urls: dict[str, str]
    rows: int


def build_world(app, factories, client, auth, rows: int) -> World:
    """`rows` courses, learners in the cohort, mentors who reviewed, quiz attempts, versions of
    the learner's work, certificates of the learner and of the cohort: every list has `rows`."""
    from app.content.render import render_markdown
    from app.quizzes.authoring import parse_quiz_markdown, render_quiz

    courses = [factories.make_course(items=("lesson", "quiz", "assignment")) for _ in range(rows)]
    people = {"admin": factories.make_admin(name="Admin"), "trainer": factories.make_user(name="Tamar Trainer"),
              "mentor": factories.make_user(name="Giorgi Mentor"), "learner": factories.make_user(name="Nino Learner")}
    others = [factories.make_user(name=f"Learner {n}") for n in range(rows - 1)]
    reviewers = [factories.make_user(name=f"Reviewer {n}") for n in range(rows)]
    learners = [people["learner"], *others]
    cohort_id = make_cohort(app, courses=courses, trainers=[people["trainer"]],
                            mentors=[people["mentor"], *reviewers], learners=learners)
    meta = {"kind": "quiz", "title": "Check", "minutes": 5, "pass_mark": 100}
    quiz, problems = parse_quiz_markdown(QUIZ_MD, meta, path="q.en.md", first_line=1)
    assert problems == []
    quiz = render_quiz(quiz, render_markdown)
    course = courses[0]
    quiz_item, work_item = course.items[1], course.items[2]
    with app.app_context():
        translation = db.session.scalar(select(ItemTranslation).where(ItemTranslation.item_id == quiz_item.id))
        translation.data = {"meta": meta, "quiz": quiz.to_dict()}
        db.session.add_all(CourseAuthor(course_id=course.id, user_id=user.id) for user in reviewers)
        db.session.add_all(MentorLink(mentor_id=people["mentor"].id, learner_id=learner.id, cohort_id=cohort_id)
                           for learner in learners)
        db.session.commit()
    auth.login_as(people["learner"])
    for _ in range(rows):  # `rows` attempts, each handed in wrong
        location = client.post(f"/courses/{course.slug}/item2/attempts").headers["Location"]
        with app.app_context():
            sequence = db.session.get(QuizAttempt, int(location.rstrip("/").split("/")[2])).sequence
        assert client.post(location, data={"q.duty": "o1", "action": "submit",
                                           "sequence": str(sequence)}).status_code == 302
    auth.logout()
    with app.app_context():
        # The learner's work: `rows` versions, each reviewed by a different mentor; the others'
        # work waits in the mentor's queue.
        submissions = []
        for n, learner in enumerate(learners):
            submission = Submission(user_id=learner.id, item_id=work_item.id, state="submitted", draft_body="text",
                                    cohort_id=cohort_id, submitted_at=NOW, created_at=NOW, updated_at=NOW)
            db.session.add(submission)
            db.session.flush()
            submissions.append(submission.id)
            versions = rows if n == 0 else 1
            for number in range(1, versions + 1):
                revision = Revision(submission_id=submission.id, number=number, body=f"text {number}",
                                    form_token=f"qc-{submission.id}-{number}",
                                    submitted_at=NOW + timedelta(hours=number))
                db.session.add(revision)
                db.session.flush()
                if number < versions:
                    db.session.add(Review(revision_id=revision.id, mentor_id=reviewers[number - 1].id,
                                          scores={"participation": 2}, total=2, feedback=f"Feedback {number}",
                                          decision="request_changes", sent_at=NOW + timedelta(hours=number)))
        # The conversation on the learner's work: `rows` messages, from the learner and the mentors.
        db.session.add_all(SubmissionMessage(
            submission_id=submissions[0], author_id=(people["learner"] if n % 2 else reviewers[n]).id,
            body_md=f"Message {n}", body_html=f"<p>Message {n}</p>", created_at=NOW + timedelta(hours=n, minutes=30))
            for n in range(rows))
        db.session.commit()
        # Certificates: the learner's for every course, and every other learner's for the first.
        codes = []
        for target in courses:
            issued = certificate_services.issue_certificate(db.session.get(User, people["learner"].id),
                                                            db.session.get(Course, target.id))
            codes.append(issued.code)
        for learner in others:
            certificate_services.issue_certificate(db.session.get(User, learner.id), db.session.get(Course, course.id))
        db.session.commit()
        attempt_id = db.session.scalar(select(QuizAttempt.id).where(QuizAttempt.user_id == people["learner"].id)
                                       .order_by(QuizAttempt.number.desc()).limit(1))
    slug = course.slug
    urls = {
        "home": "/", "catalogue": "/courses", "course": f"/courses/{slug}", "lesson": f"/courses/{slug}/item1",
        "quiz": f"/courses/{slug}/item2", "quiz result": f"/attempts/{attempt_id}/result",
        "assignment work page": f"/courses/{slug}/item3", "review queue": "/review",
        "review page": f"/review/{submissions[0]}", "notices": "/notices", "certificates": "/certificates",
        "certificate": f"/certificates/{format_code(codes[0])}", "verify": f"/verify/{format_code(codes[0])}",
        "cohorts": "/cohorts", "cohort dashboard": f"/cohorts/{cohort_id}",
        "cohort learner page": f"/cohorts/{cohort_id}/learners/{people['learner'].id}",
        "admin users": "/admin/users", "admin certificates": "/admin/certificates", "authoring": "/authoring/",
        "mentoring links": "/admin/mentoring", "authoring course": f"/authoring/{slug}",
        "quiz report": f"/courses/{slug}/item2/report", "cohort settings": f"/cohorts/{cohort_id}/settings",
        "cohort mentors": f"/cohorts/{cohort_id}/mentors", "admin cohorts": "/admin/cohorts",
    }
    return World(people=people, urls=urls, rows=rows)


def page_counts(client, auth, count_queries, world: World) -> dict[str, int]:
    counts: dict[str, int] = {}
    signed_in = None
    for page, (who, _expected) in PAGES.items():
        if who != signed_in:
            if signed_in not in (None, "anonymous"):
                auth.logout()
            if who != "anonymous":
                auth.login_as(world.people[who])
            signed_in = who
        url = world.urls[page]
        client.get(url)  # warm: first-use caches are not what we pin
        with count_queries() as statements:
            response = client.get(url)
        assert response.status_code == 200, (page, url, response.status_code)
        counts[page] = len(statements)
    return counts


@pytest.mark.parametrize("rows", [2, 6])
def test_every_page_runs_a_fixed_number_of_statements(app, client, auth, factories, count_queries, rows):
    world = build_world(app, factories, client, auth, rows)
    counts = page_counts(client, auth, count_queries, world)
    assert counts == {page: expected for page, (_who, expected) in PAGES.items()}


@pytest.mark.parametrize("cohorts", [1, 4])
def test_the_learners_home_with_dates_runs_a_fixed_number_of_statements(app, client, auth, factories,
                                                                         count_queries, cohorts):
    """A learner in `cohorts` cohorts of two courses each, every item dated (overdue, due this week,
    later) and a calendar address: the home page's statements do not grow with them."""
    from app.cohorts.models import CohortItemDate
    from app.database import utcnow

    learner = factories.make_user(name="Nino Learner")
    today = utcnow().date()
    for n in range(cohorts):
        courses = [factories.make_course(items=("lesson", "quiz", "assignment")) for _ in range(2)]
        cohort_id = make_cohort(app, name=f"Cohort {n}", courses=courses, learners=[learner],
                                starts_on=today - timedelta(days=7))
        with app.app_context():
            db.session.add_all(CohortItemDate(cohort_id=cohort_id, item_id=item.id,
                                              opens_on=today - timedelta(days=7),
                                              due_on=today + timedelta(days=3 * (k - 1)))
                               for course in courses for k, item in enumerate(course.items))
            db.session.commit()
    auth.login_as(learner)
    client.post("/calendar/reset")
    client.get("/")
    with count_queries() as statements:
        page = client.get("/").get_data(as_text=True)
    assert 'id="home-overdue"' in page and 'id="home-due"' in page and "/calendar/" in page
    assert len(statements) == PAGES["home"][1]


def test_the_guard_sees_a_statement_run_while_a_template_renders(app):
    """tests/support/template_guard.py, which fails every test whose template queries, works."""
    from flask import render_template_string
    from sqlalchemy import text

    from tests.support import template_guard

    with app.test_request_context("/"):
        db.session.execute(text("SELECT 1"))  # in the view: allowed
        assert template_guard.statements_while_rendering() == []
        render_template_string("{{ ask() }}", ask=lambda: db.session.execute(text("SELECT 2")).scalar())
        found = template_guard.statements_while_rendering()
        render_template_string("{{ 1 + 1 }}")
        assert template_guard.statements_while_rendering() == found
    template_guard.reset()  # this test's own statement is not a failure
    assert found == [("<string>", "SELECT 2")]
