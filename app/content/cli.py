"""`flask --app wsgi courses check|sync [PATH]`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.content import sync as sync_module
from app.content.loader import format_report, load_courses
from app.content.models import Course
from app.extensions import db

courses_cli = AppGroup("courses", help="Check and load the course files.")


def _root(path: str | None) -> Path:
    return Path(path) if path else Path(current_app.config["COURSES_DIR"])


@courses_cli.command("check")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False))
def check_command(path: str | None) -> None:
    """Report every problem as path:line: message (exit 1), or a summary per course (exit 0)."""
    result = load_courses(_root(path))
    code, lines = format_report(result)
    for line in lines:
        click.echo(line, err=bool(code))
    sys.exit(code)


@courses_cli.command("sync")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Also replace courses published from an upload with the folder.")
def sync_command(path: str | None, force: bool) -> None:
    """Validate, then load the courses in one transaction; a broken tree changes nothing.

    A course published from an upload (the authoring pages) wins over a folder of the same
    name: it is skipped, with a line saying so, unless --force."""
    root = _root(path)
    stored = sync_module.stored_hashes()
    # An example course (course.yml `example: true`, the format tour) joins a whole-tree sync only
    # where EXAMPLE_COURSES is on; naming its folder loads it anyway (the operator asked for it).
    examples = bool(current_app.config.get("EXAMPLE_COURSES")) or (root / "course.yml").is_file()
    # Hash the files first: a course whose hash the database already has is not parsed.
    result = load_courses(root, unchanged=lambda slug, digest: stored.get(slug) == digest, examples=examples)
    if result.problems:
        _code, lines = format_report(result)
        for line in lines:
            click.echo(line, err=True)
        click.echo("nothing was changed", err=True)
        sys.exit(1)
    uploaded = {course.slug: course
                for course in db.session.scalars(select(Course).where(Course.upload_id.is_not(None)))}
    for spec in [spec for spec in result.courses if spec.slug in uploaded]:
        if force:
            uploaded[spec.slug].upload_id = None
            click.echo(f"{spec.slug}: replacing the uploaded version with the folder (--force)")
        else:
            result.courses.remove(spec)
            click.echo(f"skipped {spec.slug}: it was published from an upload; use --force to replace it")
    for slug in result.examples_skipped:
        click.echo(f"left out {slug}: an example course for authors (EXAMPLE_COURSES is off)")
    retire = not (root / "course.yml").is_file()  # a single course leaves the others alone
    if sys.stdout.isatty():
        with click.progressbar(length=len(result.courses), label="syncing") as bar:
            report = sync_module.sync_courses(result.courses, result.problems, retire_missing=retire,
                                              on_course=lambda _slug: bar.update(1),
                                              unchanged=result.unchanged)
    else:
        report = sync_module.sync_courses(result.courses, result.problems, retire_missing=retire,
                                          unchanged=result.unchanged)
    db.session.commit()
    for line in report.lines():
        click.echo(line)
