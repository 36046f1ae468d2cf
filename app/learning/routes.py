"""The learner's pages: home, catalogue, course, lesson, mark as done, course media."""
from __future__ import annotations

import mimetypes
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app.content.folders import course_folder
from app.core.authz import can
from app.core.errors import render_error
from app.core.header import header_facts
from app.core.i18n import current_lang
from app.extensions import db
from app.learning import access, conditional, queries, services
from app.learning.lookup import item_view, load_course, load_item, page_parts

bp = Blueprint("learning", __name__)

@bp.get("/")
@login_required
def home():
    """Each role's work first: reviews waiting for a mentor, cohorts for a trainer or an admin,
    then the courses the person learns in."""
    lang = current_lang()
    cards = queries.course_cards(current_user, enrolled_only=True)
    # The header's facts (one statement per request, computed anyway) say which lists to load.
    facts = header_facts(current_user)
    cohorts = (queries.cohorts_led_by(current_user)
               if current_user.is_admin or facts.get("is_trainer") else [])
    # What higher layers add (the mentor's reviews): app/learning/lookup.py, registered in create_app.
    parts = page_parts("home", current_user, lang, facts)
    return render_template("learning/home.html", cards=cards, lang=lang, cohorts=cohorts, **parts,
                           may_list_certificates=can(current_user, "certificate.list"), form=FlaskForm())


@bp.get("/courses")
@login_required
def catalogue():
    return render_template("learning/catalogue.html", cards=queries.course_cards(current_user),
                           lang=current_lang(), form=FlaskForm())


@bp.get("/courses/<slug>")
@login_required
def course(slug: str):
    course = load_course(slug)
    outline = queries.course_outline(current_user, course, current_lang())
    # The completion rule's state and the certificate: parts the certificates package registers.
    parts = page_parts("course", current_user, course)
    return render_template("learning/course.html", outline=outline, lang=current_lang(), form=FlaskForm(),
                           **parts)


@bp.post("/courses/<slug>/enrol")
@login_required
def enrol(slug: str):
    course = load_course(slug)
    if not FlaskForm().validate_on_submit():
        abort(400)
    services.enrol(current_user, course)
    db.session.commit()
    flash(_("You are enrolled. Welcome to the course!"), "success")
    return redirect(url_for("learning.course", slug=slug))


@bp.get("/courses/<slug>/<item_slug>")
@login_required
def item(slug: str, item_slug: str):
    course = load_course(slug)
    lang = current_lang()
    outline = queries.course_outline(current_user, course, lang)
    row = outline.find(item_slug)  # the outline has the course's live items: no second query
    if row is None:
        abort(404)
    item = row.item
    if row.lock is not None:
        # Listed but not enterable: say why and what opens it (app/learning/access.py).
        return _locked_page(outline, row, lang)
    translation = queries.translation_for(item, lang)
    if translation is None:
        abort(404)
    view = item_view(item.kind)
    if view is not None:
        return view(course=course, item=item, translation=translation, outline=outline, lang=lang)
    before, after = outline.neighbours(item)
    etag = conditional.lesson_etag(course=course, item=item, translation=translation, before=before,
                                   after=after, done=row.done, lang=lang)
    if etag is not None and conditional.is_fresh(etag):
        return conditional.not_modified(etag)
    return conditional.with_etag(make_response(render_template(
        "learning/lesson.html", course=course, item=item, translation=translation, outline=outline,
        before=before, after=after, lang=lang, form=FlaskForm(), done=row.done)), etag)


def _locked_page(outline, row, lang: str):
    return render_template("learning/locked.html", course=outline.course, row=row, outline=outline,
                           lang=lang), 403


@bp.app_errorhandler(access.ItemLocked)
def item_locked(error: access.ItemLocked):
    """A write to an item that is not open to the learner (a quiz, an assignment, a lesson, posted
    directly): nothing of the request is kept, and the page says why, as the item's page would."""
    db.session.rollback()
    message = _("This item is not open to you yet.")
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error="locked", message=message), 403
    if error.item is None:
        return render_error(403, message)
    lang = current_lang()
    outline = queries.course_outline(current_user, error.item.course, lang)
    row = outline.find(error.item.slug)
    if row is None or row.lock is None:  # opened meanwhile: the plain refusal
        return render_error(403, message)
    return _locked_page(outline, row, lang)


@bp.post("/courses/<slug>/<item_slug>/done")
@login_required
def mark_done(slug: str, item_slug: str):
    course = load_course(slug)
    item = load_item(course, item_slug)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        services.mark_lesson_done(current_user, item)
    except services.NotALesson:
        abort(400)
    db.session.commit()
    outline = queries.course_outline(current_user, course, current_lang())
    _before, after = outline.neighbours(item)
    if after is not None and after.lock is not None:  # go on with the next item that is open
        after = outline.next_row if outline.next_row is not None and outline.next_row.lock is None else None
        if after is None:
            return redirect(url_for("learning.course", slug=slug))
    if after is not None:
        return redirect(url_for("learning.item", slug=slug, item_slug=after.item.slug))
    flash(_("Well done: you reached the end of the course."), "success")
    return redirect(url_for("learning.course", slug=slug))


@bp.get("/media/<slug>/<digest>/<path:relpath>")
@login_required
def media(slug: str, digest: str, relpath: str):
    course = load_course(slug)
    row = queries.course_media(course, relpath)
    if row is None or not row.sha256.startswith(digest) or len(digest) < 12:
        abort(404)
    root = course_folder(course).resolve()  # its published upload, or COURSES_DIR/<slug>
    path = (root / row.path).resolve()
    if not path.is_relative_to(root) or not path.is_file() or path.is_symlink():
        abort(404)
    accel = current_app.config.get("MEDIA_ACCEL_PREFIX")
    if accel and course.upload_id is None:
        # Authorised here; nginx sends the bytes from its internal location (deploy/nginx).
        response = current_app.response_class(mimetype=mimetypes.guess_type(path.name)[0]
                                              or "application/octet-stream")
        response.headers["X-Accel-Redirect"] = f"{accel.rstrip('/')}/{quote(course.slug)}/{quote(row.path)}"
    else:
        response = send_file(path, max_age=31536000, conditional=True, etag=row.sha256)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    if path.suffix.lower() == ".pdf":
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{path.name}"
    return response
