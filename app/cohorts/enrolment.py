"""Enrolment by CSV: a preview that writes nothing, then a confirm that applies the valid rows.

The preview's file travels back to the confirm step inside a signed, compressed, time-limited
token (a hidden form field): nothing is stored before confirm, any worker can take the confirm,
and what is applied is exactly the file that was previewed. Confirm checks every row again
against the database, so uploading the same file twice changes nothing the second time.

People who have an account already are added to the cohort and told so, by a notice and an
e-mail. The preview shows a trainer whether an address has an account only for people the
trainer can see anyway (members of a cohort they train); for everybody else it says the same
thing whether or not there is an account, so a roster cannot be used to probe for accounts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from app.auth import services as auth_services
from app.auth.models import User
from app.cohorts import roster as roster_module
from app.cohorts.models import LEARNER, TRAINER, Cohort, Membership
from app.cohorts.roster import Roster, RosterError
from app.cohorts.services import chunks, enrol_in_courses, role_label, tell_added
from app.core import audit
from app.core.authz import can, require
from app.core.links import external_url
from app.extensions import db
from app.notify.services import queue_email

PREVIEW_MAX_AGE = 3600  # seconds between the preview and its confirm
# Rows enrolled per confirm request. Each new account costs 1–3 ms on SQLite and more on
# PostgreSQL (an account, an invitation token and an e-mail, each through its feature's service,
# about six statements), so a 10,000-row file is confirmed in parts of a few seconds each, which
# the page chains by itself, instead of one request that could run into the server's time-out.
CONFIRM_BATCH = 500
# What the preview says about a row's account: none yet, one exists, or (to a trainer who
# cannot see that person) not said.
NEW, EXISTING, UNSEEN = "new", "existing", "unseen"


@dataclass
class EnrolmentPlan:
    cohort: Cohort
    roster: Roster
    text: str

    @property
    def to_invite(self) -> int:
        return sum(1 for row in self.roster.valid_rows if row.account == NEW)

    @property
    def to_add(self) -> int:
        return sum(1 for row in self.roster.valid_rows if row.account == EXISTING)

    @property
    def unseen(self) -> int:
        """Rows to invite, or to add and tell if the person has an account (not said which)."""
        return sum(1 for row in self.roster.valid_rows if row.account == UNSEEN)


@dataclass
class EnrolmentResult:
    invited: int = 0
    added: int = 0
    skipped: int = 0  # rows with problems, "already in this cohort" included
    remaining: int = 0  # valid rows left for the next batch


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="nergi.cohort-roster")


def preview_token(plan: EnrolmentPlan) -> str:
    """A signed token carrying the previewed file to the confirm step."""
    return _serializer().dumps({"cohort": plan.cohort.id, "text": plan.text})


def text_from_token(cohort: Cohort, token: str) -> str:
    """The previewed file back from its token. Raises RosterError when it expired or was altered."""
    try:
        payload = _serializer().loads(token or "", max_age=PREVIEW_MAX_AGE)
    except SignatureExpired:
        raise RosterError(_("This preview is more than an hour old. Upload the file again.")) from None
    except BadSignature:
        raise RosterError(_("This preview cannot be used. Upload the file again.")) from None
    if payload.get("cohort") != cohort.id or not isinstance(payload.get("text"), str):
        raise RosterError(_("This preview cannot be used. Upload the file again."))
    return payload["text"]


def plan_enrolment(actor, cohort: Cohort, text: str) -> EnrolmentPlan:
    """Check a roster against the rules and the database; writes nothing.

    Each row ends up valid or with its problems, "already in this cohort" among them. A valid
    row's account is NEW or EXISTING for admins; for a trainer it is EXISTING for people in a
    cohort they train, and UNSEEN for everybody else, account or not. Raises AccessDenied or
    RosterError.
    """
    require(actor, "cohort.manage", cohort, hide=True)
    roster = roster_module.parse_roster_text(text, default_language=cohort.language)
    members = dict(db.session.execute(select(User.email, Membership.role).join(
        Membership, Membership.user_id == User.id).where(Membership.cohort_id == cohort.id)).all())
    emails = sorted({row.email for row in roster.rows if row.email})
    sees_everyone = can(actor, "admin.users")
    known: set[str] = set()
    for part in chunks(emails):
        query = select(User.email).where(User.email.in_(part))
        if not sees_everyone:
            query = query.where(User.id.in_(_people_seen_by(actor)))
        known.update(db.session.scalars(query))
    for row in roster.rows:
        if row.email in members:
            row.problems.append(_("Already in this cohort as a %(role)s.", role=role_label(members[row.email])))
        row.account = EXISTING if row.email in known else NEW if sees_everyone else UNSEEN
    return EnrolmentPlan(cohort=cohort, roster=roster, text=text)


def _people_seen_by(trainer):
    """SQL: the people in the cohorts this person trains (their dashboards show them)."""
    trained = select(Membership.cohort_id).where(Membership.user_id == trainer.id, Membership.role == TRAINER)
    return select(Membership.user_id).where(Membership.cohort_id.in_(trained))


def apply_enrolment(actor, cohort: Cohort, text: str, limit: int | None = None) -> EnrolmentResult:
    """Enrol the valid rows of a previewed roster: new people get an account and an invitation
    (through the outbox), people with an account a notice and an e-mail that they were added,
    everyone a membership, learners an enrolment in each of the cohort's courses. Rows with
    problems are skipped. At most `limit` rows are enrolled; the result says
    how many valid ones remain, and applying the same roster again enrolls those (the rows done
    already are skipped as "already in this cohort"). Raises AccessDenied or RosterError.
    """
    plan = plan_enrolment(actor, cohort, text)
    valid = plan.roster.valid_rows
    rows = valid if limit is None else valid[:limit]
    result = EnrolmentResult(skipped=len(plan.roster.invalid_rows), remaining=len(valid) - len(rows))
    existing = {}
    for part in chunks([row.email for row in rows]):
        existing.update({user.email: user for user in db.session.scalars(select(User).where(User.email.in_(part)))})
    days = current_app.config["INVITATION_DAYS"]
    members: list[tuple[int, str]] = []
    told: list[tuple[User, str]] = []
    with db.session.no_autoflush:  # each new account flushes itself; nothing else needs to go first
        for row in rows:
            user = existing.get(row.email)
            if user is None:
                user = _invite(actor, row, days)
                result.invited += 1
            else:
                told.append((user, row.role))
                result.added += 1
            members.append((user.id, row.role))
    db.session.add_all(Membership(cohort_id=cohort.id, user_id=user_id, role=role) for user_id, role in members)
    db.session.flush()
    for user, role in told:
        tell_added(actor, cohort, user, role)
    enrol_in_courses([user_id for user_id, role in members if role == LEARNER], cohort.course_ids)
    audit.record("cohort_enrol", actor=actor, target=f"Cohort:{cohort.id}", invited=result.invited,
                 added=result.added, skipped=result.skipped, remaining=result.remaining)
    return result


def _invite(actor, row, days: int) -> User:
    # Like auth.services.invite_user, which is for site admins and knows no municipality.
    user = auth_services.create_user(row.email, name=row.name, locale=row.language,
                                     municipality=row.municipality, organisation=row.organisation)
    raw = auth_services.issue_token(user, auth_services.INVITE, timedelta(days=days))
    queue_email(user.email, "invitation", user.locale, name=user.name, inviter=actor.display_name,
                link=external_url("auth.accept_invitation", token=raw), days=days)
    audit.record("user_invite", actor=actor, target=f"User:{user.id}", is_admin=False)
    return user
