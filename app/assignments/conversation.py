"""The conversation under a submission's feedback: the learner replies or asks, the mentor answers.

Who may read the thread is who may see the submission (`submission.view`: the learner who owns
it, the mentors whose link reaches it, the cohort's trainers, admins). Who may write is the two
sides of the conversation (`submission.message`): the learner and the mentors whose link reaches
the work; trainers read without writing (their channel to a learner is the cohort's messages);
admins pass every policy, as everywhere. Messages are Markdown through the one sanitiser, stored
rendered, and never edited.

A double click (or a replayed form) does not post twice: the form carries the id of the newest
message shown when it was made (`seen`), and a message with the same author and the same text
written after that one is the same message. The submission's row is locked while this is
checked, so two clicks at once queue and the second finds the first's message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.assignments import queries
from app.assignments.models import Review, Revision, Submission, SubmissionMessage
from app.assignments.services import is_mentor_of, place_of, title_in
from app.auth.models import User
from app.cohorts import scope
from app.content.render import render_markdown
from app.core import audit
from app.core.authz import can, policy, require
from app.core.errors import InvalidInput
from app.core.links import external_url, url_path
from app.extensions import db
from app.notify.services import notify, queue_email

#: The longest message, in characters (a message is a reply, not a second submission).
MAX_MESSAGE = 5000
#: How much of a message its e-mail quotes.
EMAIL_EXCERPT = 1000


@policy("submission.message")
def _may_write(user, submission: Submission) -> bool:
    return submission.user_id == user.id or is_mentor_of(user, submission)


def post_message(user, submission: Submission, body: str | None, *, seen: int = 0) -> tuple[SubmissionMessage, bool]:
    """Add the user's message to the submission's conversation and tell the other side (a notice
    and an e-mail). Returns (the message, True), or (the message already posted from this same
    form, False) for a double click or a replay.

    Raises AccessDenied (404: the user may not see the work; 403: they may see it but not write,
    like a trainer), InvalidInput (empty, too long, or the work not handed in yet).
    """
    require(user, "submission.view", submission, hide=True)
    require(user, "submission.message", submission)
    text = (body or "").strip()
    if not text:
        raise InvalidInput(_l("Write your message before sending it."))
    if len(text) > MAX_MESSAGE:
        raise InvalidInput(_l("A message can have at most %(max)s characters; yours has %(count)s. Shorten it, "
                              "or send it in two parts.",
                              max=format_decimal(MAX_MESSAGE), count=format_decimal(len(text))))
    # Hold the submission's row: two posts of one form queue here (PostgreSQL; SQLite's
    # BEGIN IMMEDIATE already serialises writers), and the second sees the first's message.
    db.session.execute(select(Submission.id).where(Submission.id == submission.id).with_for_update())
    if not db.session.scalar(select(Revision.id).where(Revision.submission_id == submission.id).limit(1)):
        raise InvalidInput(_l("The conversation opens once the work is handed in."))
    replay = db.session.scalar(select(SubmissionMessage).where(
        SubmissionMessage.submission_id == submission.id, SubmissionMessage.author_id == user.id,
        SubmissionMessage.id > max(seen, 0), SubmissionMessage.body_md == text).limit(1))
    if replay is not None:
        return replay, False
    message = SubmissionMessage(submission_id=submission.id, author_id=user.id, body_md=text,
                                body_html=str(render_markdown(text)))
    db.session.add(message)
    db.session.flush()
    audit.record("submission_message", actor=user, target=f"Submission:{submission.id}", message=message.id)
    _tell_other_side(user, submission, text)
    return message, True


def recipients_of(author, submission: Submission) -> list[User]:
    """Who hears of a new message: the learner when anyone else writes; when the learner writes,
    the mentors whose link reaches the work, or — when no link reaches it any more — the mentor
    who wrote the latest review."""
    if author.id != submission.user_id:
        return [submission.learner]
    mentor_ids = scope.mentor_ids_of(submission)
    if not mentor_ids:
        reviewer = db.session.scalar(
            select(Review.mentor_id).join(Revision, Revision.id == Review.revision_id)
            .where(Revision.submission_id == submission.id, Review.mentor_id.is_not(None))
            .order_by(Review.sent_at.desc(), Review.id.desc()).limit(1))
        mentor_ids = {reviewer} if reviewer is not None else set()
    mentor_ids.discard(author.id)
    if not mentor_ids:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(mentor_ids), User.is_active_account.is_(True))
                                   .order_by(User.id)))


def _tell_other_side(author, submission: Submission, text: str) -> None:
    recipients = recipients_of(author, submission)
    if not recipients:
        return
    place = place_of(submission)
    excerpt = text if len(text) <= EMAIL_EXCERPT else text[:EMAIL_EXCERPT].rstrip() + " …"
    for recipient in recipients:
        endpoint = "assignments.show_submission"
        notify(recipient, "submission_message", url_path(endpoint, submission_id=submission.id) + "#thread",
               author=author.display_name, **place)
        lang = recipient.locale or "en"
        queue_email(recipient.email, "submission_message", lang, name=recipient.display_name,
                    author=author.display_name, course=title_in(place["course"], lang),
                    assignment=title_in(place["assignment"], lang), message=excerpt,
                    link=external_url(endpoint, submission_id=submission.id) + "#thread")


# -- what the pages show ------------------------------------------------------------------


@dataclass
class Thread:
    """The conversation as a page shows it: each message under the version it was written about
    (the latest version handed in when it was written), the form under the latest version."""

    submission_id: int
    learner_id: int
    latest_number: int | None
    by_revision: dict[int, list[SubmissionMessage]] = field(default_factory=dict)
    may_write: bool = False
    seen: int = 0
    body: str = ""  # what the user typed, kept when it was refused
    errors: list[str] = field(default_factory=list)
    max_length: int = MAX_MESSAGE

    @property
    def count(self) -> int:
        return sum(len(messages) for messages in self.by_revision.values())


def group_by_revision(history: list[Revision], messages: list[SubmissionMessage]) -> dict[int, list[SubmissionMessage]]:
    """Each message under the latest version handed in before it was written (pure)."""
    grouped: dict[int, list[SubmissionMessage]] = {}
    if not history:
        return grouped
    for message in messages:
        number = history[0].number
        for revision in history:
            if revision.submitted_at <= message.created_at:
                number = revision.number
        grouped.setdefault(number, []).append(message)
    return grouped


def thread_for(user, submission: Submission, history: list[Revision], *, body: str = "",
               errors: list[str] | None = None, may_write: bool | None = None) -> Thread:
    """The thread of the submission for a page (one query; one more, whether the user may write,
    when the user is not its learner and the caller does not say). The caller has checked that
    the user may see the submission."""
    messages = queries.submission_messages(submission)
    if may_write is None:
        may_write = submission.user_id == user.id or can(user, "submission.message", submission)
    may_write = bool(history) and may_write
    return Thread(submission_id=submission.id, learner_id=submission.user_id,
                  latest_number=history[-1].number if history else None,
                  by_revision=group_by_revision(history, messages), may_write=may_write,
                  seen=max((message.id for message in messages), default=0), body=body, errors=list(errors or []))


@dataclass
class LatestFeedback:
    review: Review
    revision: Revision

    @property
    def sent_at(self) -> datetime:
        return self.review.sent_at


def latest_feedback(history: list[Revision]) -> LatestFeedback | None:
    """The mentor's latest review of any version, with that version (pure, over a loaded history)."""
    found = [(review, revision) for revision in history for review in revision.reviews]
    if not found:
        return None
    review, revision = max(found, key=lambda pair: (pair[0].sent_at, pair[0].id))
    return LatestFeedback(review=review, revision=revision)
