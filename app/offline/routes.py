"""Offline use: the service worker and manifest at the site root, the offline page, the script's
strings, what a course needs on a phone, and the replay of writes made offline."""
from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from app.content.models import Item
from app.core.authz import AccessDenied
from app.core.i18n import current_lang
from app.extensions import db
from app.learning import queries as learning_queries
from app.learning.access import ItemLocked
from app.learning.lookup import load_course, load_item
from app.offline import services
from app.quizzes import grading
from app.quizzes import services as quiz_services
from app.quizzes.form_answers import answers_from_form
from app.quizzes.models import QuizAttempt

bp = Blueprint("offline", __name__)

KEY = re.compile(r"^[A-Za-z0-9-]{16,64}$")
MAX_TEXT = 200_000


def script_strings() -> dict[str, str]:
    """What offline.js and sw.js say, in the learner's language (served as JSON, never inline)."""
    return {
        "lang": current_lang(),
        "copy": _("Offline copy, saved %(date)s.", date="{date}"),
        "keep_confirm": _("Keeping this course downloads about %(size)s. Continue?", size="{size}"),
        "keeping": _("Downloading: %(done)s of %(total)s", done="{done}", total="{total}"),
        "kept": _("This course is kept on this phone (%(size)s), saved %(date)s.", size="{size}", date="{date}"),
        "keep_failed": _("The download stopped (no connection?). Try again when you are online."),
        "queued_done": _("Marked as done on this phone. It will be sent when you are back online."),
        "queued_quiz": _("Your answers are kept on this phone and will be saved when you are back online. "
                         "Handing in needs a connection."),
        "queued_draft": _("Your text is kept on this phone and will be saved when you are back online. "
                          "Files are attached online only; submitting needs a connection."),
        "waiting": _("Waiting to be sent: %(num)s", num="{num}"),
        "sent": _("Everything you did offline has been sent."),
        "problems": _("Some of what you did offline could not be saved. See the details on the offline page."),
        "sign_in": _("Sign in to send what you did offline."),
        "sign_out_confirm": _("%(num)s changes made offline have not been sent yet and will be lost "
                              "if you sign out now. Sign out anyway?", num="{num}"),
        "copy_text": _("Your text"),
        "dismiss": _("Dismiss"),
        "none_stored": _("Nothing is stored on this phone yet."),
        "none_waiting": _("Nothing is waiting to be sent."),
        "kind_done": _("Mark as done"),
        "kind_quiz": _("Quiz answers"),
        "kind_draft": _("Assignment draft"),
    }


def refusal_message(code: str) -> str:
    messages = {
        "not_a_lesson": _("Only lessons can be marked as done."),
        "quiz_closed": _("This quiz attempt was handed in or closed before your offline answers arrived, so "
                         "they were not saved. They are shown here."),
        "quiz_time_up": _("The time for this quiz attempt ran out before your offline answers arrived, so "
                          "they were not saved. They are shown here."),
        "quiz_stale": _("Newer answers to this quiz were saved from another tab or device, so your offline "
                        "answers were not saved. They are shown here; open the quiz to check."),
        "draft_conflict": _("Your draft was changed in another tab or device while you worked offline, so your "
                            "offline text was not saved. It is shown here: copy it into the assignment page."),
        "draft_submitted": _("This work was submitted before your offline text arrived, so the text was not "
                             "saved. It is shown here so that you can copy it."),
        "not_found": _("This page is no longer available to you, so this change could not be saved."),
        "locked": _("This item is not open to you yet (its opening date, or items to finish first), so this "
                    "change could not be saved. Open the item to see why."),
    }
    return messages[code]


def refused(code: str, status: int, **extra):
    return jsonify(error=code, message=refusal_message(code), **extra), status


