"""Authoring pages: the list of one's courses, a course's upload page with its history and
authors, the preview of an upload, publishing, restoring an earlier upload, and download."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.authoring import queries, services
from app.authoring.forms import ActionForm, AuthorForm, UploadForm
from app.authoring.models import CourseUpload
from app.content.course_zip import CourseZipError
from app.content.models import Course
from app.core.authz import AccessDenied, can, require
from app.core.errors import Conflict
from app.core.header import register_header_fact, register_nav_flag
from app.core.views import commit_or_conflict
from app.extensions import db
from app.learning import lookup

bp = Blueprint("authoring", __name__, url_prefix="/authoring")

ZIP_MESSAGES = {
    "not_zip": _l("This file is not a zip archive. Pack the course folder as a .zip file."),
    "too_many": _l("The zip has too many files (at most %(limit)d)."),
    "too_big": _l("The zip unpacks to more than the limit of %(limit)d bytes."),
    "member_too_big": _l("%(name)s: one file may unpack to at most %(limit)d bytes."),
    "ratio": _l("%(name)s: the file is compressed more than %(limit)d times; it looks like a zip bomb."),
    "link": _l("%(name)s: links are not allowed in a course zip."),
    "special": _l("%(name)s: only ordinary files and folders are allowed in a course zip."),
    "path": _l("%(name)s: the name points outside the course folder."),
    "encrypted": _l("%(name)s: encrypted files are not allowed."),
    "duplicate": _l("%(name)s: the zip holds this file twice."),
    "corrupt": _l("%(name)s: the file is damaged; pack the folder again."),
    "no_folder": _l("Put the course folder itself in the zip (its name is the course's address)."),
    "not_course": _l("The zip must hold one course folder with its course.yml."),
    "slug": _l("%(name)s: a course folder name uses lower-case letters, digits and hyphens."),
    "other_course": _l("The zip holds the course %(name)s, not this one."),
}


def zip_message(error: CourseZipError) -> str:
    return str(ZIP_MESSAGES[error.code]) % {"name": error.detail, "limit": error.values.get("limit", 0)}


def register() -> None:
    """Called by create_app: for the profile page, may the signed-in person author any course?
    (The site header shows the link to admins only; the fact rides along in the header's one
    statement, `nav.may_author`.)"""
    register_header_fact("authors_a_course", queries.authors_any_expression)
    register_nav_flag("may_author", lambda user, facts: bool(user.is_admin or facts["authors_a_course"]))


def load_course(slug: str) -> Course:
    return lookup.load_course(slug, "course.author")


def load_upload(course: Course, upload_id: int) -> CourseUpload:
    upload = db.session.get(CourseUpload, upload_id)
    if upload is None or upload.course_slug != course.slug:
        abort(404)
    return upload


@bp.get("/")
@login_required
def index():
    courses = services.authored_courses(current_user)
    if not courses and not current_user.is_admin:
        raise AccessDenied("course.author")
    return render_template("authoring/index.html", courses=courses, form=UploadForm(),
                           may_upload_new=can(current_user, "course.author", None))


@bp.get("/<slug>")
@login_required
def course(slug: str):
    course = load_course(slug)
    return _course_page(course, UploadForm())


def _course_page(course: Course, form: UploadForm, problems=None, error: str | None = None, status: int = 200):
    return render_template("authoring/course.html", course=course, form=form, action_form=ActionForm(),
                           author_form=AuthorForm(), uploads=services.uploads_of(course),
                           quizzes=services.quiz_translations(course),
                           authors=services.authors_of(course), problems=problems, error=error,
                           may_grant=can(current_user, "course.grant_author", course)), status


@bp.post("/new")
@bp.post("/<slug>/upload")
@login_required
def upload(slug: str | None = None):
    course = load_course(slug) if slug else None
    if course is None:
        require(current_user, "course.author", None)
    form = UploadForm()
    if not form.validate_on_submit():
        abort(400)
    file = request.files.get(form.file.name)
    problems, error = None, None
    if file is None or not file.filename:
        error = _("Choose the course's zip file.")
    else:
        try:
            preview = services.upload_course(current_user, file.read(), filename=file.filename, course=course)
        except CourseZipError as refused:
            error = zip_message(refused)
        except services.InvalidUpload as invalid:
            problems = invalid.problems
        else:
            db.session.commit()
            return redirect(url_for("authoring.preview", slug=preview.upload.course_slug,
                                    upload_id=preview.upload.id))
    if course is None:
        return render_template("authoring/index.html", courses=services.authored_courses(current_user),
                               form=form, problems=problems, error=error,
                               may_upload_new=can(current_user, "course.author", None)), 422
    return _course_page(course, form, problems, error, 422)


@bp.get("/<slug>/uploads/<int:upload_id>")
@login_required
def preview(slug: str, upload_id: int):
    course = queries.course_by_slug(slug)
    upload = db.session.get(CourseUpload, upload_id)
    if upload is None or upload.course_slug != slug:
        abort(404)
    try:
        result = services.preview_upload(current_user, upload)
    except services.InvalidUpload as invalid:
        return render_template("authoring/preview.html", course=course, upload=upload, problems=invalid.problems,
                               preview=None, action_form=ActionForm()), 422
    return render_template("authoring/preview.html", course=course, upload=upload, preview=result,
                           problems=None, action_form=ActionForm())


@bp.post("/<slug>/uploads/<int:upload_id>/publish")
@login_required
def publish(slug: str, upload_id: int):
    upload = db.session.get(CourseUpload, upload_id)
    if upload is None or upload.course_slug != slug or not ActionForm().validate_on_submit():
        abort(404 if upload is None or upload.course_slug != slug else 400)
    try:
        with commit_or_conflict():
            services.publish_upload(current_user, upload)
    except services.InvalidUpload:
        return redirect(url_for("authoring.preview", slug=slug, upload_id=upload_id))
    except Conflict:
        # A brand-new course published twice at the same moment (PostgreSQL): there was no
        # course row to lock yet, so the second insert of the slug fails. Nothing of it is kept.
        flash(_("Someone published this course at the same moment, so this upload was not published. "
                "Check the course's history, then publish again if this is the version you want."), "warning")
        return redirect(url_for("authoring.preview", slug=slug, upload_id=upload_id))
    flash(_("Published. Learners now see this version of the course."), "success")
    return redirect(url_for("authoring.course", slug=slug))


@bp.post("/<slug>/uploads/<int:upload_id>/restore")
@login_required
def restore(slug: str, upload_id: int):
    course = load_course(slug)
    earlier = load_upload(course, upload_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    copy = services.restore_upload(current_user, earlier)
    db.session.commit()
    return redirect(url_for("authoring.preview", slug=slug, upload_id=copy.id))


@bp.get("/<slug>/download")
@login_required
def download(slug: str):
    course = load_course(slug)
    try:
        data = services.course_zip(current_user, course)
    except FileNotFoundError:
        abort(404)
    response = current_app.response_class(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f"attachment; filename={course.slug}.zip"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


@bp.get("/<slug>/quizzes/<item_slug>.<lang>.gift")
@login_required
def quiz_gift(slug: str, item_slug: str, lang: str):
    course = load_course(slug)
    try:
        text = services.quiz_as_gift(current_user, course, item_slug, lang)
    except LookupError:
        abort(404)
    response = current_app.response_class(text, mimetype="text/plain", content_type="text/plain; charset=utf-8")
    response.headers["Content-Disposition"] = f"attachment; filename={item_slug}.{lang}.gift"
    return response


@bp.post("/<slug>/authors")
@login_required
def add_author(slug: str):
    course = load_course(slug)
    require(current_user, "course.grant_author", course)
    form = AuthorForm()
    user = None
    if form.validate_on_submit():
        user = queries.account_by_email(form.email.data)
        if user is None:
            form.email.errors.append(_("There is no account with this e-mail address; invite the person first."))
    if user is None:
        return render_template("authoring/course.html", course=course, form=UploadForm(), action_form=ActionForm(),
                               author_form=form, uploads=services.uploads_of(course),
                               quizzes=services.quiz_translations(course),
                               authors=services.authors_of(course), problems=None, error=None,
                               may_grant=can(current_user, "course.grant_author", course)), 422
    services.grant_author(current_user, course, user)
    db.session.commit()
    flash(_("%(name)s may now upload and publish this course.", name=user.name), "success")
    return redirect(url_for("authoring.course", slug=slug))


@bp.post("/<slug>/authors/<int:user_id>/remove")
@login_required
def remove_author(slug: str, user_id: int):
    course = load_course(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.revoke_author(current_user, course, user_id)
    db.session.commit()
    flash(_("The author was removed."), "success")
    return redirect(url_for("authoring.course", slug=slug))
