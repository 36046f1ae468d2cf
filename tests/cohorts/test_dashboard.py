"""The dashboard's figures: each cell's state, filters, sorting, pages, funnel, mentors' backlog
and turnaround, the at-risk list, and a query count that does not grow with the cohort."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.assignments.models import MentorLink
from app.cohorts import reports
from app.cohorts.models import LEARNER, Cohort, Membership
from app.cohorts.queries import Filters
from app.extensions import db
from tests.cohorts.conftest import NOW, add_attempts, add_progress, add_submission, bulk_learners, make_cohort


def join(app, cohort_id, user, role=LEARNER):
    with app.app_context():
        db.session.add(Membership(cohort_id=cohort_id, user_id=user.id, role=role))
        db.session.commit()


def link(app, cohort_id, mentor, learner, ended=False):
    with app.app_context():
        db.session.add(MentorLink(mentor_id=mentor.id, learner_id=learner.id, cohort_id=cohort_id,
                                  ended_at=NOW if ended else None))
        db.session.commit()


@pytest.fixture
def activity(app, world, factories):
    """learner: lesson done, quiz passed at the 2nd try, assignment approved; learner2: quiz failed
    twice, changes requested long ago; third: quiz open, assignment submitted; fourth: a draft."""
    lesson, quiz, assignment, _lesson2 = world.course.items
    third = factories.make_user(name="Third Learner", municipality="Bolnisi")
    fourth = factories.make_user(name="Fourth Learner")
    join(app, world.cohort_id, third)
    join(app, world.cohort_id, fourth)
    add_progress(app, world.learner.id, lesson.id)
    add_attempts(app, world.learner.id, quiz.id, [False, True])
    add_progress(app, world.learner.id, quiz.id)
    add_submission(app, world.learner.id, assignment.id, "approved")
    add_progress(app, world.learner.id, assignment.id)
    add_attempts(app, world.learner2.id, quiz.id, [False, False], at=NOW - timedelta(days=40))
    add_submission(app, world.learner2.id, assignment.id, "changes_requested", submitted_at=NOW - timedelta(days=40),
                   updated_at=NOW - timedelta(days=20))
    add_attempts(app, third.id, quiz.id, [None])
    add_submission(app, third.id, assignment.id, "submitted")
    add_submission(app, fourth.id, assignment.id, "draft")
    link(app, world.cohort_id, world.mentor, world.learner)
    link(app, world.cohort_id, world.mentor2, world.learner, ended=True)
    link(app, world.cohort_id, world.mentor2, third)
    return third, fourth


def board(app, world, filters=None, page_size=50):
    with app.app_context():
        cohort = db.session.get(Cohort, world.cohort_id)
        return reports.dashboard(cohort, filters or Filters(), "en", NOW, page_size=page_size)


def test_each_cell_shows_its_state(app, world, activity):
    third, fourth = activity
    result = board(app, world)
    cells = {row.learner.user_id: row.cells for row in result.matrix.rows}
    assert cells[world.learner.id] == ["done", "passed", "approved", "not_started"]
    assert cells[world.learner2.id] == ["not_started", "failed", "changes_requested", "not_started"]
    assert cells[third.id] == ["not_started", "in_progress", "submitted", "not_started"]
    assert cells[fourth.id] == ["not_started", "not_started", "in_progress", "not_started"]
    assert [c.label for c in result.columns] == ["1.1", "1.2", "1.3", "1.4"]


def test_completion_activity_mentor_and_risks_per_learner(app, world, activity):
    third, fourth = activity
    result = board(app, world)
    by_id = {row.learner.user_id: row for row in result.matrix.rows}
    assert {k: v.percent for k, v in by_id.items()} == {world.learner.id: 75.0, world.learner2.id: 0.0,
                                                        third.id: 0.0, fourth.id: 0.0}
    assert by_id[world.learner.id].learner.mentor_name == "Giorgi Mentor"  # the ended link does not count
    assert by_id[third.id].learner.mentor_name == "Leyla Mentor"
    assert by_id[world.learner.id].learner.last_activity_at == NOW
    learner2 = by_id[world.learner2.id].learner
    assert learner2.last_activity_at == NOW - timedelta(days=40)
    assert [r.code for r in learner2.risks] == ["inactive", "failed_quiz", "changes_unanswered"]
    assert [r.amount for r in learner2.risks] == [40, 2, 20]
    assert [s.user_id for s in result.at_risk][0] == world.learner2.id
    assert result.median == 0.0


def test_funnel_and_mentors(app, world, activity):
    result = board(app, world)
    [row] = result.funnel
    # 4 learners in the cohort; 2 enrolled through make_cohort, 2 joined without enrolment rows.
    assert (row.enrolled, row.started, row.half, row.completed) == (2, 4, 1, 0)
    mentors = {m.name: m for m in result.mentors}
    assert (mentors["Giorgi Mentor"].learners, mentors["Giorgi Mentor"].waiting) == (1, 0)
    assert (mentors["Leyla Mentor"].learners, mentors["Leyla Mentor"].waiting) == (1, 1)
    assert mentors["Leyla Mentor"].oldest_waiting_at == NOW


@pytest.mark.parametrize("filters, expected", [
    (Filters(state="failed"), ["Aygün Learner"]),
    (Filters(state="submitted"), ["Third Learner"]),
    (Filters(state="approved"), ["Nino Learner"]),
    (Filters(state="in_progress"), ["Fourth Learner", "Third Learner"]),
    (Filters(state="not_started"), []),
    (Filters(municipality="Bolnisi"), ["Third Learner"]),
    (Filters(mentor_id=0), ["Aygün Learner", "Fourth Learner"]),
    (Filters(at_risk=True), ["Aygün Learner"]),
    (Filters(search="NINO"), ["Nino Learner"]),
    # Ties keep the order by name, whichever way the sort goes.
    (Filters(sort="completion", descending=True), ["Nino Learner", "Aygün Learner", "Fourth Learner", "Third Learner"]),
    (Filters(sort="completion"), ["Aygün Learner", "Fourth Learner", "Third Learner", "Nino Learner"]),
    (Filters(sort="name", descending=True), ["Third Learner", "Nino Learner", "Fourth Learner", "Aygün Learner"]),
    (Filters(sort="risk", descending=True), ["Aygün Learner", "Fourth Learner", "Nino Learner", "Third Learner"]),
])
def test_filters_and_sorting(app, world, activity, filters, expected):
    assert [row.learner.name for row in board(app, world, filters).matrix.rows] == expected


def test_filter_by_mentor_and_course(app, world, activity, factories):
    assert [r.learner.name for r in board(app, world, Filters(mentor_id=world.mentor.id)).matrix.rows] == [
        "Nino Learner"]
    other = board(app, world, Filters(course_id=world.other_course.id))  # not a course of this cohort
    assert len(other.matrix.columns) == 4


def test_pages(app, world, activity):
    first = board(app, world, Filters(page=1), page_size=3)
    last = board(app, world, Filters(page=9), page_size=3)
    assert (first.matrix.pages, len(first.matrix.rows), first.matrix.matched) == (2, 3, 4)
    assert (last.matrix.page, [r.learner.name for r in last.matrix.rows]) == (2, ["Third Learner"])


def test_median_turnaround_per_mentor(app, factories, world):
    course = factories.make_course(items=("assignment",) * 3)
    cohort_id = make_cohort(app, courses=[course], mentors=[world.mentor],
                            learners=[world.learner, world.learner2])
    link(app, cohort_id, world.mentor, world.learner)
    for item, hours in zip(course.items, (2, 10, 4)):
        add_submission(app, world.learner.id, item.id, "approved", submitted_at=NOW,
                       reviews=[{"mentor_id": world.mentor.id, "decision": "approve", "scores": {}, "total": 3,
                                 "sent_at": NOW + timedelta(hours=hours)}])
    add_submission(app, world.learner2.id, course.items[0].id, "submitted")
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        [mentor] = reports.mentor_loads(cohort, [item.id for item in course.items])
    assert (mentor.learners, mentor.median_turnaround_hours) == (1, 4.0)
    assert mentor.waiting == 0  # learner2's work waits, but not for this mentor


def test_chart_series(app, world, activity):
    add_progress(app, world.learner2.id, world.course.items[0].id, at=NOW - timedelta(days=3))
    with app.app_context():
        cohort = db.session.get(Cohort, world.cohort_id)
        completion = reports.chart_data(cohort, "completion", "en")
        scores = reports.chart_data(cohort, "scores", "en")
    # 4 learners × 4 required items = 16; one done three days ago, three more today.
    assert [(day.isoformat(), value) for day, value in completion] == [("2025-05-29", 6.2), ("2025-06-01", 25.0)]
    # Best scores: learner 90, learner2 30 (third's attempt is still open).
    assert scores == [0, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    # The table beside the chart keeps the last figure of each week (both days are in one week).
    assert reports.weekly(completion) == completion[1:]


def test_the_dashboard_makes_the_same_number_of_queries_for_10_and_500_learners(
        app, factories, client, auth, count_queries, world):
    course = factories.make_course(items=("lesson", "quiz", "assignment") * 13 + ("lesson",))
    cohort_id = make_cohort(app, courses=[course], trainers=[world.trainer], mentors=[world.mentor])
    pages = {"dashboard": f"/cohorts/{cohort_id}",
             "filtered, page 2": f"/cohorts/{cohort_id}?state=failed&sort=completion&order=desc&page=2",
             "export": f"/cohorts/{cohort_id}/exports/progress.csv",
             "chart page": f"/cohorts/{cohort_id}/charts/completion",
             "chart": f"/cohorts/{cohort_id}/charts/completion.svg"}
    auth.login_as(world.trainer)

    def count() -> dict[str, int]:
        client.get(pages["dashboard"])  # warm-up: first-request work is not the page's
        counts = {}
        for name, url in pages.items():
            with count_queries() as statements:
                assert client.get(url).status_code == 200, url
            counts[name] = len(statements)
        return counts

    bulk_learners(app, cohort_id, 10, course.items)
    with_10 = count()
    bulk_learners(app, cohort_id, 490, course.items, start=10)
    assert count() == with_10
    assert with_10["dashboard"] <= 25, with_10
