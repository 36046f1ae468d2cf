"""Which mentor looks after which learner in a cohort: by hand, or balanced by current load.

Links are MentorLink rows carrying the cohort's id. Reassigning ends the old link (ended_at)
and makes a new one, so the history of who mentored whom stays.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.assignments.models import MentorLink
from app.auth.models import User
from app.cohorts.models import LEARNER, MENTOR, Cohort, Membership
from app.cohorts.services import CohortError, membership_of
from app.core import audit
from app.core.authz import require
from app.database import utcnow
from app.extensions import db


@dataclass
class AllocationResult:
    assigned: int
    left_without: int


def balance(learner_ids: list[int], loads: dict[int, int], cap: int | None = None
            ) -> tuple[dict[int, int], list[int]]:
    """Give each learner, in order, to the mentor with the fewest learners at that moment
    (ties go to the lower mentor id), never taking a mentor above `cap`. Pure.

    Returns ({learner: mentor}, learners left without a mentor because everyone is full).
    """
    heap = [(load, mentor_id) for mentor_id, load in loads.items()]
    heapq.heapify(heap)
    chosen: dict[int, int] = {}
    left: list[int] = []
    for learner_id in learner_ids:
        if not heap or (cap is not None and heap[0][0] >= cap):
            left.append(learner_id)
            continue
        load, mentor_id = heapq.heappop(heap)
        chosen[learner_id] = mentor_id
        heapq.heappush(heap, (load + 1, mentor_id))
    return chosen, left


def _active_links(cohort: Cohort, learner_id: int) -> list[MentorLink]:
    return list(db.session.scalars(select(MentorLink).where(
        MentorLink.cohort_id == cohort.id, MentorLink.learner_id == learner_id, MentorLink.ended_at.is_(None))))


def _end(actor, link: MentorLink) -> None:
    link.ended_at = utcnow()
    audit.record("mentor_unlink", actor=actor, target=f"User:{link.learner_id}", mentor=link.mentor_id,
                 cohort=link.cohort_id)


def _link(actor, cohort: Cohort, mentor_id: int, learner_id: int) -> MentorLink:
    link = MentorLink(mentor_id=mentor_id, learner_id=learner_id, cohort_id=cohort.id)
    db.session.add(link)
    audit.record("mentor_link", actor=actor, target=f"User:{learner_id}", mentor=mentor_id, cohort=cohort.id)
    return link


def assign_mentor(actor, cohort: Cohort, learner: User | None, mentor: User | None) -> MentorLink:
    """Make `mentor` the learner's mentor in this cohort, ending any other link there.

    Raises AccessDenied, or CohortError when either person does not hold that role here (None:
    no such account, or no mentor chosen).
    """
    require(actor, "cohort.manage", cohort, hide=True)
    if learner is None:
        raise CohortError(_("This person is not a learner in this cohort."))
    if mentor is None:
        raise CohortError(_("Choose a mentor."))
    learner_membership, mentor_membership = membership_of(cohort, learner.id), membership_of(cohort, mentor.id)
    if learner_membership is None or learner_membership.role != LEARNER:
        raise CohortError(_("This person is not a learner in this cohort."))
    if mentor_membership is None or mentor_membership.role != MENTOR:
        raise CohortError(_("This person is not a mentor in this cohort."))
    current = _active_links(cohort, learner.id)
    keep = next((link for link in current if link.mentor_id == mentor.id), None)
    for link in current:
        if link is not keep:
            _end(actor, link)
    link = keep or _link(actor, cohort, mentor.id, learner.id)
    db.session.flush()
    return link


def unassign_mentor(actor, cohort: Cohort, learner: User) -> int:
    """End the learner's mentor links in this cohort. Returns how many ended."""
    require(actor, "cohort.manage", cohort, hide=True)
    current = _active_links(cohort, learner.id)
    for link in current:
        _end(actor, link)
    db.session.flush()
    return len(current)


def allocate_balanced(actor, cohort: Cohort, cap: int | None = None) -> AllocationResult:
    """Give every learner of the cohort who has no mentor here one of the cohort's mentors,
    the least loaded first. A mentor's load counts all their current learners, in any cohort;
    `cap` is the most learners a mentor may have. Raises AccessDenied or CohortError.
    """
    require(actor, "cohort.manage", cohort, hide=True)
    if cap is not None and cap < 1:
        raise CohortError(_("The limit per mentor must be at least 1."))
    mentors = list(db.session.scalars(select(Membership.user_id).where(
        Membership.cohort_id == cohort.id, Membership.role == MENTOR)))
    if not mentors:
        raise CohortError(_("This cohort has no mentors yet. Enrol mentors first (role “mentor” in the CSV)."))
    linked = select(MentorLink.learner_id).where(MentorLink.cohort_id == cohort.id, MentorLink.ended_at.is_(None))
    learners = list(db.session.scalars(
        select(Membership.user_id).join(User, User.id == Membership.user_id)
        .where(Membership.cohort_id == cohort.id, Membership.role == LEARNER, Membership.user_id.not_in(linked))
        .order_by(User.name, User.id)))
    loads = dict.fromkeys(mentors, 0)
    loads.update(db.session.execute(
        select(MentorLink.mentor_id, func.count(MentorLink.id))
        .where(MentorLink.mentor_id.in_(mentors), MentorLink.ended_at.is_(None))
        .group_by(MentorLink.mentor_id)).all())
    chosen, left = balance(learners, loads, cap)
    for learner_id, mentor_id in chosen.items():
        _link(actor, cohort, mentor_id, learner_id)
    db.session.flush()
    return AllocationResult(assigned=len(chosen), left_without=len(left))
