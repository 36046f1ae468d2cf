"""The mentor's review queue: filters with counts, paging that keeps the filters, waiting
times, a fixed number of queries, and bad filter values ignored."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert

from app.assignments.models import MentorLink, Submission
from app.auth.models import User
from app.cohorts.models import LEARNER, Membership
from app.database import utcnow
from app.extensions import db
from tests.cohorts.conftest import make_cohort

NOW = utcnow()


def add_learners(app, cohort_id, mentor, item, states, *, prefix="Learner", claimed_by=None, start=0):
    """One learner per state, in the cohort, linked to the mentor, with work on the item in that
    state; learner n handed in n + 1 hours ago (so the first is the most recent)."""
    with app.app_context():
        ids = db.session.execute(insert(User).returning(User.id), [
            {"email": f"{prefix.lower()}{start + n}@example.org", "name": f"{prefix} {start + n:03d}", "locale": "en",
             "municipality": "", "organisation": "", "is_admin": False, "is_active_account": True,
             "session_version": 1, "created_at": NOW} for n in range(len(states))]).scalars().all()
        db.session.execute(insert(Membership), [
            {"cohort_id": cohort_id, "user_id": user_id, "role": LEARNER, "created_at": NOW} for user_id in ids])
        db.session.execute(insert(MentorLink), [
            {"mentor_id": mentor.id, "learner_id": user_id, "cohort_id": cohort_id, "created_at": NOW}
            for user_id in ids])
        db.session.execute(insert(Submission), [
            {"user_id": user_id, "item_id": item.id, "cohort_id": cohort_id, "state": state, "draft_body": "",
             "created_at": NOW, "updated_at": NOW - timedelta(hours=n + 1),
             "submitted_at": NOW - timedelta(hours=n + 1), "version": 1,
             "claimed_by_id": claimed_by.id if claimed_by and state == "submitted" else None}
            for n, (user_id, state) in enumerate(zip(ids, states))])
        db.session.commit()
        return list(ids)


@pytest.fixture
def world(app, factories):
    course = factories.make_course(items=("lesson", "assignment", "assignment"))
    other_course = factories.make_course(items=("assignment",))
    mentor = factories.make_user(name="Mentor One")
    other_mentor = factories.make_user(name="Mentor Two")
    cohort_a = make_cohort(app, name="Marneuli", courses=[course, other_course], mentors=[mentor, other_mentor])
    cohort_b = make_cohort(app, name="Dmanisi", courses=[course], mentors=[mentor])
    return course, other_course, mentor, other_mentor, cohort_a, cohort_b


def get(client, **args):
    response = client.get("/review", query_string=args)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def learners_listed(body):
    return re.findall(r'<a href="/review/\d+">([^<]+)</a>', body)


def test_filters_and_counts(client, app, auth, world):
    course, other_course, mentor, other_mentor, cohort_a, cohort_b = world
    item, item_b = course.items[1], course.items[2]
    add_learners(app, cohort_a, mentor, item, ["submitted", "submitted", "changes_requested", "approved", "draft"],
                 prefix="Anna")
    add_learners(app, cohort_a, mentor, other_course.items[0], ["submitted"], prefix="Giorgi", claimed_by=mentor)
    add_learners(app, cohort_b, mentor, item_b, ["submitted", "submitted"], prefix="Leyla", claimed_by=other_mentor)
    add_learners(app, cohort_a, other_mentor, item, ["submitted"], prefix="Stranger")  # not this mentor's
    auth.login_as(mentor)

    body = get(client)
    assert sorted(learners_listed(body)) == ["Anna 000", "Anna 001", "Giorgi 000", "Leyla 000", "Leyla 001"]
    assert "5 submissions" in body and "Stranger" not in body
    for label in ("To review (5)", "Not taken yet (2)", "Taken by me (1)", "Changes requested (1)",
                  "Marneuli (3)", "Dmanisi (2)"):
        assert label in body, label
    # Oldest first: Anna 001 and Leyla 001 handed in 2 hours ago, the others one hour ago.
    assert sorted(learners_listed(body)[:2]) == ["Anna 001", "Leyla 001"] and "2 hours" in body

    assert learners_listed(get(client, state="waiting")) == ["Anna 001", "Anna 000"]
    assert learners_listed(get(client, state="mine")) == ["Giorgi 000"]
    changes = get(client, state="changes")
    assert learners_listed(changes) == ["Anna 002"] and "Sent back 3 hours ago" in changes
    cohort_b_page = get(client, cohort=cohort_b)
    assert sorted(learners_listed(cohort_b_page)) == ["Leyla 000", "Leyla 001"]
    # Counts of the other filters follow the cohort chosen; the cohort's own counts do not.
    assert "To review (2)" in cohort_b_page and "Not taken yet (0)" in cohort_b_page
    assert "Marneuli (3)" in cohort_b_page
    assert learners_listed(get(client, course=other_course.id)) == ["Giorgi 000"]
    assert sorted(learners_listed(get(client, item=item.id, state=""))) == ["Anna 000", "Anna 001"]
    assert learners_listed(get(client, q="leyla 00")) == ["Leyla 001", "Leyla 000"]
    assert learners_listed(get(client, q="%")) == [] and "Nothing matches these filters." in get(client, q="%")


@pytest.mark.parametrize("args", [
    {"course": "abc"}, {"cohort": "-1"}, {"item": "99999999999999999999"}, {"state": "approved"},
    {"page": "zero"}, {"page": "0"}, {"page": "999"}, {"q": "x" * 500}, {"cohort": "12345"},
    {"course": "1 OR 1=1"}, {"state": ["waiting", "mine"]},
])
def test_bad_filter_values_are_ignored(client, app, auth, world, args):
    course, _other, mentor, _m2, cohort_a, _b = world
    add_learners(app, cohort_a, mentor, course.items[1], ["submitted"])
    auth.login_as(mentor)
    body = get(client, **args)
    assert learners_listed(body) == [] if "q" in args else learners_listed(body) == ["Learner 000"]


def test_pages_keep_the_filters(client, app, auth, world):
    course, _other, mentor, _m2, cohort_a, cohort_b = world
    add_learners(app, cohort_a, mentor, course.items[1], ["submitted"] * 30)
    add_learners(app, cohort_b, mentor, course.items[1], ["submitted"] * 2, prefix="Other")
    auth.login_as(mentor)
    first = get(client, cohort=cohort_a, state="waiting")
    assert len(learners_listed(first)) == 25 and "Page 1 of 2" in first
    assert learners_listed(first)[0] == "Learner 029"  # waited longest
    links = re.findall(r'href="(/review\?[^"]+)" rel="next"', first)
    assert links and f"cohort={cohort_a}" in links[0] and "state=waiting" in links[0] and "page=2" in links[0]
    second = client.get(links[0]).get_data(as_text=True)
    assert learners_listed(second) == [f"Learner {n:03d}" for n in range(4, -1, -1)]
    assert 'rel="prev"' in second and "Page 2 of 2" in second


def test_query_count_does_not_grow_with_the_queue(client, app, auth, world, count_queries):
    course, other_course, mentor, _m2, cohort_a, cohort_b = world
    auth.login_as(mentor)
    add_learners(app, cohort_a, mentor, course.items[1], ["submitted", "changes_requested", "submitted"])
    get(client)  # warm up (the session's first page)
    with count_queries() as small:
        get(client, state="waiting", cohort=cohort_a)
    add_learners(app, cohort_a, mentor, course.items[2], ["submitted"] * 40, prefix="More")
    add_learners(app, cohort_b, mentor, course.items[1], ["submitted"] * 20, prefix="B")
    add_learners(app, cohort_a, mentor, other_course.items[0], ["submitted"] * 20, prefix="C", claimed_by=mentor)
    with count_queries() as large:
        body = get(client, state="waiting", cohort=cohort_a)
    assert len(learners_listed(body)) == 25
    assert len(large) == len(small) <= 10


def test_only_mentors_see_their_own_queue(client, app, auth, world, factories):
    course, _other, mentor, _m2, cohort_a, _b = world
    add_learners(app, cohort_a, mentor, course.items[1], ["submitted"])
    auth.login_as(factories.make_user(name="Somebody"))
    body = get(client)
    assert learners_listed(body) == [] and "Nothing is waiting" in body


def test_the_queue_speaks_the_mentors_language(client, app, auth, world, factories):
    course, _other, _mentor, _m2, cohort_a, _b = world
    mentor = factories.make_user(name="Mentor Ka", locale="ka")
    with app.app_context():
        db.session.add(Membership(cohort_id=cohort_a, user_id=mentor.id, role="mentor", created_at=NOW))
        db.session.commit()
    add_learners(app, cohort_a, mentor, course.items[1], ["submitted", "changes_requested"], prefix="Nino")
    auth.login_as(mentor)
    body = get(client)
    assert "შესაფასებელი (1)" in body and "მოთხოვნილია ცვლილებები (1)" in body and "1 ნაშრომი" in body
    assert "დაბრუნებიდან გავიდა" in get(client, state="changes")
