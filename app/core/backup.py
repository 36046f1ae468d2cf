"""`flask --app wsgi backup DEST`: an online, consistent copy of the database.

SQLite: the sqlite3 online-backup API (safe while the app writes), then an integrity check of
the copy. PostgreSQL: pg_dump in its custom format (restore with pg_restore).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url


def _private_file(path: Path) -> None:
    """Create (or empty) ``path`` readable and writable by its owner only, before anything is
    written into it: a backup holds password hashes and learners' work."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(descriptor)
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT; make it private


def backup_sqlite(source: Path, dest: Path) -> str:
    """Copy a live SQLite database page by page; returns PRAGMA integrity_check of the copy."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    temporary = dest.with_suffix(dest.suffix + ".part")
    _private_file(temporary)
    with sqlite3.connect(source) as live, sqlite3.connect(temporary) as copy:
        live.backup(copy, pages=256)
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        temporary.unlink(missing_ok=True)
        raise click.ClickException(f"the copy failed its integrity check: {result}")
    temporary.replace(dest)
    return result


def backup_postgres(url: str, dest: Path) -> None:
    """Run pg_dump (custom format) into dest."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise click.ClickException("pg_dump is not installed (Debian package postgresql-client)")
    parsed = make_url(url).set(drivername="postgresql")
    dest.parent.mkdir(parents=True, exist_ok=True)
    _private_file(dest)
    subprocess.run([pg_dump, "--format=custom", f"--file={dest}",
                    parsed.render_as_string(hide_password=False)], check=True)


@click.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(dest: str) -> None:
    """Write a consistent copy of the database to DEST while the app keeps running."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    target = Path(dest)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise click.UsageError("an in-memory SQLite database has no file to back up")
        backup_sqlite(Path(url.database), target)
        click.echo(f"backed up to {target} (integrity_check: ok)")
    else:
        backup_postgres(str(url.render_as_string(hide_password=False)), target)
        click.echo(f"pg_dump written to {target}")
    click.echo("Back up the upload folder and the signing key (with its .retired folder) with it.")
