"""Assignment pages: the learner's work, the mentor's queue and review, files, notices."""
from __future__ import annotations

import secrets
from contextlib import suppress
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import inspect
from sqlalchemy.orm.exc import StaleDataError

from app.assignments import archive, comments, conversation, queries, services
from app.assignments import files as file_store
from app.assignments import queue as review_queue
from app.assignments.forms import (
    CommentActionForm,
    ConfirmSubmitForm,
    MessageForm,
    PreferenceForm,
    ReviewForm,
    WorkForm,
)
from app.assignments.models import IllegalTransition, MentorPreference, Submission
from app.content.render import render_markdown
from app.core.authz import can, require
from app.core.converters import MAX_ID
from app.core.errors import Conflict, EmptySubmission, InvalidInput, status_of
from app.core.header import register_header_fact, register_nav_flag
from app.core.i18n import current_lang
from app.core.views import commit_or_conflict
from app.database import reload_expired
from app.extensions import db
from app.learning import queries as learning_queries
from app.learning.lookup import load_course, load_item
from app.notify import services as notice_services

bp = Blueprint("assignments", __name__)
UPLOAD_SLACK = 2 * 1024 * 1024


def _work_page(course, item, translation, outline, lang, *, submission, form, errors=(), preview=None,
               status=200, saved_draft=None, message=("", ())):
    """The learner's page of the assignment; `message` is (the text, its errors) of a message
    to the mentor that was refused, kept in the thread's form."""
    options = services.options_for(translation)
    history = queries.submission_history(submission) if submission else []
    drafts = queries.draft_files(submission)
    thread = conversation.thread_for(current_user, submission, history, body=message[0], errors=list(message[1])) \
        if history else None
    if thread is None:  # no thread to show the reason in
        errors = [*errors, *message[1]]
    return render_template("assignments/work.html", course=course, item=item, translation=translation,
                           outline=outline, lang=lang, submission=submission, form=form, options=options,
                           history=history, draft_files=drafts, errors=errors, preview=preview,
                           saved_draft=saved_draft, render=render_markdown, thread=thread,
                           feedback=conversation.latest_feedback(history)), status


def _draft_conflict(course, item, translation, lang, form):
    """The work page again (409): the learner's text in the form, the stored draft under it,
    and a form version that lets them save theirs over it if they choose to."""
    submission = services.submission_for(current_user, item)
    if submission is not None and not submission.is_editable:
        errors = [_("This work was submitted from another tab or window while you were writing, so your text "
                    "was not saved. It is shown below so that you can copy it.")]
    else:
        errors = [_("This draft was saved from another tab or window, or by a second click, while you were "
                    "writing, so your text was not saved. It is kept in the form below, with the saved draft "
                    "under it: save again to keep your text.")]
    if any(upload and upload.filename for upload in request.files.getlist("files")):
        errors.append(_("The files you chose were not attached: choose them again."))
    outline = learning_queries.course_outline(current_user, course, lang)
    return _work_page(course, item, translation, outline, lang, submission=submission, form=form,
                      errors=errors, status=409, saved_draft=submission.draft_body if submission else None)


def assignment_view(*, course, item, translation, outline, lang):
    submission = services.submission_for(current_user, item)
    form = WorkForm(body=submission.draft_body if submission else "")
    return _work_page(course, item, translation, outline, lang, submission=submission, form=form)




@bp.app_template_global("viewable")
def viewable(attachment) -> str | None:
    """How a page may show the attachment: "image", "pdf", or None (download only)."""
    return archive.viewable_kind(attachment)


@bp.app_template_filter("in_language")
def in_language(titles, lang: str) -> str:
    """A title stored in every language ({lang: title}, as notices keep them) in `lang`."""
    return services.title_in(titles if isinstance(titles, dict) else {}, lang)


def register() -> None:
    """Called by create_app: the header's unread-notices and "mentors someone" facts, and its
    flags `nav.unread` and `nav.may_review` (the review queue's link)."""
    register_header_fact("unread_notices", notice_services.unread_count_expression)
    register_header_fact("is_mentor", services.is_mentor_expression)
    register_nav_flag("unread", lambda user, facts: facts["unread_notices"])
    register_nav_flag("may_review", lambda user, facts: bool(facts["is_mentor"]))


