"""Fixtures shared by the assignment tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def setup(factories):
    course = factories.make_course(items=("lesson", "assignment"))
    learner = factories.make_user(name="Learner")
    mentor = factories.make_user(name="Mentor")
    factories.link_mentor(mentor, learner)
    return course, learner, mentor
