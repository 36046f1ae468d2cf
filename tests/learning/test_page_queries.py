"""How many SQL statements the learner's pages run (issue 18): pinned, and independent of the
size of the course. The site header's facts (unread notices, mentor, trainer) cost one
statement on every page."""
from __future__ import annotations

import re

import pytest

from app.notify.models import Notice
from app.cohorts.models import TRAINER, Cohort, Membership
from app.extensions import db

HEADER = 1  # unread notices, "is a mentor", "trains a cohort": one SELECT
USER = 1  # the session's user


@pytest.fixture
def signed_in(client, auth, factories):
    def build(lessons: int):
        course = factories.make_course(items=("lesson",) * lessons)
        learner = factories.make_user()
        auth.login_as(learner)
        assert client.post(f"/courses/{course.slug}/enrol").status_code == 302
        assert client.post(f"/courses/{course.slug}/item1/done").status_code == 302
        return course, learner
    return build


def statements(client, count_queries, path):
    client.get(path)  # warm: first-use caches are not what we pin
    with count_queries() as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries), response.get_data(as_text=True)


@pytest.mark.parametrize("lessons", [2, 12])
def test_learner_pages_statements(client, count_queries, signed_in, lessons):
    course, _learner = signed_in(lessons)
    lesson, text = statements(client, count_queries, f"/courses/{course.slug}/item2")
    assert "Text of item 2 in en" in text
    # user, course, outline (items + titles + progress in one), enrolment, the learner's cohort
    # for the schedule (none here: app/cohorts/schedule.py), the text, header
    assert lesson == USER + 5 + HEADER == 7
    assert statements(client, count_queries, "/")[0] == USER + 3 + HEADER
    assert statements(client, count_queries, "/courses")[0] == USER + 3 + HEADER
    outline, text = statements(client, count_queries, f"/courses/{course.slug}")
    assert "Item 1 en" in text and f"Item {lessons} en" in text
    assert outline == USER + 7 + HEADER  # +1: the learner's cohort, for the schedule (issue 14)
    assert statements(client, count_queries, "/profile")[0] == USER + HEADER  # "authors a course?" is a header fact
    assert statements(client, count_queries, "/notices")[0] == USER + 1 + HEADER


def test_the_header_shows_its_facts_from_one_statement(app, client, auth, factories, count_queries):
    trainer, learner = factories.make_user(), factories.make_user()
    factories.link_mentor(trainer, learner)  # the trainer also mentors someone
    with app.app_context():
        cohort = Cohort(name="Marneuli", language="en")
        db.session.add(cohort)
        db.session.flush()
        db.session.add(Membership(cohort_id=cohort.id, user_id=trainer.id, role=TRAINER))
        db.session.add_all(Notice(user_id=trainer.id, kind="review", payload={}) for _ in range(3))
        db.session.commit()
    auth.login_as(trainer)
    client.get("/profile")
    with count_queries() as queries:
        page = client.get("/profile").get_data(as_text=True)
    header = [q for q in queries if "notice" in q or "mentor_link" in q or "cohort_membership" in q]
    assert len(header) == 1
    assert 'href="/cohorts"' in page and 'href="/review"' in page
    assert re.search(r'class="badge"[^>]*>3<', page)

    auth.logout()
    auth.login_as(learner)
    page = client.get("/profile").get_data(as_text=True)
    assert 'href="/cohorts"' not in page and 'href="/review"' not in page
    assert 'class="badge"' not in page
