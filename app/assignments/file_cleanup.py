"""Stored files follow their rows: gone once the removal commits, gone when the upload does not.

A file is written (and fsynced) before its row is committed, and a removed row's file is
deleted only after the removal is committed, so a crash in between leaves an orphaned file,
never a row without its file. `flask files prune` deletes the orphans that crashes, rolled-back
transactions and deleted accounts (rows removed by ON DELETE CASCADE) leave behind.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event

from app.extensions import db

log = logging.getLogger("nergi.files")

_REMOVE_ON_COMMIT = "nergi.files.remove_on_commit"
_REMOVE_UNLESS_COMMITTED = "nergi.files.remove_unless_committed"


def delete_after_commit(path: Path) -> None:
    """Delete the file once the current transaction commits (kept if it rolls back)."""
    db.session.info.setdefault(_REMOVE_ON_COMMIT, []).append(Path(path))


def delete_unless_committed(path: Path) -> None:
    """Delete the file if the current transaction ends without committing (it was just written)."""
    db.session.info.setdefault(_REMOVE_UNLESS_COMMITTED, []).append(Path(path))


def _unlink(paths: Iterable[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as error:  # `files prune` will find it later
            log.warning("could not delete %s: %s", path.name, error)


@event.listens_for(db.session, "after_commit")
def _after_commit(session) -> None:
    if session.in_nested_transaction():  # a savepoint: the outer transaction may still roll back
        return
    session.info.pop(_REMOVE_UNLESS_COMMITTED, None)
    _unlink(session.info.pop(_REMOVE_ON_COMMIT, []))


@event.listens_for(db.session, "after_transaction_end")
def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is not None:
        return
    # Still listed after the outermost transaction ended: it was rolled back or closed.
    session.info.pop(_REMOVE_ON_COMMIT, None)
    _unlink(session.info.pop(_REMOVE_UNLESS_COMMITTED, []))


# -- orphans --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Orphan:
    path: Path
    size: int


def _is_stored_name(name: str) -> bool:
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


def _is_partial_write(name: str) -> bool:
    return name.startswith(".") and name.endswith(".part") and _is_stored_name(name[1:-5])


def find_orphans(folder: Path, known: set[str], *, older_than_seconds: float,
                 now: float | None = None) -> Iterator[Orphan]:
    """Files under `folder` that no attachment row names, and unfinished writes (`.part`).

    Only names this app makes are considered (32 hex digits in a folder named after the first
    two); anything else is left alone. Files younger than `older_than_seconds` are skipped: an
    upload writes its file before its row is committed.
    """
    cutoff = (time.time() if now is None else now) - older_than_seconds
    if not folder.is_dir():
        return
    for subfolder in sorted(folder.iterdir()):
        if not subfolder.is_dir() or len(subfolder.name) != 2:
            continue
        for path in sorted(subfolder.iterdir()):
            name = path.name
            stored = _is_stored_name(name) and name[:2] == subfolder.name
            if not (stored and name not in known) and not _is_partial_write(name):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if path.is_file() and stat.st_mtime <= cutoff:
                yield Orphan(path, stat.st_size)