@bp.post("/courses/<slug>/<item_slug>/work")
@login_required
def save_work(slug: str, item_slug: str):
    course = load_course(slug)
    item = load_item(course, item_slug)
    lang = current_lang()
    translation = learning_queries.translation_for(item, lang)
    if translation is None:
        abort(404)
    options = services.options_for(translation)
    # Allow this form the files it may carry, so a too-large file is answered here, text kept.
    request.max_content_length = int(options.max_count * options.max_mb * 1024 * 1024) + UPLOAD_SLACK
    form = WorkForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        submission = services.save_draft(current_user, item, form.body.data, form.version.data)
    except IllegalTransition:
        flash(_("This work was already submitted."), "info")
        return redirect(url_for("learning.item", slug=slug, item_slug=item_slug))
    except (services.DraftConflict, StaleDataError):
        db.session.rollback()
        return _draft_conflict(course, item, translation, lang, form)
    errors, status = [], 200
    for upload in request.files.getlist("files"):
        if not upload or not upload.filename:
            continue
        try:
            services.attach_file(current_user, submission, upload, options)
        except file_store.UploadRejected as error:
            errors.append(str(error))
            # The error's type decides (413 for a file too large wins over 400), not its wording.
            status = max(status, status_of(error))
    db.session.commit()
    outline = learning_queries.course_outline(current_user, course, lang)
    action = request.form.get("action", "save")
    if errors or action == "preview":
        preview = render_markdown(form.body.data or "") if action == "preview" else None
        return _work_page(course, item, translation, outline, lang, submission=submission, form=form,
                          errors=errors, preview=preview, status=status)
    if action == "submit":
        confirm = ConfirmSubmitForm(form_token=secrets.token_urlsafe(24))
        files = queries.draft_files(submission)
        reload_expired(course, item, translation, submission)  # the save committed: read them here
        return render_template("assignments/confirm.html", course=course, item=item, translation=translation,
                               submission=submission, form=confirm, render=render_markdown, files=files)
    flash(_("Your draft is saved."), "success")
    return redirect(url_for("learning.item", slug=slug, item_slug=item_slug))


def _load_submission(submission_id: int) -> Submission:
    submission = queries.load_submission(submission_id)
    if submission is None:
        abort(404)
    return submission


@bp.post("/assignments/<int:submission_id>/submit")
@login_required
def submit(submission_id: int):
    submission = _load_submission(submission_id)
    form = ConfirmSubmitForm()
    if not form.validate_on_submit():
        abort(400)
    target = url_for("learning.item", slug=submission.item.course.slug, item_slug=submission.item.slug)
    try:
        with commit_or_conflict(IllegalTransition):
            services.submit(current_user, submission, form.form_token.data)
    except Conflict:  # a replay or a double click: the first one counted
        return redirect(target)
    except EmptySubmission as error:
        flash(str(error), "error")
        return redirect(target)
    flash(_("Your work is submitted. Your mentor will be told."), "success")
    return redirect(target)


@bp.get("/assignments/<int:submission_id>")
@login_required
def show_submission(submission_id: int):
    submission = _load_submission(submission_id)
    require(current_user, "submission.view", submission, hide=True)
    if submission.user_id == current_user.id:
        return redirect(url_for("learning.item", slug=submission.item.course.slug, item_slug=submission.item.slug))
    return redirect(url_for("assignments.review", submission_id=submission.id))


@bp.post("/assignments/<int:submission_id>/files/<int:attachment_id>/remove")
@login_required
def remove_file(submission_id: int, attachment_id: int):
    submission = _load_submission(submission_id)
    services.remove_file(current_user, submission, attachment_id)
    db.session.commit()
    return redirect(url_for("learning.item", slug=submission.item.course.slug, item_slug=submission.item.slug))


