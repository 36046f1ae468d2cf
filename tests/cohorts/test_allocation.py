"""Mentor allocation: the balancing rule as a table, then by hand and balanced in the database."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.assignments.models import MentorLink, Submission
from app.assignments.services import is_mentor_of
from app.auth.models import User
from app.cohorts import allocation
from app.cohorts.models import Cohort
from app.cohorts.services import CohortError
from app.core.authz import AccessDenied
from app.extensions import db
from tests.cohorts.conftest import add_submission, bulk_learners


@pytest.mark.parametrize("learners, loads, cap, chosen, left", [
    ([10, 11, 12], {1: 0, 2: 0}, None, {10: 1, 11: 2, 12: 1}, []),
    ([10, 11, 12], {1: 3, 2: 0}, None, {10: 2, 11: 2, 12: 2}, []),
    ([10, 11, 12, 13], {1: 3, 2: 1}, None, {10: 2, 11: 2, 12: 1, 13: 2}, []),
    ([10, 11, 12], {1: 1, 2: 0}, 2, {10: 2, 11: 1, 12: 2}, []),
    ([10, 11, 12, 13], {1: 1, 2: 0}, 2, {10: 2, 11: 1, 12: 2}, [13]),
    ([10, 11], {1: 5}, 5, {}, [10, 11]),
    ([10, 11], {}, None, {}, [10, 11]),
    ([], {1: 0}, None, {}, []),
])
def test_balance(learners, loads, cap, chosen, left):
    assert allocation.balance(learners, loads, cap) == (chosen, left)


@pytest.fixture
def ctx(app, world):
    with app.app_context():
        yield (db.session.get(Cohort, world.cohort_id), db.session.get(User, world.trainer.id),
               lambda person: db.session.get(User, person.id))


def active_links(cohort_id):
    return {(link.learner_id, link.mentor_id) for link in db.session.scalars(select(MentorLink).where(
        MentorLink.cohort_id == cohort_id, MentorLink.ended_at.is_(None)))}


def test_balanced_allocation_counts_current_load_and_respects_the_cap(app, world, ctx):
    cohort, trainer, get = ctx
    # The first mentor already mentors someone outside this cohort: that counts as load.
    db.session.add(MentorLink(mentor_id=world.mentor.id, learner_id=world.outsider.id))
    db.session.commit()
    new = bulk_learners(app, world.cohort_id, 5, [])  # (its own session: no transaction open here)
    result = allocation.allocate_balanced(trainer, cohort, cap=3)
    db.session.commit()
    assert (result.assigned, result.left_without) == (5, 2)
    links = active_links(cohort.id)
    per_mentor = {m: sum(1 for _, mentor in links if mentor == m) for m in (world.mentor.id, world.mentor2.id)}
    assert per_mentor == {world.mentor.id: 2, world.mentor2.id: 3}
    assert len({learner for learner, _ in links}) == 5
    # Again without a cap: the two left over are shared out; those with a mentor keep theirs.
    again = allocation.allocate_balanced(trainer, cohort)
    db.session.commit()
    assert (again.assigned, again.left_without) == (2, 0)
    assert links < active_links(cohort.id)
    assert {learner for learner, _ in active_links(cohort.id)} == {world.learner.id, world.learner2.id, *new}


def test_reassigning_ends_the_old_link_and_keeps_history(app, world, ctx):
    cohort, trainer, get = ctx
    db.session.commit()  # add_submission writes in its own session
    work_id = add_submission(app, world.learner.id, world.item(3).id, "submitted")
    learner, work = get(world.learner), db.session.get(Submission, work_id)
    first = allocation.assign_mentor(trainer, cohort, learner, get(world.mentor))
    db.session.commit()
    assert allocation.assign_mentor(trainer, cohort, learner, get(world.mentor)).id == first.id  # no change
    second = allocation.assign_mentor(trainer, cohort, learner, get(world.mentor2))
    db.session.commit()
    history = db.session.scalars(select(MentorLink).where(MentorLink.learner_id == learner.id)
                                 .order_by(MentorLink.id)).all()
    assert [(link.mentor_id, link.ended_at is None, link.cohort_id) for link in history] == [
        (world.mentor.id, False, cohort.id), (world.mentor2.id, True, cohort.id)]
    assert second.id == history[1].id
    # A mentor sees only their current learners.
    assert not is_mentor_of(get(world.mentor), work) and is_mentor_of(get(world.mentor2), work)
    assert allocation.unassign_mentor(trainer, cohort, learner) == 1
    db.session.commit()
    assert active_links(cohort.id) == set()
    assert db.session.scalar(select(db.func.count(MentorLink.id))) == 2


def test_only_this_cohorts_people_in_their_roles(world, ctx):
    cohort, trainer, get = ctx
    with pytest.raises(CohortError, match="not a mentor"):
        allocation.assign_mentor(trainer, cohort, get(world.learner), get(world.learner2))
    with pytest.raises(CohortError, match="not a learner"):
        allocation.assign_mentor(trainer, cohort, get(world.outsider), get(world.mentor))
    with pytest.raises(AccessDenied):
        allocation.assign_mentor(get(world.other_trainer), cohort, get(world.learner), get(world.mentor))
    with pytest.raises(AccessDenied):
        allocation.allocate_balanced(get(world.mentor), cohort)
    with pytest.raises(CohortError, match="at least 1"):
        allocation.allocate_balanced(trainer, cohort, cap=0)


def test_balancing_needs_mentors(app, world, ctx):
    cohort, trainer, get = ctx
    empty = db.session.get(Cohort, world.other_cohort_id)
    with pytest.raises(CohortError, match="no mentors"):
        allocation.allocate_balanced(get(world.other_trainer), empty)
