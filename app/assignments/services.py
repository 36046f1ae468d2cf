"""Assignment rules: drafts, files, submitting, mentoring links, reviews and notices.

Functions add and flush; the route commits once. Authorisation is checked here, per object.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from app.assignments import file_cleanup, queries
from app.assignments import files as file_store
from app.assignments.models import (
    APPROVE,
    REQUEST_CHANGES,
    SUBMITTED,
    Attachment,
    MentorLink,
    MentorPreference,
    Review,
    Revision,
    Submission,
)
from app.auth.models import User
from app.cohorts import scope
from app.content.models import ASSIGNMENT, Item, ItemTranslation
from app.core import audit
from app.core.authz import AccessDenied, has_role, policy, require
from app.core.errors import Conflict, EmptySubmission, InvalidInput
from app.core.links import external_url, url_path
from app.database import utcnow
from app.extensions import db
from app.learning.access import require_open
from app.learning.services import enrol, record_completion
from app.notify.services import notify, queue_email, register_template


def register() -> None:
    """Called by create_app: the e-mails this package sends."""
    register_template("submission_received", _l("New submission to review"))
    register_template("submission_reviewed", _l("Your mentor has reviewed your work"))
    register_template("mentor_digest", _l("Submissions waiting for your review"))
    register_template("submission_message", _l("A new message about your assignment"))


class ReviewConflict(Conflict):
    """Someone else changed the submission since this mentor opened it."""


class DraftConflict(Conflict):
    """The draft was saved elsewhere (another tab or window, a second click) after this form
    was loaded; nothing of this save was kept."""


class InvalidReview(InvalidInput):
    """The scores or the decision are not acceptable; str(error) says why."""


# -- the assignment's options, as synced from its front matter ---------------------------

@dataclass
class AssignmentOptions:
    rubric: list[dict[str, Any]]
    types: list[str]
    max_count: int
    max_mb: float
    pass_points: float | None
    suggested_words: int | None

    @property
    def max_points(self) -> float:
        return sum(max(float(level["points"]) for level in criterion["levels"]) for criterion in self.rubric)


def options_for(translation: ItemTranslation) -> AssignmentOptions:
    meta = dict((translation.data or {}).get("meta") or {})
    rubric = (translation.data or {}).get("rubric") or meta.get("rubric") or []
    if isinstance(rubric, dict):
        rubric = rubric.get("criteria", [])
    files = meta.get("files") or {}
    types = [str(t).lower() for t in files.get("types") or []]
    return AssignmentOptions(
        rubric=[dict(c) for c in rubric],
        types=types,
        # No accepted types means no attachments (docs/authoring.md): no file field at all.
        max_count=int(files.get("max_count", 3)) if types else 0,
        max_mb=float(files.get("max_mb", 10)),
        pass_points=meta.get("pass_points"),
        suggested_words=meta.get("suggested_words"),
    )


# -- who may do what -------------------------------------------------------------------

def mentees_count(user) -> int:
    return db.session.scalar(select(func.count(MentorLink.id)).where(
        MentorLink.mentor_id == user.id, MentorLink.ended_at.is_(None))) or 0


def is_mentor_expression(user_id: int):
    """SQL: does the user mentor anyone now? (for the site header)"""
    return exists().where(MentorLink.mentor_id == user_id, MentorLink.ended_at.is_(None))


def is_mentor_of(user, submission: Submission) -> bool:
    """True when the user's current mentor link reaches this submission: a link in the cohort the
    work belongs to, which has its course, with both people still in their roles there; or,
    for work done outside any cohort, a link without one."""
    return user.id in scope.mentor_ids_of(submission)


@policy("submission.view")
def _may_view(user, submission: Submission) -> bool:
    return (submission.user_id == user.id or is_mentor_of(user, submission)
            or has_role(user, submission, "trainer"))


@policy("submission.edit")
def _may_edit(user, submission: Submission) -> bool:
    return submission.user_id == user.id


@policy("submission.review")
def _may_review(user, submission: Submission) -> bool:
    return submission.user_id != user.id and is_mentor_of(user, submission)


@policy("mentoring.manage")
def _may_manage_links(user, target) -> bool:
    return False  # admins (and, with cohorts, trainers of the cohort)


# -- learner ---------------------------------------------------------------------------

def submission_for(user, item: Item, *, create: bool = False, lock: bool = False) -> Submission | None:
    """The user's submission for an assignment item, created as an empty draft on request.

    With lock, its row is read afresh and held until the transaction ends (SELECT … FOR
    UPDATE; SQLite ignores it, and its BEGIN IMMEDIATE already serialises writers).
    """
    if item.kind != ASSIGNMENT:
        raise AccessDenied("submission.edit", item, hide=True)
    query = select(Submission).where(Submission.user_id == user.id, Submission.item_id == item.id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    submission = db.session.scalar(query)
    if submission is None and create:
        submission = _new_submission(user, item)
    return submission


def _new_submission(user, item: Item) -> Submission:
    """Insert the user's draft for the item; IntegrityError if another request made it first."""
    require(user, "course.view", item.course, hide=True)
    enrol(user, item.course)
    submission = Submission(user_id=user.id, item_id=item.id,
                            cohort_id=scope.cohort_of_work(user.id, item.course_id))
    db.session.add(submission)
    db.session.flush()
    audit.record("submission_start", actor=user, target=f"Submission:{submission.id}")
    return submission