@bp.get("/files/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    attachment = services.attachment_to_download(current_user, attachment_id)
    path = file_store.stored_path(Path(current_app.config["UPLOAD_FOLDER"]), attachment.stored_name)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.original_name, max_age=0)
    response.headers["Content-Security-Policy"] = "sandbox"
    return _file_headers(response)


def _file_headers(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.get("/files/<int:attachment_id>/view")
@login_required
def view_file(attachment_id: int):
    """A PDF or a picture shown in the page (same rights as downloading it). Chrome shows no PDF
    under a sandbox (CSP or iframe attribute), so a PDF gets a CSP without scripts that only
    this site may frame; its bytes passed the %PDF check and nosniff keeps it a PDF."""
    attachment = services.attachment_to_download(current_user, attachment_id)
    kind = archive.viewable_kind(attachment)
    if kind is None:
        abort(404)
    path = file_store.stored_path(Path(current_app.config["UPLOAD_FOLDER"]), attachment.stored_name)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=False,
                         download_name=attachment.original_name, max_age=0)
    if kind == "pdf":
        # (Chrome's viewer page needs inline styles: crbug.com/343754409.)
        response.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; "
                                                       "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    else:
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; frame-ancestors 'self'"
    return _file_headers(response)


@bp.get("/assignments/<int:submission_id>/files.zip")
@login_required
def download_all(submission_id: int):
    """Every submitted file of the work as one zip, written while it is sent."""
    submission = _load_submission(submission_id)
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    entries = [(name, file_store.stored_path(folder, attachment.stored_name), attachment.size, attachment.created_at)
               for name, attachment in archive.files_to_zip(current_user, submission)]
    # No request context in the generator: the database session ends before the first byte goes.
    response = Response(archive.stream_zip(entries), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="work-{submission.id}.zip"'
    response.headers["Content-Security-Policy"] = "sandbox"
    return _file_headers(response)


@bp.get("/review")
@login_required
def queue():
    result = review_queue.queue_page(current_user, current_lang(), review_queue.parse_filters(request.args))
    preference = db.session.get(MentorPreference, current_user.id)
    return render_template("assignments/queue.html", result=result, filters=result.filters,
                           preference_form=PreferenceForm(daily_digest=bool(preference and preference.daily_digest)))


@bp.post("/review/preferences")
@login_required
def preferences():
    form = PreferenceForm()
    if not form.validate_on_submit():
        abort(400)
    preference = db.session.get(MentorPreference, current_user.id) or MentorPreference(user_id=current_user.id)
    preference.daily_digest = bool(form.daily_digest.data)
    db.session.add(preference)
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("assignments.queue"))


def _review_page(submission, form, *, errors=(), status=200, scores=None, bank=None, message=("", ())):
    if {"learner", "claimed_by"} & inspect(submission).unloaded:  # a rollback expired them
        submission = queries.load_submission(submission.id, again=True)
    translation = learning_queries.translation_for(submission.item, current_lang())
    if translation is None:
        abort(404)
    history = queries.submission_history(submission)
    diffs = {rev.number: queries.diff_lines(history[i - 1].body, rev.body)
             for i, rev in enumerate(history) if i > 0}
    bank = {"open": None, "new_text": None, "texts": {}, "shared": None, **(bank or {})}
    may_review = can(current_user, "submission.review", submission)
    bank_entries = comments.comment_bank_for(current_user, submission) if may_review else []
    options = services.options_for(translation)
    # A new version starts from the scores the last version got, marked as such (never on a
    # form sent back with the mentor's own choices).
    prefilled_from, prefilled = (None, {}) if scores is not None else queries.previous_scores(history)
    if scores is None:  # stored points are numbers: give each the level's own value, as the form has it
        scores = {c["id"]: level["points"] for c in options.rubric for level in c["levels"]
                  if c["id"] in prefilled and float(level["points"]) == float(prefilled[c["id"]])}
    # Who may review may write; so may the learner (an admin, say, looking at their own work).
    thread = conversation.thread_for(current_user, submission, history, body=message[0], errors=list(message[1]),
                                     may_write=may_review or submission.user_id == current_user.id)
    if not history:  # no thread to show the reason in
        errors = [*errors, *message[1]]
    return render_template("assignments/review.html", prefilled_from=prefilled_from, submission=submission,
                           thread=thread,
                           translation=translation, options=options, history=history, diffs=diffs,
                           form=form, errors=errors, scores=scores or {}, comments=bank_entries, bank=bank,
                           total=services.running_total(options, scores or {}),
                           max_points=sum(max(float(level["points"]) for level in c["levels"])
                                          for c in options.rubric),
                           render=render_markdown, may_review=may_review,
                           may_manage_comments={entry.id for entry in bank_entries
                                                if can(current_user, "comment.manage", entry)}), status


