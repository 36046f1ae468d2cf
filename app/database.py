"""Database behaviour that the ORM does not give us by default.

SQLite: WAL, foreign keys, synchronous=FULL, a busy timeout, and transactions that take the
write lock at BEGIN (IMMEDIATE) unless the request only reads.

Why both: with SQLite's default deferred BEGIN, a transaction that has read and then writes
cannot wait for the write lock (SQLite returns "database is locked" at once, because its
snapshot may be stale), so two read-modify-write transactions fail instead of queueing.
BEGIN IMMEDIATE makes them queue behind the busy timeout. But it also makes every read queue
behind every write, and one request at a time run. So:

- Requests whose method only reads (GET, HEAD, OPTIONS) begin DEFERRED: in WAL mode they read
  a snapshot and never wait for, nor block, a writer. A deferred transaction whose first
  statement writes takes the lock like IMMEDIATE (the busy timeout applies), so the audit row
  of a refused GET, written after a rollback, is safe.
- Everything else (POST and the rest, the command line, the worker) begins IMMEDIATE.
- A GET view that writes after reading is marked `@writes`; a POST view that first does slow
  read-only work (sign-in checks a password hash) is marked `@reads_first` and calls
  `start_writing()` before it writes, which ends the read transaction so the next begins
  IMMEDIATE.
- A write after a read inside a deferred transaction is the one pattern that can fail; it
  raises `WriteInReadTransaction` under TESTING (so the suite finds any such view), and is
  logged as an error elsewhere (and tried: it succeeds unless another writer got there first).

PostgreSQL is not affected: its reads never wait for writers.
"""
from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from typing import Any, cast

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import DateTime, event, inspect
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.types import TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 15000
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITE_KEYWORDS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
# conn.info["nergi_txn"]: "immediate", or for a deferred transaction "fresh" (nothing run
# yet), "reading" (a snapshot is held; a write now may fail) or "writing" (the lock is held).
_TXN = "nergi_txn"
log = logging.getLogger("nergi.database")


class WriteInReadTransaction(RuntimeError):
    """A statement wrote after reads in a deferred (read-only) SQLite transaction."""


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):  # noqa: ARG001
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event below issue BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _wants_deferred() -> bool:
    return has_request_context() and bool(g.get("db_reads_only"))


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    if _wants_deferred():
        conn.exec_driver_sql("BEGIN")
        conn.info[_TXN] = "fresh"
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.info[_TXN] = "immediate"


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_watch_deferred(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
    state = conn.info.get(_TXN)
    if state not in ("fresh", "reading") or conn.dialect.name != "sqlite":
        return
    keyword = statement.lstrip()[:8].upper()
    if keyword.startswith("BEGIN"):
        return
    if not keyword.startswith(_WRITE_KEYWORDS):
        conn.info[_TXN] = "reading"
        return
    conn.info[_TXN] = "writing"
    if state == "reading":
        message = ("a write after reads in a read-only request's transaction: mark the view "
                   "@writes, or call start_writing() before writing")
        if has_app_context() and current_app.config.get("TESTING"):
            raise WriteInReadTransaction(message)
        log.error(message + " (%s %s)", request.method if has_request_context() else "",
                  request.path if has_request_context() else "")


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _sqlite_transaction_ended(conn):
    conn.info.pop(_TXN, None)


def writes(view):
    """Mark a view that writes on GET: its transactions take SQLite's write lock at BEGIN."""
    view.nergi_writes = True
    return view


def reads_first(view):
    """Mark a view that reads (and perhaps works slowly) before it writes: it begins in a
    deferred transaction and must call start_writing() before its first write."""
    view.nergi_reads_first = True
    return view


def start_writing() -> None:
    """End the current read-only transaction; the next one begins IMMEDIATE (write lock).

    Objects loaded so far are expired and are read again, under the lock, when next used:
    what was checked without the lock must be checked again (e.g. that the account is
    still active). Raises RuntimeError when there are unflushed changes, which would be lost.
    """
    from app.extensions import db

    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("start_writing() with unsaved changes")
    g.db_reads_only = False
    session.rollback()


def reload_expired(*objects) -> None:
    """Read again the objects a rollback (or commit) expired, so that a page rendered after it
    reads them here: templates never query (docs/architecture.md)."""
    from app.extensions import db

    for obj in objects:
        if obj is not None and inspect(obj).expired_attributes:
            db.session.refresh(obj)


def register_transaction_modes(app: Flask) -> None:
    """Choose, before anything touches the database, how this request's transactions begin."""

    @app.before_request
    def _choose_transaction_mode():
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        if getattr(view, "nergi_writes", False):
            g.db_reads_only = False
        else:
            g.db_reads_only = (request.method in READ_METHODS
                               or getattr(view, "nergi_reads_first", False))

    @app.teardown_request
    def _end_read_transaction(exc):  # noqa: ARG001
        # Normally the session is closed with the app context just after this; where the app
        # context outlives the request (tests), end the deferred transaction here, so that work
        # done after the request does not continue it.
        if g.pop("db_reads_only", None):
            from app.extensions import db

            db.session.rollback()


def rowcount(result: Result[Any]) -> int:
    """The number of rows an UPDATE or DELETE run by Session.execute matched. The session
    returns a CursorResult for those, but is typed as returning a Result (no rowcount)."""
    return cast(CursorResult[Any], result).rowcount


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC that always comes back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
