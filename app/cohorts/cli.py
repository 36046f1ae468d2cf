"""`flask --app wsgi cohorts ...`: list cohorts, make the demo cohort, enrol from a CSV file."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from app.auth.models import User
from app.cohorts import enrolment
from app.cohorts.demo import create_demo_cohort
from app.cohorts.models import Cohort, Membership
from app.cohorts.roster import RosterError, decode_roster
from app.core.authz import AccessDenied
from app.extensions import db


@click.group("cohorts")
def cohorts_cli() -> None:
    """Cohorts: list, demo, enrol."""


@cohorts_cli.command("list")
@with_appcontext
def list_command() -> None:
    """Show every cohort with its number of members."""
    counts = dict(db.session.execute(select(Membership.cohort_id, func.count(Membership.id))
                                     .group_by(Membership.cohort_id)).all())
    for cohort in db.session.scalars(select(Cohort).order_by(Cohort.id)):
        click.echo(f"{cohort.id}\t{cohort.name}\t{counts.get(cohort.id, 0)} members")


@cohorts_cli.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create the demo cohort "YPP 2025 — Marneuli" (run `demo` and `courses sync` first)."""
    cohort = create_demo_cohort()
    if cohort is None:
        raise click.ClickException("the demo accounts are missing: run `flask --app wsgi demo` first")
    db.session.commit()
    click.echo(f"demo cohort: {cohort.id} {cohort.name}")


@cohorts_cli.command("enrol")
@click.argument("cohort_id", type=int)
@click.argument("csv_file", type=click.File("rb"))
@click.option("--as", "actor_email", required=True, help="The trainer or admin doing it (for the audit trail).")
@click.option("--yes", is_flag=True, help="Apply without asking.")
@with_appcontext
def enrol_command(cohort_id: int, csv_file, actor_email: str, yes: bool) -> None:
    """Enrol the people in CSV_FILE into the cohort: shows the problems, then applies the valid rows."""
    cohort, actor = db.session.get(Cohort, cohort_id), User.by_email(actor_email)
    if cohort is None or actor is None:
        raise click.ClickException("no such cohort or no account with that e-mail address")
    try:
        text = decode_roster(csv_file.read())
        plan = enrolment.plan_enrolment(actor, cohort, text)
    except RosterError as error:
        raise click.ClickException(str(error)) from None
    except AccessDenied:
        raise click.ClickException(f"{actor_email} is neither a trainer of this cohort nor an admin") from None
    for row in plan.roster.invalid_rows:
        click.echo(f"line {row.line}: {row.email or '?'}: {' '.join(row.problems)}")
    click.echo(f"{plan.to_invite} to invite, {plan.to_add} existing accounts to add, "
               + (f"{plan.unseen} to invite or add (whether they have an account is not shown to {actor_email}), "
                  if plan.unseen else "")
               + f"{len(plan.roster.invalid_rows)} rows skipped")
    if not (yes or click.confirm("Apply?")):
        return
    result = enrolment.apply_enrolment(actor, cohort, text)
    db.session.commit()
    click.echo(f"invited {result.invited}, added {result.added}, skipped {result.skipped}")
