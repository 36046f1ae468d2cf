"""What views share when they call a service: one commit, and one answer to a concurrent change."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.core.errors import Conflict
from app.extensions import db


@contextmanager
def commit_or_conflict(*also: type[Exception]) -> Iterator[None]:
    """Commit what the block did, once. When another request changed the same rows meanwhile —
    a version check failed (StaleDataError), a unique index refused a second row (IntegrityError:
    a replay, a double click, two requests at once), a service raised Conflict, or one of
    ``also`` — roll back and raise Conflict (the original as its cause) for the view to answer.

    Other errors (a ServiceError the view answers with its form, AccessDenied) pass through
    without a commit; the view rolls back if it goes on using the session.
    """
    concurrent: tuple[type[Exception], ...] = (StaleDataError, IntegrityError, *also)
    try:
        yield
        db.session.commit()
    except Conflict:
        db.session.rollback()
        raise
    except concurrent as error:
        db.session.rollback()
        raise Conflict() from error
