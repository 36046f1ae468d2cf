"""`flask --app wsgi demo`: demo accounts for trying Nergi out."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from app.auth import services
from app.auth.models import User
from app.extensions import db

DEMO_PASSWORD = "seedling-demo-2025"

# (e-mail, name, locale, admin, what they are for); README lists the same table.
DEMO_USERS = [
    ("admin@example.org", "Demo Admin", "en", True, "admin"),
    ("trainer@example.org", "თამარ კაპანაძე", "ka", False, "trainer"),
    ("mentor1@example.org", "Giorgi Lomidze", "en", False, "mentor"),
    ("mentor2@example.org", "Leyla Hüseynova", "az", False, "mentor"),
    ("learner1@example.org", "ნინო ბერიძე", "ka", False, "learner"),
    ("learner2@example.org", "Aygün Məmmədova", "az", False, "learner"),
    ("learner3@example.org", "Արմեն Սարգսյան", "hy", False, "learner"),
    ("learner4@example.org", "Анна Иванова", "ru", False, "learner"),
]


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when any account exists already.")
def demo_command(if_empty: bool) -> None:
    """Create the demo accounts (password: seedling-demo-2025)."""
    if if_empty and db.session.scalar(select(func.count()).select_from(User)):
        click.echo("accounts exist already; demo data not loaded")
        return
    created = 0
    for email, name, locale, is_admin, role in DEMO_USERS:
        if User.by_email(email) is None:
            services.create_user(email, name=name, password=DEMO_PASSWORD, locale=locale,
                                 is_admin=is_admin, municipality="Marneuli",
                                 organisation=f"Demo {role}")
            created += 1
    db.session.flush()
    linked = _link_demo_mentors()
    from app.cohorts.demo import create_demo_cohort

    cohort = create_demo_cohort()
    db.session.commit()
    click.echo(f"demo accounts: {created} created; password for all: {DEMO_PASSWORD}")
    if linked:
        click.echo(f"mentor links: {linked} created")
    if cohort is not None:
        click.echo(f"demo cohort: {cohort.name} (trainer@example.org)")


# Who mentors whom in the demo (README says the same).
DEMO_MENTORING = {
    "mentor1@example.org": ("learner1@example.org", "learner2@example.org"),
    "mentor2@example.org": ("learner3@example.org", "learner4@example.org"),
}


def _link_demo_mentors() -> int:
    from app.assignments.models import MentorLink

    count = 0
    for mentor_email, learners in DEMO_MENTORING.items():
        mentor = User.by_email(mentor_email)
        for learner_email in learners:
            learner = User.by_email(learner_email)
            if mentor is None or learner is None:  # demo_command has just created them all
                continue
            exists = db.session.scalar(select(MentorLink.id).where(
                MentorLink.mentor_id == mentor.id, MentorLink.learner_id == learner.id))
            if exists is None:
                db.session.add(MentorLink(mentor_id=mentor.id, learner_id=learner.id))
                count += 1
    return count