def save_draft(user, item: Item, body: str, expected_version: int | None) -> Submission:
    """Keep the learner's text in their draft for the item, making the draft on the first save.

    expected_version is the draft's version that the form was loaded with: 0 when the page
    showed no draft yet; None when the form did not say (the last save wins). The draft's row
    stays locked until the transaction ends, so two saves at once queue instead of failing,
    and the second sees the first's version.

    Raises DraftConflict when the draft changed since the form was loaded (another tab, a
    double click, two first saves at once), IllegalTransition after submitting, AccessDenied,
    ItemLocked when the assignment is not open to the learner yet.
    """
    if item.kind == ASSIGNMENT:
        require(user, "course.view", item.course, hide=True)
        require_open(user, item)
    submission = submission_for(user, item, lock=True)
    if submission is None:
        if expected_version:
            raise DraftConflict()
        try:
            # Two first saves at once both find no draft; the unique (user, item) constraint
            # refuses the second insert once the first commits.
            with db.session.begin_nested():
                # Always an INSERT: a draft another request committed since the locked read
                # above must not be taken over (it would be saved over without a conflict).
                submission = _new_submission(user, item)
        except IntegrityError:
            raise DraftConflict() from None
        # On PostgreSQL (READ COMMITTED) the other first save may have committed between the
        # locking read above and this one: then the draft found here is theirs, not a new one.
        if expected_version is not None and submission.version != 1:
            raise DraftConflict()
    elif expected_version is not None and submission.version != expected_version:
        raise DraftConflict()
    require(user, "submission.edit", submission, hide=True)
    submission.edit_draft(body or "")
    return submission


def attach_file(user, submission: Submission, upload, options: AssignmentOptions) -> Attachment:
    """Check and store one uploaded file on the draft. Raises UploadRejected with the reason,
    ItemLocked when the assignment is not open to the learner yet."""
    require(user, "submission.edit", submission, hide=True)
    require_open(user, submission.item)
    if not submission.is_editable:
        raise file_store.UploadRejected(str(_l("This work was submitted; files can no longer be added.")))
    count = db.session.execute(select(func.count(Attachment.id)).where(
        Attachment.submission_id == submission.id, Attachment.revision_id.is_(None))).scalar_one()
    if count >= options.max_count:
        raise file_store.UploadRejected(str(_l("You can attach at most %(n)d files.", n=options.max_count)))
    ext, _size = file_store.check_file(upload.filename or "", upload.stream, allowed=options.types,
                                       max_bytes=int(options.max_mb * 1024 * 1024))
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    stored = file_store.store_file(folder, upload.filename, upload.stream, ext)
    file_cleanup.delete_unless_committed(file_store.stored_path(folder, stored.stored_name))
    attachment = Attachment(submission_id=submission.id, original_name=stored.original_name,
                            stored_name=stored.stored_name, content_type=stored.content_type,
                            size=stored.size, sha256=stored.sha256)
    db.session.add(attachment)
    db.session.flush()
    audit.record("attachment_add", actor=user, target=f"Submission:{submission.id}",
                 name=stored.original_name, sha256=stored.sha256)
    return attachment


def remove_file(user, submission: Submission, attachment_id: int) -> None:
    """Take a file off the draft; its bytes are deleted once this commits. Submitted files
    (part of a revision) are history and cannot be removed. Raises AccessDenied."""
    require(user, "submission.edit", submission, hide=True)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.submission_id != submission.id or attachment.revision_id is not None:
        raise AccessDenied("submission.edit", attachment, hide=True)
    db.session.delete(attachment)
    file_cleanup.delete_after_commit(
        file_store.stored_path(Path(current_app.config["UPLOAD_FOLDER"]), attachment.stored_name))
    audit.record("attachment_remove", actor=user, target=f"Submission:{submission.id}",
                 name=attachment.original_name)


