"""Enrolment by CSV as a service: the preview writes nothing, confirm applies, again changes nothing."""
from __future__ import annotations

import codecs

import pytest
from sqlalchemy import func, select

from app.auth.models import AuthToken, User
from app.cohorts import enrolment
from app.cohorts.models import Cohort, Membership
from app.cohorts.roster import RosterError, decode_roster
from app.cohorts.services import set_courses
from app.learning.models import Enrolment
from app.core.authz import AccessDenied
from app.core.models import AuditEvent
from app.extensions import db
from app.notify.models import OutboxMessage

HEADER = "name;email;language;municipality;organisation;role\r\n"
NAMES = ["ნინო ბერიძე", "Արմեն Սարգսյան", "Aygün Məmmədova"]


def roster(world) -> str:
    raw = (HEADER
           + f"{NAMES[0]};nino.b@example.org;ka;Marneuli;CSO „Nergi“;learner\r\n"
           + f"{NAMES[1]};ARMEN@example.org;hy;Tsalka;;\r\n"
           + f"{NAMES[2]};aygun@example.org;az;Bolnisi;=cmd|' /C calc'!A0;mentor\r\n"
           + f"Existing;{world.outsider.email};;;;learner\r\n"
           + f"Already;{world.learner.email.upper()};;;;learner\r\n"
           + "Broken;not-an-address;;;;\r\n"
           + "Twice;armen@EXAMPLE.org;;;;\r\n")
    return decode_roster(codecs.BOM_UTF8 + raw.encode("utf-8"))


def counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (User, Membership, Enrolment, OutboxMessage, AuthToken)}


@pytest.fixture
def ctx(app, world):
    with app.app_context():
        yield db.session.get(Cohort, world.cohort_id), db.session.get(User, world.trainer.id)


def test_preview_classifies_rows_and_writes_nothing(ctx, world):
    cohort, _trainer = ctx
    admin = db.session.get(User, world.admin.id)
    before = counts()
    plan = enrolment.plan_enrolment(admin, cohort, roster(world))
    db.session.commit()
    assert counts() == before
    by_line = {row.line: row for row in plan.roster.rows}
    assert (plan.to_invite, plan.to_add, plan.unseen, len(plan.roster.invalid_rows)) == (3, 1, 0, 3)
    assert by_line[5].account == "existing" and by_line[5].is_valid
    assert by_line[6].problems == ["Already in this cohort as a learner."]
    assert "not a valid e-mail address" in by_line[7].problems[0]
    assert "same e-mail address as line 3" in by_line[8].problems[0]


def test_confirm_invites_new_people_adds_existing_ones_and_enrols_learners(ctx, world, app):
    cohort, trainer = ctx
    before = counts()
    result = enrolment.apply_enrolment(trainer, cohort, roster(world))
    db.session.commit()
    assert (result.invited, result.added, result.skipped) == (3, 1, 3)
    after = counts()
    assert after["User"] - before["User"] == 3
    assert after["Membership"] - before["Membership"] == 4
    # The two new learners get the cohort's one course; the mentor does not, and the existing
    # learner was enrolled in it already (through the other cohort).
    assert after["Enrolment"] - before["Enrolment"] == 2
    # Three invitations, and the existing learner is told they were added.
    assert after["OutboxMessage"] - before["OutboxMessage"] == 4
    nino = User.by_email("nino.b@example.org")
    assert (nino.name, nino.locale, nino.municipality, nino.organisation, nino.has_password) == (
        NAMES[0], "ka", "Marneuli", "CSO „Nergi“", False)
    assert [User.by_email(e).name for e in ("armen@example.org", "aygun@example.org")] == NAMES[1:]
    # A formula-looking cell is stored as the text that was written.
    assert User.by_email("aygun@example.org").organisation == "=cmd|' /C calc'!A0"
    roles = dict(db.session.execute(select(User.email, Membership.role).join(Membership).where(
        Membership.cohort_id == cohort.id)).all())
    assert roles["aygun@example.org"] == "mentor" and roles[world.outsider.email] == "learner"
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "nino.b@example.org"))
    assert message.template == "invitation" and message.locale == "ka"
    assert message.payload["link"].startswith("http://nergi.test/invitation/")
    assert message.payload["inviter"] == "Tamar Trainer"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "user_invite", AuditEvent.actor_id == trainer.id)) == 3
    told = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == world.outsider.email))
    assert (told.template, told.payload["cohort"], told.payload["role"], told.payload["by"]) == (
        "cohort_added", "YPP 2025 — Marneuli", "learner", "Tamar Trainer")
    # Nobody outside the roster was touched.
    assert set(db.session.scalars(select(OutboxMessage.to_address))) == {
        "nino.b@example.org", "armen@example.org", "aygun@example.org", world.outsider.email}


