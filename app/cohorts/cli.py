"""`flask --app wsgi cohorts ...`: list cohorts, make the demo cohort, enrol from a CSV file, set
a cohort's schedule."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from app.auth.models import User
from app.cohorts import enrolment, schedule
from app.cohorts.demo import create_demo_cohort
from app.cohorts.models import Cohort, Membership
from app.cohorts.roster import RosterError, decode_roster
from app.cohorts.schedule import Operator
from app.core.authz import AccessDenied
from app.core.errors import Conflict
from app.extensions import db


@click.group("cohorts")
def cohorts_cli() -> None:
    """Cohorts: list, demo, enrol, schedule."""


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


def _day(ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return schedule.parse_day(value)
    except ValueError:
        raise click.ClickException(f"--start: {value!r} is not a date as YYYY-MM-DD") from None


@cohorts_cli.command("schedule")
@click.argument("cohort_id", type=int)
@click.option("--start", callback=_day, help="The start date (YYYY-MM-DD) for --weekly; default: the cohort's.")
@click.option("--weekly", is_flag=True, help="One module a week from the start date, in every course of the cohort.")
@click.option("--csv", "csv_file", type=click.File("rb"), help="Import a schedule CSV (as the schedule page does).")
@click.option("--clear", is_flag=True, help="Remove the cohort's own dates (the courses' pacing applies again).")
@click.option("--show", is_flag=True, help="Print the schedule (also what happens without any option).")
@with_appcontext
def schedule_command(cohort_id: int, start: date | None, weekly: bool, csv_file, clear: bool, show: bool) -> None:
    """Set or print the schedule of cohort COHORT_ID."""
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None:
        raise click.ClickException(f"no cohort {cohort_id}")
    if sum(bool(x) for x in (weekly, csv_file, clear)) > 1:
        raise click.ClickException("choose one of --weekly, --csv and --clear")
    if start is not None and not weekly:
        raise click.ClickException("--start goes with --weekly")
    actor = Operator()
    try:
        if weekly:
            changed = schedule.fill_weekly(actor, cohort, start)
            db.session.commit()
            click.echo(f"one module a week from {(start or cohort.starts_on)}: {changed} items changed")
        elif csv_file is not None:
            changed = schedule.import_csv(actor, cohort, csv_file.read())
            db.session.commit()
            click.echo(f"imported: {changed} items changed")
        elif clear:
            removed = schedule.clear(actor, cohort)
            db.session.commit()
            click.echo(f"removed the cohort's dates of {removed} items")
    except schedule.ScheduleError as error:
        db.session.rollback()
        lines = "".join(f"\nline {line}: {message}" for line, message in error.lines)
        raise click.ClickException(f"{error}{lines}") from None
    except Conflict as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    if show or not (weekly or csv_file or clear):
        db.session.refresh(cohort)
        click.echo(f"{cohort.name}: dates in {cohort.time_zone}; opens at the start of the day, due at its end")
        for table in schedule.course_tables(cohort, "en"):
            for item in table.items:
                opens, due = (day.isoformat() if day else "-" for day in (item.opens_on, item.due_on))
                click.echo("\t".join([table.slug, item.slug, item.kind, opens, due]))
