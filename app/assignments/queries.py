"""Read-only queries for the assignment pages: the mentor's queue, the review page, the learner's
draft files, notices."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.assignments.models import (
    SUBMITTED,
    Attachment,
    CommentBankEntry,
    MentorLink,
    Review,
    Revision,
    Submission,
    SubmissionMessage,
)
from app.auth.models import User
from app.cohorts.scope import link_reaches_submission
from app.content.models import Course, Item, ItemTranslation
from app.database import utcnow
from app.extensions import db
from app.notify.models import Notice


@dataclass
class QueueRow:
    submission: Submission
    learner: User
    course: Course
    title: str
    claimed_by: User | None
    waiting_since: datetime

    @property
    def waiting_hours(self) -> int:
        return int((utcnow() - self.waiting_since).total_seconds() // 3600)


def review_queue(mentor, lang: str) -> list[QueueRow]:
    """Submitted work that the mentor's current links reach (app/cohorts/scope.py), oldest first:
    one query."""
    claimer = aliased(User)
    translation = aliased(ItemTranslation)
    english = aliased(ItemTranslation)
    rows = db.session.execute(
        select(Submission, User, Course, translation.title, english.title, claimer)
        .join(User, User.id == Submission.user_id)
        .join(Item, Item.id == Submission.item_id)
        .join(MentorLink, (MentorLink.mentor_id == mentor.id) & link_reaches_submission())
        .join(Course, Course.id == Item.course_id)
        .outerjoin(translation, (translation.item_id == Item.id) & (translation.lang == lang))
        .outerjoin(english, (english.item_id == Item.id) & (english.lang == "en"))
        .outerjoin(claimer, claimer.id == Submission.claimed_by_id)
        .where(Submission.state == SUBMITTED)
        .order_by(Submission.submitted_at, Submission.id)
    ).all()
    return [QueueRow(submission=s, learner=u, course=c, title=t or e or "", claimed_by=cl,
                     waiting_since=s.submitted_at or s.updated_at) for s, u, c, t, e, cl in rows]


def load_submission(submission_id: int, *, again: bool = False) -> Submission | None:
    """The submission with its learner and the mentor who took it (the pages name both), in one
    query; `again` reads it afresh (after a rollback expired it)."""
    query = (select(Submission).where(Submission.id == submission_id)
             .options(joinedload(Submission.learner), joinedload(Submission.claimed_by)))
    if again:
        query = query.execution_options(populate_existing=True)
    return db.session.scalar(query)


def draft_files(submission: Submission | None) -> list[Attachment]:
    """The files attached to the draft (not yet to a revision)."""
    if submission is None:
        return []
    return list(db.session.scalars(select(Attachment).where(
        Attachment.submission_id == submission.id, Attachment.revision_id.is_(None))))


def comment_bank(item_id: int) -> list[CommentBankEntry]:
    """The assignment's reusable feedback snippets, oldest first."""
    return list(db.session.scalars(select(CommentBankEntry).where(
        CommentBankEntry.item_id == item_id).order_by(CommentBankEntry.id)))


def latest_notices(user, limit: int = 100) -> list[Notice]:
    """The user's notices, newest first."""
    return list(db.session.scalars(select(Notice).where(Notice.user_id == user.id)
                                   .order_by(Notice.created_at.desc()).limit(limit)))


def active_mentor_links() -> list[MentorLink]:
    """Every mentor link in force, with both people, by mentor (the admins' Mentoring page)."""
    return list(db.session.scalars(select(MentorLink).where(MentorLink.ended_at.is_(None))
                                   .options(joinedload(MentorLink.mentor), joinedload(MentorLink.learner))
                                   .order_by(MentorLink.mentor_id, MentorLink.id)))


def submission_history(submission: Submission) -> list[Revision]:
    """All revisions with their files and reviews and each review's mentor, loaded in three
    queries."""
    return list(db.session.scalars(
        select(Revision).where(Revision.submission_id == submission.id).order_by(Revision.number)
        .options(selectinload(Revision.attachments),
                 selectinload(Revision.reviews).joinedload(Review.mentor))
    ))


def previous_scores(history: list[Revision]) -> tuple[int | None, dict[str, Any]]:
    """The scores of the latest review of an earlier version, to start the new review from:
    (that version's number, {criterion id: points}), or (None, {}) when there is none."""
    for revision in reversed(history[:-1]):
        if revision.reviews:
            latest = max(revision.reviews, key=lambda review: (review.sent_at, review.id))
            return revision.number, dict(latest.scores or {})
    return None, {}


def diff_lines(before: str, after: str) -> list[tuple[str, str]]:
    """A line diff as (kind, text) with kind in {"same", "added", "removed"}."""
    out: list[tuple[str, str]] = []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        code, text = line[:2], line[2:]
        if code == "+ ":
            out.append(("added", text))
        elif code == "- ":
            out.append(("removed", text))
        elif code == "  ":
            out.append(("same", text))
    return out


def submission_messages(submission: Submission) -> list[SubmissionMessage]:
    """The conversation under the submission, oldest first, with each author (one query)."""
    return list(db.session.scalars(
        select(SubmissionMessage).where(SubmissionMessage.submission_id == submission.id)
        .options(joinedload(SubmissionMessage.author))
        .order_by(SubmissionMessage.created_at, SubmissionMessage.id)))


def item_titles(item_id: int) -> dict[str, str]:
    """The assignment's title in each language it has: {lang: title} (one query)."""
    return dict(db.session.execute(select(ItemTranslation.lang, ItemTranslation.title)
                                   .where(ItemTranslation.item_id == item_id)).all())