def test_uploading_the_same_file_again_changes_nothing(ctx, world):
    cohort, trainer = ctx
    enrolment.apply_enrolment(trainer, cohort, roster(world))
    db.session.commit()
    before = counts()
    again = enrolment.apply_enrolment(trainer, cohort, roster(world))
    db.session.commit()
    assert (again.invited, again.added, again.skipped) == (0, 0, 7)
    assert counts() == before


def test_learners_are_enrolled_even_in_closed_courses(app, factories, world):
    closed = factories.make_course(items=("lesson",), is_open=False)
    with app.app_context():
        cohort, admin = db.session.get(Cohort, world.cohort_id), db.session.get(User, world.admin.id)
        set_courses(admin, cohort, [world.course, closed])
        # The cohort's existing learners are enrolled in the added course at once.
        assert db.session.scalar(select(func.count()).select_from(Enrolment).where(
            Enrolment.course_id == closed.id)) == 2
        enrolment.apply_enrolment(admin, cohort, "name,email\nNew,new@example.org\n")
        db.session.commit()
        new = User.by_email("new@example.org")
        assert set(db.session.scalars(select(Enrolment.course_id).where(Enrolment.user_id == new.id))) == {
            world.course.id, closed.id}


def test_only_this_cohorts_trainers_and_admins_may_enrol(app, world):
    with app.app_context():
        cohort = db.session.get(Cohort, world.cohort_id)
        for person in (world.other_trainer, world.mentor, world.learner):
            with pytest.raises(AccessDenied) as denied:
                enrolment.plan_enrolment(db.session.get(User, person.id), cohort, "name,email\nA,a@example.org\n")
            assert denied.value.hide
        assert enrolment.plan_enrolment(db.session.get(User, world.admin.id), cohort,
                                        "name,email\nA,a@example.org\n").to_invite == 1


def test_the_preview_token_carries_the_file_and_nothing_else(ctx, world, monkeypatch):
    cohort, trainer = ctx
    plan = enrolment.plan_enrolment(trainer, cohort, roster(world))
    token = enrolment.preview_token(plan)
    assert enrolment.text_from_token(cohort, token) == roster(world)
    other = db.session.get(Cohort, world.other_cohort_id)
    for bad_cohort, bad_token in ((other, token), (cohort, token[:-3] + "abc"), (cohort, "")):
        with pytest.raises(RosterError, match="cannot be used"):
            enrolment.text_from_token(bad_cohort, bad_token)
    monkeypatch.setattr(enrolment, "PREVIEW_MAX_AGE", -1)
    with pytest.raises(RosterError, match="more than an hour old"):
        enrolment.text_from_token(cohort, token)


def test_a_large_roster_is_enrolled_in_parts(ctx, world):
    cohort, trainer = ctx
    text = "name,email\n" + "".join(f"P{n},p{n}@example.org\n" for n in range(5)) + f"Old,{world.learner.email}\n"
    first = enrolment.apply_enrolment(trainer, cohort, text, limit=2)
    db.session.commit()
    assert (first.invited, first.added, first.skipped, first.remaining) == (2, 0, 1, 3)
    second = enrolment.apply_enrolment(trainer, cohort, text, limit=2)
    db.session.commit()
    assert (second.invited, second.skipped, second.remaining) == (2, 3, 1)
    last = enrolment.apply_enrolment(trainer, cohort, text, limit=2)
    db.session.commit()
    assert (last.invited, last.skipped, last.remaining) == (1, 5, 0)
    assert all(User.by_email(f"p{n}@example.org") is not None for n in range(5))