@bp.get("/review/<int:submission_id>")
@login_required
def review(submission_id: int):
    submission = _load_submission(submission_id)
    require(current_user, "submission.view", submission, hide=True)
    latest = submission.latest_revision
    form = ReviewForm(revision_id=latest.id if latest else 0, version=submission.version)
    return _review_page(submission, form)


@bp.post("/review/<int:submission_id>")
@login_required
def send_review(submission_id: int):
    submission = _load_submission(submission_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    translation = learning_queries.translation_for(submission.item, current_lang())
    if translation is None:
        abort(404)
    options = services.options_for(translation)
    scores = {c["id"]: request.form.get(f"score-{c['id']}") for c in options.rubric}
    decision = request.form.get("decision", "")
    if decision == "total":  # "Add up the points" without scripts: show the total, send nothing
        require(current_user, "submission.review", submission)
        return _review_page(submission, form, scores=scores)
    try:
        with commit_or_conflict():
            services.send_review(current_user, submission, revision_id=form.revision_id.data,
                                 expected_version=form.version.data, scores=scores,
                                 feedback=form.feedback.data, decision=decision, options=options)
    except Conflict as conflict:  # services.ReviewConflict, or a version check
        db.session.refresh(submission)
        message = _("Another mentor reviewed this work, or it changed, while you were writing. "
                    "Their review is shown below; your text is kept in the form.")
        return _review_page(submission, form, errors=[message], status=status_of(conflict), scores=scores)
    except (services.InvalidReview, IllegalTransition) as error:
        db.session.rollback()
        return _review_page(submission, form, errors=[str(error)], status=400, scores=scores)
    flash(_("Your review is sent."), "success")
    return redirect(url_for("assignments.queue"))


@bp.post("/review/<int:submission_id>/claim")
@login_required
def claim(submission_id: int):
    submission = _load_submission(submission_id)
    with suppress(Conflict), commit_or_conflict(IllegalTransition):  # claimed or reviewed meanwhile
        services.claim(current_user, submission)
    return redirect(url_for("assignments.review", submission_id=submission_id))


def _comment_action(verb: str, comment_id: int, submission, form) -> tuple[str, bool]:
    """Do one comment-bank action; (the message to show, whether the bank's boxes keep their text)."""
    if verb == "add":
        comments.add_comment(current_user, submission, request.form.get("text"),
                             shared=bool(request.form.get("shared")))
        return _("The comment is saved."), False
    if verb == "insert":
        entry = comments.comment_for_insert(current_user, submission, comment_id)
        form.feedback.data = comments.with_comment(form.feedback.data, entry.text)
        return _("The comment is added at the end of your feedback."), True
    if verb == "save":
        comments.edit_comment(current_user, comment_id, request.form.get(f"text-{comment_id}"),
                              shared=bool(request.form.get(f"shared-{comment_id}")))
        return _("The comment is saved."), False
    if verb == "delete":
        comments.delete_comment(current_user, comment_id)
        return _("The comment is deleted."), False
    abort(400)


@bp.post("/review/<int:submission_id>/comments")
@login_required
def comment_bank(submission_id: int):
    """Every comment-bank button posts the review form here (the buttons name it with `form=`),
    so the page comes back with the mentor's feedback and chosen levels as they were.
    `comment_action` is "add", "insert:<id>", "save:<id>" or "delete:<id>"."""
    submission = _load_submission(submission_id)
    if not CommentActionForm().validate_on_submit():
        abort(400)
    require(current_user, "submission.review", submission)
    form = ReviewForm()
    verb, _sep, raw_id = request.form.get("comment_action", "").partition(":")
    comment_id = int(raw_id) if raw_id.isdigit() and int(raw_id) <= MAX_ID else 0
    # What the mentor typed into the bank's boxes comes back with the page unless it was saved.
    bank = {"open": comment_id if verb == "save" else None, "new_text": request.form.get("text"),
            "shared": request.form.get("shared"),
            "texts": {key[5:]: value for key, value in request.form.items() if key.startswith("text-")}}
    try:
        message, keep = _comment_action(verb, comment_id, submission, form)
        db.session.commit()
    except comments.InvalidComment as error:
        db.session.rollback()
        return _review_page(submission, form, errors=[str(error)], status=400,
                            scores=_posted_scores(submission), bank=bank)
    except comments.CommentGone:
        db.session.rollback()
        if verb == "save":  # the text being edited goes to the new-comment box, to be saved again
            bank["new_text"] = request.form.get(f"text-{comment_id}")
        message = _("That comment was deleted, by its author or an administrator, so it could not be used or "
                    "changed. Your feedback is kept below.")
        return _review_page(submission, form, errors=[message], status=409,
                            scores=_posted_scores(submission), bank=bank)
    flash(message, "success")
    return _review_page(submission, form, scores=_posted_scores(submission), bank=bank if keep else {})


def _posted_scores(submission) -> dict:
    translation = learning_queries.translation_for(submission.item, current_lang())
    if translation is None:
        abort(404)
    options = services.options_for(translation)
    return {c["id"]: request.form.get(f"score-{c['id']}") for c in options.rubric}


@bp.post("/assignments/<int:submission_id>/messages")
@login_required
def post_message(submission_id: int):
    """A message in the conversation under the feedback, from the learner or a mentor."""
    submission = _load_submission(submission_id)
    form = MessageForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with commit_or_conflict():
            _message, is_new = conversation.post_message(current_user, submission, form.message.data,
                                                         seen=form.seen.data or 0)
    except (InvalidInput, Conflict) as error:
        db.session.rollback()
        text = str(error) if isinstance(error, InvalidInput) else _(
            "Your message could not be sent just now. It is kept below: send it again.")
        return _thread_refused(submission, form.message.data or "", text, status_of(error))
    flash(_("Your message is sent.") if is_new else _("This message was already sent (the form was sent twice); "
                                                      "it is shown once below."), "success" if is_new else "info")
    endpoint = "learning.item" if submission.user_id == current_user.id else "assignments.review"
    values = ({"slug": submission.item.course.slug, "item_slug": submission.item.slug}
              if endpoint == "learning.item" else {"submission_id": submission.id})
    return redirect(url_for(endpoint, **values, _anchor="thread"))


def _thread_refused(submission, text: str, error: str, status: int):
    """The page the message was written on, again, with the reason and the text kept."""
    submission = queries.load_submission(submission.id, again=True) or abort(404)
    message = (text, [error])
    if submission.user_id != current_user.id:
        latest = submission.latest_revision
        form = ReviewForm(formdata=None, revision_id=latest.id if latest else 0, version=submission.version)
        return _review_page(submission, form, status=status, message=message)
    item, lang = submission.item, current_lang()
    translation = learning_queries.translation_for(item, lang) or abort(404)
    outline = learning_queries.course_outline(current_user, item.course, lang)
    return _work_page(item.course, item, translation, outline, lang, submission=submission,
                      form=WorkForm(formdata=None, body=submission.draft_body), status=status, message=message)


@bp.get("/notices")
@login_required
def notices():
    return render_template("assignments/notices.html", notices=queries.latest_notices(current_user))


@bp.post("/notices/read")
@login_required
def read_notices():
    notice_services.mark_notices_read(current_user)
    db.session.commit()
    return redirect(url_for("assignments.notices"))
