"""The cohort's per-learner facts are cached (app/cohorts/facts.py): every kind of change to a fact
shows on the next view at once, a view of an unchanged cohort runs fewer queries, and a change in
one cohort leaves the others' caches alone. On both databases."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from app.assignments.models import MentorLink, Review, Revision, Submission
from app.auth.models import User
from app.cohorts import facts, reports
from app.cohorts.models import LEARNER, Cohort, Membership
from app.cohorts.queries import Filters
from app.content.models import Item
from app.learning.models import Progress
from app.database import utcnow
from app.extensions import db
from app.quizzes.models import FINISHED, QuizAttempt
from tests.cohorts.conftest import NOW, add_attempts, add_submission


def board(app, world, filters=None):
    with app.app_context():
        cohort = db.session.get(Cohort, world.cohort_id)
        return reports.dashboard(cohort, filters or Filters(), "en", NOW)


def row_of(result, user):
    return next(row for row in result.matrix.rows if row.learner.user_id == user.id)


def version(app, cohort_id):
    with app.app_context():
        return db.session.scalar(select(Cohort.facts_version).where(Cohort.id == cohort_id))


def test_a_second_view_of_an_unchanged_cohort_comes_from_the_cache(app, world, count_queries):
    first = board(app, world)
    with count_queries() as queries:
        again = board(app, world)
    with app.app_context():
        facts.cache().clear()
    with count_queries() as fresh:
        board(app, world)
    assert len(queries) == len(fresh) - 8  # members, progress, quizzes, submissions; mentors' four
    assert [(r.learner.user_id, r.percent, r.cells) for r in again.matrix.rows] == [
        (r.learner.user_id, r.percent, r.cells) for r in first.matrix.rows]


def test_a_lesson_marked_done_shows_at_once(app, world, factories, client, auth):
    lesson = world.item(1)
    assert row_of(board(app, world), world.learner).cells[0] == "not_started"
    auth.login_as(world.learner)
    assert client.post(f"/courses/{world.course.slug}/{lesson.slug}/done").status_code == 302
    after = board(app, world)
    assert row_of(after, world.learner).cells[0] == "done"
    assert row_of(after, world.learner).percent == 25.0
    assert row_of(after, world.learner).learner.last_activity_at is not None


def test_a_quiz_attempt_started_and_finished_shows_at_once(app, world):
    quiz = world.item(2)
    board(app, world)
    add_attempts(app, world.learner.id, quiz.id, [None])  # started
    assert board(app, world, Filters(state="in_progress")).matrix.matched == 1
    with app.app_context():
        attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == world.learner.id))
        attempt.state, attempt.finished_at, attempt.percent, attempt.passed = FINISHED, NOW, 20.0, False
        db.session.commit()
    after = board(app, world, Filters(state="failed"))
    assert [r.learner.user_id for r in after.matrix.rows] == [world.learner.id]


def test_a_submission_changing_state_shows_at_once(app, world):
    assignment = world.item(3)
    submission_id = add_submission(app, world.learner.id, assignment.id, "draft")
    assert board(app, world, Filters(state="in_progress")).matrix.matched == 1
    with app.app_context():
        db.session.get(Submission, submission_id).state = "submitted"
        db.session.commit()
    assert board(app, world, Filters(state="in_progress")).matrix.matched == 0
    assert [r.learner.user_id for r in board(app, world, Filters(state="submitted")).matrix.rows] == [
        world.learner.id]
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        submission.state, submission.updated_at = "changes_requested", NOW - timedelta(days=30)
        db.session.commit()
    learner = row_of(board(app, world), world.learner).learner
    assert "changes_unanswered" in [risk.code for risk in learner.risks]


def test_a_review_changes_the_mentors_figures_at_once(app, world):
    submission_id = add_submission(app, world.learner.id, world.item(3).id, "submitted",
                                   submitted_at=NOW - timedelta(hours=10))
    mentors = {m.user_id: m for m in board(app, world).mentors}
    assert mentors[world.mentor.id].median_turnaround_hours is None
    with app.app_context():
        revision = db.session.scalar(select(Revision).where(Revision.submission_id == submission_id))
        db.session.add(Review(revision_id=revision.id, mentor_id=world.mentor.id, scores={}, total=0,
                              decision="approve", sent_at=NOW - timedelta(hours=4)))
        db.session.commit()
    mentors = {m.user_id: m for m in board(app, world).mentors}
    assert mentors[world.mentor.id].median_turnaround_hours == 6.0


def test_members_joining_and_leaving_show_at_once(app, world, factories):
    assert board(app, world).learners == 2
    newcomer = factories.make_user(name="New Learner")
    with app.app_context():
        db.session.add(Membership(cohort_id=world.cohort_id, user_id=newcomer.id, role=LEARNER))
        db.session.commit()
    assert board(app, world).learners == 3
    with app.app_context():
        db.session.delete(db.session.scalar(select(Membership).where(Membership.user_id == newcomer.id)))
        db.session.commit()
    assert board(app, world).learners == 2


def test_a_mentor_link_and_a_new_name_show_at_once(app, world):
    assert row_of(board(app, world), world.learner).learner.mentor_name == ""
    with app.app_context():
        db.session.add(MentorLink(mentor_id=world.mentor.id, learner_id=world.learner.id, cohort_id=world.cohort_id))
        db.session.commit()
    assert row_of(board(app, world), world.learner).learner.mentor_name == "Giorgi Mentor"
    with app.app_context():
        db.session.get(User, world.learner.id).name = "Nino Renamed"
        db.session.commit()
    assert row_of(board(app, world), world.learner).learner.name == "Nino Renamed"


def test_a_new_course_version_changes_the_columns_and_the_completion(app, world):
    with app.app_context():
        db.session.add(Progress(user_id=world.learner.id, item_id=world.item(1).id, completed_at=NOW))
        db.session.commit()
    assert row_of(board(app, world), world.learner).percent == 25.0
    version_before = version(app, world.cohort_id)
    with app.app_context():  # as a sync does: an item retired (progress rows untouched)
        db.session.get(Item, world.item(4).id).retired_at = NOW
        db.session.commit()
    assert version(app, world.cohort_id) == version_before  # the key's columns changed instead
    after = board(app, world)
    assert len(after.columns) == 3
    assert row_of(after, world.learner).percent == 33.3


def test_bulk_inserts_bump_every_cohort(app, world):
    board(app, world)
    before = version(app, world.cohort_id), version(app, world.other_cohort_id)
    with app.app_context():
        db.session.execute(insert(Progress), [{"user_id": world.learner2.id, "item_id": world.item(1).id,
                                               "completed_at": NOW}])
        db.session.commit()
    assert version(app, world.cohort_id) != before[0] and version(app, world.other_cohort_id) != before[1]
    assert row_of(board(app, world), world.learner2).cells[0] == "done"


def test_a_change_bumps_only_the_cohorts_of_the_people_concerned(app, world):
    before = version(app, world.cohort_id), version(app, world.other_cohort_id)
    with app.app_context():
        db.session.add(Progress(user_id=world.outsider.id, item_id=world.item(1).id, completed_at=NOW))
        db.session.commit()
    assert version(app, world.cohort_id) == before[0]
    assert version(app, world.other_cohort_id) != before[1]
    with app.app_context():  # signing in touches the account, not its facts
        user = db.session.get(User, world.learner.id)
        user.session_version += 1
        db.session.commit()
    assert version(app, world.cohort_id) == before[0]


def test_uncommitted_and_rolled_back_changes_are_never_cached(app, world):
    board(app, world)
    with app.app_context():
        db.session.add(Progress(user_id=world.learner.id, item_id=world.item(1).id, completed_at=NOW))
        db.session.flush()
        cohort = db.session.get(Cohort, world.cohort_id)
        # This transaction sees its own change; it is not kept for others.
        inside = reports.dashboard(cohort, Filters(), "en", NOW)
        assert row_of(inside, world.learner).cells[0] == "done"
        db.session.rollback()
    assert row_of(board(app, world), world.learner).cells[0] == "not_started"


def test_risks_follow_the_clock_and_the_rules_without_a_change_of_facts(app, world):
    now = utcnow()  # the learners joined now (and did nothing since)
    with app.app_context():
        cohort = db.session.get(Cohort, world.cohort_id)
        assert reports.dashboard(cohort, Filters(), "en", now).at_risk == []
        later = reports.dashboard(cohort, Filters(), "en", now + timedelta(days=30))
        assert [risk.code for s in later.at_risk for risk in s.risks] == ["inactive", "inactive"]
        cohort.risk_inactive_days = 0
        db.session.commit()
        cohort = db.session.get(Cohort, world.cohort_id)
        assert reports.dashboard(cohort, Filters(), "en", now + timedelta(days=30)).at_risk == []
