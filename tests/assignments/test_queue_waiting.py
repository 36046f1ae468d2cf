"""The mentor's queue against the cohort's turnaround target (issue 14, part 3): how long each
piece of work has waited, the target, "Past target" written out, oldest first; the rule is pure."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, update

from app.assignments.models import MentorLink, Submission
from app.assignments.queue import is_past_target, waiting_days
from app.cohorts.models import Cohort
from app.database import utcnow
from app.extensions import db
from tests.cohorts.conftest import make_cohort

NOW = utcnow()


@pytest.mark.parametrize("waited, target, past", [
    (timedelta(days=2, hours=23), 3, False),
    (timedelta(days=3), 3, False),  # exactly the target: not yet past it
    (timedelta(days=3, minutes=1), 3, True),
    (timedelta(hours=1), 0, True),
    (timedelta(days=3, minutes=1), None, True),  # outside any cohort: the default, 3 days
    (timedelta(days=2), None, False),
    (timedelta(days=6), 7, False),
])
def test_past_target_rule(waited, target, past):
    now = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    assert is_past_target(now - waited, target, now) is past


def test_waiting_days_counts_whole_days():
    now = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    assert [waiting_days(now - timedelta(hours=h), now) for h in (0, 23, 24, 47, 49, 24 * 9)] == [0, 0, 1, 1, 2, 9]


def rows_of(body: str) -> list[str]:
    return re.findall(r"<tr><td[^>]*>.*?</tr>", body, re.S)


def test_the_queue_shows_waiting_days_against_the_target(app, client, auth, factories):
    course = factories.make_course(items=("assignment",))
    mentor = factories.make_user(name="Mentor")
    learners = [factories.make_user(name=name) for name in ("Ana Late", "Bela Fresh", "Cira Outside", "Dato Back")]
    cohort_id = make_cohort(app, name="Marneuli", courses=[course], mentors=[mentor], learners=learners[:2] + [learners[3]])
    with app.app_context():
        db.session.execute(update(Cohort).where(Cohort.id == cohort_id).values(review_target_days=2))
        item_id = course.items[0].id
        work = [(learners[0], cohort_id, "submitted", timedelta(days=3, hours=1)),
                (learners[1], cohort_id, "submitted", timedelta(hours=30)),
                (learners[2], None, "submitted", timedelta(days=4)),
                (learners[3], cohort_id, "changes_requested", timedelta(days=9))]
        db.session.execute(insert(MentorLink), [
            {"mentor_id": mentor.id, "learner_id": learner.id, "cohort_id": cohort, "created_at": NOW}
            for learner, cohort, _state, _ago in work])
        db.session.execute(insert(Submission), [
            {"user_id": learner.id, "item_id": item_id, "cohort_id": cohort, "state": state, "draft_body": "",
             "created_at": NOW - ago, "updated_at": NOW - ago, "submitted_at": NOW - ago, "version": 1}
            for learner, cohort, state, ago in work])
        db.session.commit()
    auth.login_as(mentor)
    body = html.unescape(client.get("/review").get_data(as_text=True))
    rows = rows_of(body)
    # Oldest first: outside any cohort (4 days), then Ana (3 days), then Bela (30 hours).
    assert [re.search(r'<a href="/review/\d+">([^<]+)</a>', row).group(1) for row in rows] == \
        ["Cira Outside", "Ana Late", "Bela Fresh"]
    outside, late, fresh = rows
    assert "4 days" in outside and "Past target" in outside and "target: 3 days" in outside
    assert "3 days" in late and "Past target" in late and "target: 2 days" in late
    assert "1 day" in fresh and "Past target" not in fresh and "target: 2 days" in fresh
    # Work sent back waits for the learner: no target.
    back = rows_of(html.unescape(client.get("/review", query_string={"state": "changes"}).get_data(as_text=True)))
    assert len(back) == 1 and "Sent back 9 days ago" in back[0] and "target" not in back[0]