def attachment_to_download(user, attachment_id: int) -> Attachment:
    """The attachment, if the user may download it. Raises AccessDenied (answered 404).

    A file still on the draft is as private as the draft's text: only its learner may fetch it
    (mentors and trainers see files once they are submitted, as part of a revision).
    """
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise AccessDenied("submission.view", None, hide=True)
    submission = db.session.get(Submission, attachment.submission_id)
    action = "submission.edit" if attachment.revision_id is None else "submission.view"
    require(user, action, submission, hide=True)
    return attachment


def submit(user, submission: Submission, form_token: str) -> Revision:
    """Freeze the draft as a new revision and tell the mentors. Replaying the form is harmless.

    Raises AccessDenied, IllegalTransition when already submitted, ItemLocked when the
    assignment is not open to the learner yet, and ValueError for an empty answer with no files.
    """
    require(user, "submission.edit", submission, hide=True)
    require_open(user, submission.item)
    replay = db.session.scalar(select(Revision).where(Revision.form_token == form_token))
    if replay is not None and replay.submission_id == submission.id:
        return replay
    draft_files = db.session.scalars(select(Attachment).where(
        Attachment.submission_id == submission.id, Attachment.revision_id.is_(None))).all()
    if not submission.draft_body.strip() and not draft_files:
        raise EmptySubmission(_l("Write your answer or attach a file before submitting."))
    submission.submit()
    # The work belongs to the cohort through which the learner takes the course now.
    submission.cohort_id = scope.cohort_of_work(user.id, submission.item.course_id, submission.cohort_id)
    number = len(submission.revisions) + 1
    revision = Revision(submission_id=submission.id, number=number, body=submission.draft_body,
                        form_token=form_token)
    db.session.add(revision)
    db.session.flush()
    for attachment in draft_files:
        attachment.revision_id = revision.id
    audit.record("submission_submit", actor=user, target=f"Submission:{submission.id}", revision=number)
    _tell_mentors(submission, user)
    db.session.flush()
    return revision


def _tell_mentors(submission: Submission, learner) -> None:
    mentor_ids = scope.mentor_ids_of(submission)
    if not mentor_ids:
        return
    digest_ids = set(db.session.scalars(select(MentorPreference.user_id).where(
        MentorPreference.user_id.in_(mentor_ids), MentorPreference.daily_digest.is_(True))))
    link = url_path("assignments.review", submission_id=submission.id)
    for mentor in db.session.scalars(select(User).where(User.id.in_(mentor_ids))):
        notify(mentor, "submission_received", link, learner=learner.display_name)
        if mentor.id not in digest_ids:
            queue_email(mentor.email, "submission_received", mentor.locale, name=mentor.display_name,
                        learner=learner.display_name,
                        link=external_url("assignments.review", submission_id=submission.id))


# -- mentor ----------------------------------------------------------------------------

def title_in(titles: dict[str, str] | None, lang: str) -> str:
    """The title in `lang`, else in English, else any; "" when there is none."""
    titles = titles or {}
    return titles.get(lang) or titles.get("en") or next(iter(titles.values()), "")


def place_of(submission: Submission) -> dict[str, dict[str, str]]:
    """The course's and the assignment's titles in every language they have, for notices (which
    show them in the reader's language, whichever it is when they read)."""
    return {"course": dict(submission.item.course.titles or {}),
            "assignment": queries.item_titles(submission.item_id)}


def claim(mentor, submission: Submission) -> None:
    """Show the other mentors that this one is on it."""
    require(mentor, "submission.review", submission)
    submission.claim(mentor.id)
    audit.record("submission_claim", actor=mentor, target=f"Submission:{submission.id}")


def _check_scores(options: AssignmentOptions, scores: dict[str, Any]) -> dict[str, float]:
    checked: dict[str, float] = {}
    for criterion in options.rubric:
        allowed = {float(level["points"]) for level in criterion["levels"]}
        try:
            points = float(scores[criterion["id"]])
        except (KeyError, TypeError, ValueError):
            raise InvalidReview(str(_l("Choose a level for every criterion."))) from None
        if points not in allowed:
            raise InvalidReview(str(_l("Choose a level for every criterion.")))
        checked[criterion["id"]] = points
    return checked


def required_level_title(criterion: dict[str, Any]) -> str | None:
    """The title of the level a gated criterion needs ("2 · Careful"), or None without a gate."""
    required = criterion.get("required_level")
    if required is None:
        return None
    for level in criterion["levels"]:
        if float(level["points"]) == float(required):
            return f"{format_decimal(float(level['points']))} · {level['title']}"
    return format_decimal(float(required))


