"""The comment bank: a mentor's reusable feedback snippets per assignment, private or shared
with the other mentors of the cohort the comment was saved in.

Functions add and flush; the route commits once. Authorisation is checked here, per object:
saving needs the right to review the submission at hand; editing, sharing and deleting are for
the comment's author or an admin.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.assignments.models import CommentBankEntry, Submission
from app.core import audit
from app.core.authz import policy, require
from app.database import utcnow
from app.extensions import db

MAX_LENGTH = 5000


class InvalidComment(Exception):
    """The comment's text is empty or too long; str(error) says why."""


class CommentGone(Exception):
    """The comment was deleted (by its author elsewhere, or by an admin) or is not visible here."""


@policy("comment.manage")
def _may_manage(user, entry: CommentBankEntry) -> bool:
    return entry.author_id == user.id  # (admins pass every policy)


def _checked_text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidComment(str(_l("Write the comment before saving it.")))
    if len(text) > MAX_LENGTH:
        raise InvalidComment(str(_l("A comment can be at most %(n)d characters long; this one has %(m)d.",
                                    n=MAX_LENGTH, m=len(text))))
    return text


def visible_to(user, submission: Submission):
    """SQL: the comments of the submission's assignment that the user sees while reviewing it:
    their own (from any cohort), and those shared in the cohort the work belongs to."""
    same_cohort = (CommentBankEntry.cohort_id.is_(None) if submission.cohort_id is None
                   else CommentBankEntry.cohort_id == submission.cohort_id)
    return (CommentBankEntry.item_id == submission.item_id) & or_(
        CommentBankEntry.author_id == user.id, CommentBankEntry.shared.is_(True) & same_cohort)


def comment_bank_for(user, submission: Submission) -> list[CommentBankEntry]:
    """The comments the user sees on this submission's review page, oldest first, with their
    authors (one query)."""
    return list(db.session.scalars(select(CommentBankEntry).options(joinedload(CommentBankEntry.author))
                                   .where(visible_to(user, submission)).order_by(CommentBankEntry.id)))


def comment_for_insert(user, submission: Submission, comment_id: int) -> CommentBankEntry:
    """A comment the user may put into their feedback on this submission. Raises AccessDenied
    (not a reviewer of it) or CommentGone (deleted, or not one they see)."""
    require(user, "submission.review", submission)
    entry = db.session.scalar(select(CommentBankEntry).where(
        CommentBankEntry.id == comment_id, visible_to(user, submission)))
    if entry is None:
        raise CommentGone()
    return entry


def add_comment(mentor, submission: Submission, text: str | None, *, shared: bool = False) -> CommentBankEntry:
    """Save a comment for the submission's assignment, in the cohort the work belongs to.

    Raises AccessDenied (not a reviewer of this submission), InvalidComment (empty, too long).
    """
    require(mentor, "submission.review", submission)
    entry = CommentBankEntry(item_id=submission.item_id, author_id=mentor.id, cohort_id=submission.cohort_id,
                             shared=bool(shared), text=_checked_text(text))
    db.session.add(entry)
    db.session.flush()
    audit.record("comment_add", actor=mentor, target=f"CommentBankEntry:{entry.id}", shared=entry.shared)
    return entry


def _own_entry(user, comment_id: int) -> CommentBankEntry:
    # Locked, so an edit and a delete at once are one after the other, never a lost delete.
    entry = db.session.scalar(select(CommentBankEntry).where(CommentBankEntry.id == comment_id)
                              .with_for_update().execution_options(populate_existing=True))
    if entry is None:
        raise CommentGone()
    require(user, "comment.manage", entry)
    return entry


def edit_comment(user, comment_id: int, text: str | None, *, shared: bool) -> CommentBankEntry:
    """Change a comment's text and whether it is shared.

    Raises CommentGone (deleted meanwhile), AccessDenied (not the author nor an admin),
    InvalidComment (empty, too long).
    """
    entry = _own_entry(user, comment_id)
    entry.text = _checked_text(text)
    entry.shared = bool(shared)
    entry.updated_at = utcnow()
    db.session.flush()
    audit.record("comment_edit", actor=user, target=f"CommentBankEntry:{entry.id}", shared=entry.shared)
    return entry


def delete_comment(user, comment_id: int) -> None:
    """Delete a comment. Raises CommentGone (already deleted), AccessDenied (not the author nor an admin)."""
    entry = _own_entry(user, comment_id)
    db.session.delete(entry)
    db.session.flush()
    audit.record("comment_delete", actor=user, target=f"CommentBankEntry:{comment_id}")


def with_comment(feedback: str | None, text: str) -> str:
    """The feedback with the comment added at its end, as a paragraph of its own."""
    feedback = (feedback or "").rstrip()
    return f"{feedback}\n\n{text}" if feedback else text
