"""A database of a test's own, for the migration tests that start from empty or an older head."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from app.config import normalise_database_url


@contextmanager
def own_database(test_database_url: str | None, tmp_path: Path, suffix: str) -> Iterator[str]:
    """Yield the URL of an empty database: a file under ``tmp_path`` on SQLite; on PostgreSQL the
    test database's name plus ``_<suffix>`` (so parallel workers and runs on other databases do
    not meet), created now and dropped afterwards."""
    if not test_database_url:
        yield f"sqlite:///{tmp_path / f'{suffix}.db'}"
        return
    base = normalise_database_url(test_database_url)
    server, name = base.rsplit("/", 1)
    name = f"{name}_{suffix}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
