"""Cohort rules: creating and editing cohorts, their courses, trainers and members.

Functions add and flush; the route (or command) commits once. Authorisation is checked here.
Enrolment by CSV lives in enrolment.py, mentor allocation in allocation.py.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.assignments.models import MentorLink
from app.auth.models import User
from app.cohorts import access as _access  # noqa: F401  (role provider and policies)
from app.cohorts.models import LEARNER, TRAINER, Cohort, CohortCourse, Membership
from app.config import LANGUAGES
from app.content.models import Course
from app.core import audit
from app.core.authz import require
from app.core.errors import InvalidInput
from app.core.links import external_url, url_path
from app.database import utcnow
from app.extensions import db
from app.learning.models import Enrolment
from app.notify.services import notify, queue_email, register_template

CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits
ADDED = "cohort_added"  # the notice and the e-mail that tell someone they were added to a cohort
# Where the notice and the e-mail send the person, by their role in the cohort.
LANDING = {LEARNER: "learning.home", "mentor": "assignments.queue", TRAINER: "cohorts.index"}  # endpoints



def register() -> None:
    """Called by create_app: the e-mail this package sends."""
    register_template(ADDED, _l("You were added to a cohort"))


class CohortError(InvalidInput):
    """A cohort rule was broken; str(error) is a translated message for the user."""


def chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    """The values in slices of `size`, for IN (...) lists."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _check_details(name: str, language: str, starts_on: date | None, ends_on: date | None) -> None:
    if not (name or "").strip():
        raise CohortError(_("Give the cohort a name."))
    if language not in LANGUAGES:
        raise CohortError(_("Choose one of the platform's languages."))
    if starts_on and ends_on and ends_on < starts_on:
        raise CohortError(_("The cohort cannot end before it starts."))


def create_cohort(actor, *, name: str, municipality: str = "", language: str = "en",
                  starts_on: date | None = None, ends_on: date | None = None,
                  courses: Iterable[Course] = ()) -> Cohort:
    """Create a cohort with its courses (admins only). Raises AccessDenied or CohortError."""
    require(actor, "cohort.admin")
    _check_details(name, language, starts_on, ends_on)
    cohort = Cohort(name=name.strip(), municipality=(municipality or "").strip(), language=language,
                    starts_on=starts_on, ends_on=ends_on)
    db.session.add(cohort)
    db.session.flush()
    for course in courses:
        db.session.add(CohortCourse(cohort_id=cohort.id, course_id=course.id))
    db.session.flush()
    db.session.refresh(cohort)
    audit.record("cohort_create", actor=actor, target=f"Cohort:{cohort.id}", name=cohort.name)
    return cohort


def update_cohort(actor, cohort: Cohort, *, name: str, municipality: str, language: str,
                  starts_on: date | None, ends_on: date | None, risk_inactive_days: int,
                  risk_failed_attempts: int, risk_unanswered_days: int, risk_behind_points: int,
                  time_zone: str | None = None, review_target_days: int | None = None) -> None:
    """Change a cohort's details and its at-risk thresholds (its trainers and admins); with
    them, the time zone of its schedule and the mentors' turnaround target (1–60 days).

    Raises AccessDenied (404 for people outside the cohort) or CohortError.
    """
    require(actor, "cohort.manage", cohort, hide=True)
    _check_details(name, language, starts_on, ends_on)
    for value in (risk_inactive_days, risk_failed_attempts, risk_unanswered_days, risk_behind_points):
        if value is None or not 0 <= value <= 1000:
            raise CohortError(_("Thresholds are whole numbers from 0 to 1000."))
    if time_zone is not None and time_zone != cohort.time_zone:
        if not _known_time_zone(time_zone):
            raise CohortError(_("Choose a time zone from the list."))
        cohort.time_zone = time_zone
        # The dates now fall on other moments: the dashboard's overdue counts and the forms change.
        cohort.schedule_version = (cohort.schedule_version or 0) + 1
    if review_target_days is not None:
        if not 1 <= review_target_days <= 60:
            raise CohortError(_("The mentors' target is a whole number of days from 1 to 60."))
        cohort.review_target_days = review_target_days
    cohort.name, cohort.municipality, cohort.language = name.strip(), (municipality or "").strip(), language
    cohort.starts_on, cohort.ends_on = starts_on, ends_on
    cohort.risk_inactive_days, cohort.risk_failed_attempts = risk_inactive_days, risk_failed_attempts
    cohort.risk_unanswered_days, cohort.risk_behind_points = risk_unanswered_days, risk_behind_points
    cohort.updated_at = utcnow()
    db.session.flush()
    audit.record("cohort_update", actor=actor, target=f"Cohort:{cohort.id}")


