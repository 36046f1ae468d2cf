"""The per-learner facts of a cohort, cached per cohort and invalidated by the changes to them.

The dashboard and the progress export need, for every learner of a cohort, their standing per
course, last activity, worst failed quiz and oldest unanswered request for changes (four GROUP BY
queries over the whole cohort and a pass in Python: about half a second at 5,000 learners). These
facts change only when someone does something, so they are computed once and kept, in this
process, under a key that changes whenever they may have:

    (cohort id, cohort created_at, cohort.facts_version, the cohort's live items)

`cohort.facts_version` is a column, bumped in the very transaction that changes a fact: a session
listener notes, at each flush, the learners and cohorts whose facts the flushed rows touch —
progress, quiz attempts (started, finished), submissions (drafts edited, submitted, reviewed),
reviews (the mentors' figures), memberships, mentor links, a person's name, e-mail, municipality
or organisation — and at commit one UPDATE gives each cohort concerned a new version (a new random
number: see _bump). Bulk
ORM statements on those tables (insert(Progress), update(MentorLink) …) bump every cohort. The
version is read with the cohort itself (no extra query), so every worker sees a change at once;
rows changed outside the ORM (raw SQL, another program) are not seen — restart the workers then.

What depends on the clock (the risks: days inactive, days unanswered) or on the cohort's settings
(the risk rules) is not cached: the caller derives it per view from the cached facts.
"""
from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from contextlib import contextmanager
from itertools import chain
from typing import Any

from flask import current_app
from sqlalchemy import BigInteger, Table, cast, event, inspect, select, update
from sqlalchemy.orm import Session, scoped_session

from app.assignments.models import MentorLink, Review, Submission
from app.auth.models import User
from app.cohorts.models import Cohort, Membership
from app.learning.models import Progress
from app.quizzes.models import QuizAttempt

# Enough for the cohorts a few trainers look at; an entry of 5,000 learners is a few MB.
CACHE_ENTRIES = 8
VERSIONS = 2**31 - 1  # a version is a number below this (an INTEGER column)
_MARKS = "nergi.cohort_facts_changed"
_UNTRACKED = "nergi.cohort_facts_untracked"
_EVERY = ("every",)

# For rows that are changed (not new or deleted): only these columns hold facts.
_FACT_COLUMNS = {
    "QuizAttempt": ("state", "passed", "percent", "started_at", "finished_at", "user_id", "item_id"),
    "Submission": ("state", "updated_at", "submitted_at", "created_at", "cohort_id", "user_id", "item_id"),
    "Review": ("sent_at", "mentor_id", "corrects_id", "revision_id", "decision"),
    "User": ("name", "email", "municipality", "organisation"),
    "Cohort": (),  # only a new cohort: its settings are read on each view
}


class FactsCache:
    """A small least-recently-used map, shared by the threads of one process."""

    def __init__(self, size: int = CACHE_ENTRIES):
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def cache() -> FactsCache:
    """This app's cache (each app has its own: tests build many on databases whose ids repeat)."""
    found = current_app.extensions.get("nergi_cohort_facts")
    if found is None:
        found = current_app.extensions.setdefault("nergi_cohort_facts", FactsCache())
    return found


def cast_table(table: Any) -> Table:
    """A mapped class's table, typed as the Table it is (``__table__`` is typed as a FromClause)."""
    assert isinstance(table, Table)
    return table


def cached(session: Session | scoped_session[Any], key, compute):
    """The value cached under key, else compute() (kept unless this transaction has changes
    of its own not yet committed, which other requests must not see)."""
    if _has_changes(session):
        return compute()
    store = cache()
    value = store.get(key)
    if value is None:
        value = compute()
        if not _has_changes(session):
            store.put(key, value)
    return value


def _has_changes(session: Session | scoped_session[Any]) -> bool:
    return bool(session.new or session.dirty or session.deleted or session.info.get(_MARKS))


# -- invalidation -------------------------------------------------------------------------------

_WATCHED = (Progress, QuizAttempt, Submission, Review, Membership, MentorLink, User, Cohort)


def _changed(session: Session, obj, name: str) -> bool:
    columns = _FACT_COLUMNS.get(name)
    if columns is None:
        return session.is_modified(obj)
    attrs = inspect(obj).attrs
    return any(attrs[column].history.has_changes() for column in columns)