def running_total(options: AssignmentOptions, scores: dict[str, Any]) -> float:
    """The points of the levels chosen so far (criteria not yet scored, or scored with a
    value that is not one of their levels, count nothing). Raises nothing."""
    total = 0.0
    for criterion in options.rubric:
        allowed = {float(level["points"]) for level in criterion["levels"]}
        try:
            points = float(scores[criterion["id"]])
        except (KeyError, TypeError, ValueError):
            continue
        if points in allowed:
            total += points
    return total


def send_review(mentor, submission: Submission, *, revision_id: int, expected_version: int,
                scores: dict[str, Any], feedback: str, decision: str,
                options: AssignmentOptions) -> Review:
    """Score the latest revision against the rubric and approve it or ask for changes.

    Raises AccessDenied (not this mentor's learner, or a revision of another submission),
    ReviewConflict (someone reviewed or the learner changed it since the form was loaded),
    InvalidReview (missing or impossible scores, unknown decision).
    """
    require(mentor, "submission.review", submission)
    revision = db.session.get(Revision, revision_id)
    if revision is None or revision.submission_id != submission.id:
        raise AccessDenied("submission.review", revision)
    latest = submission.latest_revision
    if submission.version != expected_version or submission.state != SUBMITTED \
            or latest is None or revision.id != latest.id:
        raise ReviewConflict()
    if decision not in (APPROVE, REQUEST_CHANGES):
        raise InvalidReview(str(_l("Choose whether to approve or to ask for changes.")))
    checked = _check_scores(options, scores)
    total = sum(checked.values())
    if decision == APPROVE and options.pass_points is not None and total < float(options.pass_points):
        raise InvalidReview(str(_l("The score is below the %(n)s points needed to approve. Ask for changes instead.",
                                   n=format_decimal(float(options.pass_points)))))
    if decision == APPROVE:
        for criterion in options.rubric:
            required = criterion.get("required_level")
            if required is not None and checked[criterion["id"]] < float(required):
                raise InvalidReview(str(_l(
                    "“%(criterion)s” is below the level needed to approve (%(level)s). Ask for changes instead.",
                    criterion=criterion["title"], level=required_level_title(criterion))))
    review = Review(revision_id=revision.id, mentor_id=mentor.id, scores=checked, total=total,
                    feedback=feedback or "", decision=decision)
    db.session.add(review)
    if decision == APPROVE:
        submission.approve()
        record_completion(submission.learner, submission.item)
    else:
        submission.request_changes()
        submission.draft_body = revision.body  # the learner revises from what they sent
    db.session.flush()
    audit.record("review_send", actor=mentor, target=f"Submission:{submission.id}",
                 decision=decision, total=total, revision=revision.number)
    learner = submission.learner
    place = place_of(submission)
    notify(learner, "submission_reviewed", url_path("assignments.show_submission", submission_id=submission.id),
           decision=decision, **place)
    lang = learner.locale or "en"
    queue_email(learner.email, "submission_reviewed", lang, name=learner.display_name,
                decision=decision, link=external_url("assignments.show_submission", submission_id=submission.id),
                course=title_in(place["course"], lang), assignment=title_in(place["assignment"], lang))
    return review


# -- mentoring links ----------------------------------------------------------------------

def link_mentor(actor, mentor: User, learner: User, cohort_id: int | None = None) -> MentorLink:
    """Make mentor mentor the learner (once). Raises AccessDenied for non-admins."""
    require(actor, "mentoring.manage", None)
    existing = db.session.scalar(select(MentorLink).where(
        MentorLink.mentor_id == mentor.id, MentorLink.learner_id == learner.id, MentorLink.ended_at.is_(None)))
    if existing is not None:
        return existing
    if mentor.id == learner.id:
        raise InvalidInput(_l("A person cannot mentor themselves."))
    link = MentorLink(mentor_id=mentor.id, learner_id=learner.id, cohort_id=cohort_id)
    db.session.add(link)
    db.session.flush()
    audit.record("mentor_link", actor=actor, target=f"User:{learner.id}", mentor=mentor.id)
    return link


def end_mentor_link(actor, link: MentorLink) -> None:
    require(actor, "mentoring.manage", None)
    if link.ended_at is None:
        link.ended_at = utcnow()
        audit.record("mentor_unlink", actor=actor, target=f"User:{link.learner_id}", mentor=link.mentor_id)