def _known_time_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not name or "/" not in name or name.startswith(("posix/", "right/")):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def set_courses(actor, cohort: Cohort, courses: Iterable[Course]) -> None:
    """Choose the cohort's courses (admins only); its learners are enrolled in added ones."""
    require(actor, "cohort.admin")
    wanted = {course.id for course in courses}
    current = set(db.session.scalars(select(CohortCourse.course_id).where(CohortCourse.cohort_id == cohort.id)))
    for course_id in current - wanted:
        db.session.delete(db.session.get(CohortCourse, (cohort.id, course_id)))
    for course_id in sorted(wanted - current):
        db.session.add(CohortCourse(cohort_id=cohort.id, course_id=course_id))
    db.session.flush()
    if wanted - current:
        learners = list(db.session.scalars(select(Membership.user_id).where(
            Membership.cohort_id == cohort.id, Membership.role == LEARNER)))
        enrol_in_courses(learners, sorted(wanted - current))
    db.session.expire(cohort, ["courses"])
    if wanted != current:
        audit.record("cohort_courses", actor=actor, target=f"Cohort:{cohort.id}",
                     added=sorted(wanted - current), removed=sorted(current - wanted))


def enrol_in_courses(user_ids: list[int], course_ids: list[int]) -> int:
    """Enrol the users in the courses where they are not enrolled yet (a few bulk queries).

    Cohort enrolment ignores whether a course is open: the cohort's trainer decides.
    Returns how many enrolments were added.
    """
    if not user_ids or not course_ids:
        return 0
    existing: set[tuple[int, int]] = set()
    for part in chunks(user_ids):
        existing.update((u, c) for u, c in db.session.execute(select(Enrolment.user_id, Enrolment.course_id).where(
            Enrolment.user_id.in_(part), Enrolment.course_id.in_(course_ids))))
    new = [Enrolment(user_id=user_id, course_id=course_id) for user_id in user_ids for course_id in course_ids
           if (user_id, course_id) not in existing]
    db.session.add_all(new)
    db.session.flush()
    return len(new)


def membership_of(cohort: Cohort, user_id: int) -> Membership | None:
    """The person's membership of the cohort, or None."""
    return db.session.scalar(select(Membership).where(
        Membership.cohort_id == cohort.id, Membership.user_id == user_id))


def appoint_trainer(actor, cohort: Cohort, user: User | None) -> Membership:
    """Make the user a trainer of the cohort (admins only; once).

    Raises AccessDenied, or CohortError when there is no such account (None) or the person
    holds another role in this cohort.
    """
    require(actor, "cohort.admin")
    if user is None:
        raise CohortError(_("There is no account with this e-mail address. Invite the "
                            "person on the Users page first."))
    membership = membership_of(cohort, user.id)
    if membership is not None:
        if membership.role != TRAINER:
            raise CohortError(_("This person is already in this cohort as a %(role)s.",
                                role=role_label(membership.role)))
        return membership
    membership = Membership(cohort_id=cohort.id, user_id=user.id, role=TRAINER)
    db.session.add(membership)
    db.session.flush()
    tell_added(actor, cohort, user, TRAINER)
    audit.record("cohort_trainer_appoint", actor=actor, target=f"Cohort:{cohort.id}", user=user.id)
    return membership


def tell_added(actor, cohort: Cohort, user: User, role: str) -> None:
    """Tell someone who already had an account that they were added to the cohort, in the app
    (a notice) and by e-mail (through the outbox): nobody joins a cohort without knowing it."""
    landing = LANDING.get(role, "learning.home")
    payload = {"cohort": cohort.name, "role": role, "by": actor.display_name}
    notify(user, ADDED, url_path(landing), **payload)
    queue_email(user.email, ADDED, user.locale, name=user.display_name, link=external_url(landing), **payload)


def remove_member(actor, cohort: Cohort, membership: Membership) -> None:
    """Take someone out of the cohort. Their mentor links in the cohort end (kept as history);
    their enrolments and work stay. Trainers are removed by admins only.

    Raises AccessDenied.
    """
    require(actor, "cohort.manage", cohort, hide=True)
    if membership.cohort_id != cohort.id:
        raise CohortError(_("This person is not in this cohort."))
    if membership.role == TRAINER:
        require(actor, "cohort.admin")
    now = utcnow()
    db.session.execute(update(MentorLink).where(
        MentorLink.cohort_id == cohort.id, MentorLink.ended_at.is_(None),
        (MentorLink.learner_id == membership.user_id) | (MentorLink.mentor_id == membership.user_id))
        .values(ended_at=now))
    audit.record("cohort_member_remove", actor=actor, target=f"Cohort:{cohort.id}",
                 user=membership.user_id, role=membership.role)
    db.session.delete(membership)
    db.session.flush()


def role_label(role: str) -> str:
    """A role's name in the user's language, for messages."""
    return {LEARNER: _("learner"), "mentor": _("mentor"), TRAINER: _("trainer")}.get(role, role)