def _note_changes(session: Session, flush_context) -> None:
    """after_flush: which learners' or cohorts' facts did these rows touch? (A new revision
    comes with its submission's change of state, which is noted.)"""
    marks: set | None = None
    new_or_deleted = set(map(id, chain(session.new, session.deleted)))
    for obj in chain(session.new, session.dirty, session.deleted):
        if not isinstance(obj, _WATCHED):
            continue
        if id(obj) not in new_or_deleted and not _changed(session, obj, type(obj).__name__):
            continue
        if marks is None:
            marks = session.info.setdefault(_MARKS, set())
        if isinstance(obj, Cohort):
            if obj in session.new:  # its first version, unlike another database's cohort of that id
                marks.add(("cohort", obj.id))
        elif isinstance(obj, (Progress, QuizAttempt, Submission)):
            marks.add(("user", obj.user_id))
        elif isinstance(obj, Membership):
            marks.add(("cohort", obj.cohort_id))
        elif isinstance(obj, MentorLink):
            marks.add(("cohort", obj.cohort_id) if obj.cohort_id else ("user", obj.learner_id))
        elif isinstance(obj, Review):
            # The mentors' figures (turnaround) of the mentor's cohorts.
            marks.add(("user", obj.mentor_id) if obj.mentor_id else _EVERY)
        elif isinstance(obj, User):
            # A deleted account's memberships go with it (ON DELETE CASCADE): bump everything.
            marks.add(_EVERY if obj in session.deleted else ("user", obj.id))


def _note_bulk(state) -> None:
    """do_orm_execute: an ORM bulk INSERT/UPDATE/DELETE on a table of facts bumps every cohort."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if any(issubclass(mapper.class_, _WATCHED) for mapper in state.all_mappers):
        state.session.info.setdefault(_MARKS, set()).add(_EVERY)


def _bump(session: Session) -> None:
    """before_commit: a new facts version for each cohort concerned, in this transaction."""
    if session.info.get(_UNTRACKED):
        session.info.pop(_MARKS, None)
        return
    if not session.info.get(_MARKS) and not (session.new or session.dirty or session.deleted):
        return
    session.flush()  # the last changes are noted by _note_changes
    marks = session.info.pop(_MARKS, None)
    if not marks:
        return
    # A new version differs from the old one, and is unlike any other database's (a restored
    # backup, the tests' databases emptied between tests, whose ids start again at 1).
    table = cast_table(Cohort.__table__)
    statement = update(table).values(
        facts_version=(cast(table.c.facts_version, BigInteger) + secrets.randbelow(VERSIONS - 1) + 1) % VERSIONS)
    if _EVERY not in marks:
        cohorts = sorted({value for kind, value in marks if kind == "cohort" and value is not None})
        users = sorted({value for kind, value in marks if kind == "user" and value is not None})
        if not cohorts and not users:
            return
        statement = statement.where(table.c.id.in_(cohorts) | table.c.id.in_(
            select(Membership.__table__.c.cohort_id).where(Membership.__table__.c.user_id.in_(users))))
    session.connection().execute(statement)


def _forget(session: Session, transaction) -> None:
    """after_transaction_end: a rolled-back transaction's changes are gone (a savepoint's
    rollback keeps the marks: bumping once too often only costs a recomputation)."""
    if transaction.parent is None:
        session.info.pop(_MARKS, None)


@contextmanager
def untracked(session: Session):
    """Write without bumping any version: only for rows written at an older schema (migration
    tests), where the column does not exist yet."""
    session.info[_UNTRACKED] = True
    try:
        yield
    finally:
        session.info.pop(_UNTRACKED, None)


def register() -> None:
    """Listen on every ORM session (once per process)."""
    if not event.contains(Session, "after_flush", _note_changes):
        event.listen(Session, "after_flush", _note_changes)
        event.listen(Session, "do_orm_execute", _note_bulk)
        event.listen(Session, "before_commit", _bump)
        event.listen(Session, "after_transaction_end", _forget)


register()


def touch(session: Session | scoped_session[Any], cohort_id: int) -> None:
    """Give this cohort a new facts version when the transaction commits (a change the listener
    does not see by itself: the cohort's schedule)."""
    session.info.setdefault(_MARKS, set()).add(("cohort", cohort_id))