@bp.get("/sw.js")
def service_worker():
    """Served from the root so that its scope covers the whole site."""
    if current_app.static_folder is None:  # Flask's default (app/static) is never switched off here
        abort(404)
    response = send_from_directory(current_app.static_folder, "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    icons = [{"src": url_for("static", filename="icons/nergi.svg"), "sizes": "any", "type": "image/svg+xml"}]
    icons += [{"src": url_for("static", filename=f"icons/nergi-{size}.png"), "sizes": f"{size}x{size}",
               "type": "image/png"} for size in (192, 512)]
    body = {"name": "Nergi", "short_name": "Nergi", "lang": current_lang(),
            "description": _("Courses, quizzes and assignments of the programme, also offline."),
            "start_url": "/", "scope": "/", "display": "standalone",
            "theme_color": "#2f6b3a", "background_color": "#ffffff", "icons": icons}
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/offline")
def offline_page():
    return render_template("offline/offline.html", lang=current_lang())


@bp.get("/offline/strings.json")
def strings():
    response = jsonify(script_strings())
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/offline/state.json")
def state():
    """Who is signed in (as the phone's store knows them) and a CSRF token for the replay."""
    if not current_user.is_authenticated:
        return jsonify(user=None), 401
    return jsonify(user=services.user_tag(current_user), csrf=generate_csrf())


@bp.get("/offline/courses/<slug>.json")
@login_required
def course_bundle(slug: str):
    course = load_course(slug)
    return jsonify(services.course_bundle(current_user, course, current_lang()))


def _apply(kind: str, payload: dict) -> dict:
    if kind == "done":
        course = load_course(str(payload.get("course", "")))
        return services.mark_done(current_user, load_item(course, str(payload.get("item", ""))))
    if kind == "quiz":
        attempt = db.session.get(QuizAttempt, _int(payload.get("attempt")))
        if attempt is None:
            abort(404)
        item = db.session.get_one(Item, attempt.item_id)
        translation = learning_queries.translation_for(item, attempt.lang)
        if translation is None:
            abort(404)
        quiz = quiz_services.quiz_of(translation)
        fields = payload.get("answers")
        if not isinstance(fields, dict):
            abort(400)
        form = MultiDict([(str(name), str(value)[:MAX_TEXT]) for name, values in fields.items()
                          for value in (values if isinstance(values, list) else [values])])
        answers = answers_from_form(quiz, grading.attempt_layout(quiz, attempt.seed), form)
        return services.save_quiz_answers(current_user, attempt, answers, _int(payload.get("sequence")))
    course = load_course(str(payload.get("course", "")))
    item = load_item(course, str(payload.get("item", "")))
    body = payload.get("body")
    if not isinstance(body, str) or len(body) > MAX_TEXT:
        abort(400)
    return services.save_draft(current_user, item, body, _int(payload.get("version")))


def _int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        abort(400)
    return int(value)


@bp.post("/offline/sync")
def sync():
    """One write made offline: {"kind": "done" | "quiz" | "draft", …} with an Idempotency-Key
    header. The same key again answers what the first answered, without writing again."""
    if not current_user.is_authenticated:
        return jsonify(error="signed_out", message=_("Sign in to send what you did offline.")), 401
    key = request.headers.get("Idempotency-Key", "")
    payload = request.get_json(silent=True)
    if not KEY.match(key) or not isinstance(payload, dict) or payload.get("kind") not in ("done", "quiz", "draft"):
        abort(400)
    try:
        row, is_new = services.claim_key(current_user, key, services.fingerprint(payload))
    except services.KeyReused:
        db.session.rollback()
        return jsonify(error="key_reused"), 422
    if not is_new:
        db.session.rollback()
        response = jsonify(row.response)
        response.status_code = row.status
        response.headers["Idempotent-Replayed"] = "true"
        return response
    try:
        result = _apply(payload["kind"], payload)
    except services.Refused as refusal:
        db.session.rollback()
        return refused(refusal.code, refusal.status, **refusal.extra)
    except ItemLocked:  # before AccessDenied: the same refusal as online, with the reason
        db.session.rollback()
        return refused("locked", 403)
    except (AccessDenied, NotFound):
        db.session.rollback()
        return refused("not_found", 404)
    services.remember(row, 200, result)
    db.session.commit()
    return jsonify(result)


@bp.after_app_request
def name_the_store(response: Response) -> Response:
    """Tell the service worker whose pages these are, so that it never shows one account's
    stored pages to another (it keeps one store per tag and drops the others)."""
    if response.mimetype == "text/html" and current_user and current_user.is_authenticated:
        response.headers["X-Nergi-User"] = services.user_tag(current_user)
    return response


# The learner's pages, where offline.js is loaded; other pages (dashboards, reviews, admin)
# carry no offline script and cost no request for it.
LEARNER_PAGES = frozenset({
    "learning.home", "learning.catalogue", "learning.course", "learning.item", "quizzes.attempt",
    "quizzes.save_or_submit", "quizzes.result", "assignments.save_work", "offline.offline_page",
})


@bp.app_context_processor
def offline_helpers():
    """For the templates: whether the page loads offline.js, the store's name (base.html) and a
    course's hash (course page)."""
    return {"offline_wanted": lambda: request.endpoint in LEARNER_PAGES,
            "offline_user_tag": lambda: services.user_tag(current_user), "offline_course_hash": services.course_hash}
