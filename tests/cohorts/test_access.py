"""The role provider and the policies: who holds which cohort role on what."""
from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from app.assignments.models import Submission
from app.auth.models import User
from app.cohorts.models import Cohort
from app.content.models import Course, Item
from app.core.authz import can, roles_on
from app.extensions import db
from tests.cohorts.conftest import add_attempts, add_submission


@pytest.fixture
def objects(app, world, factories):
    outside_item = factories.make_course(items=("assignment",)).items[0]
    ids = {
        "own": add_submission(app, world.learner.id, world.item(3).id, "submitted"),
        "outsider": add_submission(app, world.outsider.id, world.item(3).id, "submitted"),
        "other_course": add_submission(app, world.learner.id, world.other_course.items[0].id, "submitted"),
        "not_a_cohort_course": add_submission(app, world.learner2.id, outside_item.id, "submitted"),
    }
    add_attempts(app, world.learner.id, world.item(2).id, [True])
    with app.app_context():
        yield {
            "cohort": db.session.get(Cohort, world.cohort_id),
            "other_cohort": db.session.get(Cohort, world.other_cohort_id),
            **{f"submission:{k}": db.session.get(Submission, v) for k, v in ids.items()},
            "learner": db.session.get(User, world.learner.id),
            "outsider": db.session.get(User, world.outsider.id),
            "quiz": db.session.get(Item, world.item(2).id),
            "other_course_item": db.session.get(Item, world.other_course.items[0].id),
            "course": db.session.get(Course, world.course.id),
            "other_course": db.session.get(Course, world.other_course.id),
        }


@pytest.mark.parametrize("who, target, roles", [
    ("trainer", "cohort", {"trainer"}),
    ("mentor", "cohort", {"mentor"}),
    ("learner", "cohort", {"learner"}),
    ("other_trainer", "cohort", set()),
    ("admin", "cohort", set()),
    ("trainer", "submission:own", {"trainer"}),
    ("other_trainer", "submission:own", set()),  # their cohort has the course, but not the learner
    ("other_trainer", "submission:outsider", {"trainer"}),
    ("trainer", "submission:outsider", set()),
    ("trainer", "submission:other_course", set()),  # the learner, but a course of another cohort
    ("trainer", "submission:not_a_cohort_course", set()),
    ("mentor", "submission:own", set()),  # mentors come from mentor links, not from here
    ("trainer", "learner", {"trainer"}),
    ("trainer", "outsider", set()),
    ("other_trainer", "outsider", {"trainer"}),
    ("trainer", "quiz", {"trainer"}),
    ("trainer", "other_course_item", set()),
    ("other_trainer", "other_course_item", {"trainer"}),
    ("trainer", "course", {"trainer"}),
    ("trainer", "other_course", set()),
    ("learner", "course", set()),
])
def test_roles(world, objects, who, target, roles):
    user = db.session.get(User, getattr(world, who).id)
    assert roles_on(user, objects[target]) == roles


def test_anonymous_and_unknown_targets_hold_no_role(world, objects):
    assert roles_on(AnonymousUserMixin(), objects["cohort"]) == set()
    assert roles_on(db.session.get(User, world.trainer.id), "something else") == set()
    assert roles_on(db.session.get(User, world.trainer.id), None) == set()


@pytest.mark.parametrize("who, action, target, allowed", [
    ("trainer", "cohort.view", "cohort", True),
    ("trainer", "cohort.manage", "cohort", True),
    ("trainer", "cohort.view", "other_cohort", False),
    ("other_trainer", "cohort.manage", "cohort", False),
    ("mentor", "cohort.view", "cohort", False),
    ("learner", "cohort.view", "cohort", False),
    ("admin", "cohort.manage", "other_cohort", True),
    ("trainer", "cohort.admin", None, False),
    ("admin", "cohort.admin", None, True),
    ("trainer", "cohort.list", None, True),
    ("mentor", "cohort.list", None, False),
    # The quiz report: trainers of a cohort that has the course, besides admins.
    ("trainer", "quiz.report", "quiz", True),
    ("trainer", "quiz.report", "other_course_item", False),
    ("other_trainer", "quiz.report", "other_course_item", True),
    ("learner", "quiz.report", "quiz", False),
    ("mentor", "quiz.report", "quiz", False),
    # submission.view already asks has_role(..., "trainer").
    ("trainer", "submission.view", "submission:own", True),
    ("other_trainer", "submission.view", "submission:own", False),
    ("trainer", "submission.view", "submission:outsider", False),
    ("trainer", "submission.review", "submission:own", False),  # trainers read; mentors review
])
def test_policies(world, objects, who, action, target, allowed):
    user = db.session.get(User, getattr(world, who).id)
    assert can(user, action, objects.get(target)) is allowed
