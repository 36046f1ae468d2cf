"""Quiz pages: the quiz's page, an attempt (no JavaScript needed), its result, the report."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload

from app.content.models import Item
from app.core.authz import can, require
from app.core.errors import Conflict, status_of
from app.core.i18n import current_lang
from app.core.views import commit_or_conflict
from app.database import reload_expired, start_writing
from app.extensions import db
from app.learning import queries as learning_queries
from app.learning.lookup import load_course, load_item
from app.quizzes import grading, report, services
from app.quizzes.form_answers import CHOICE_TYPES, answers_from_form, option_tokens
from app.quizzes.models import QuizAttempt
from app.quizzes.types import MAX_TYPED_ANSWER

bp = Blueprint("quizzes", __name__)


def quiz_view(*, course, item, translation, outline, lang):
    summary = services.summary(current_user, item, translation)
    quiz = services.quiz_of(translation)
    return render_template("quizzes/quiz.html", course=course, item=item, translation=translation,
                           outline=outline, lang=lang, summary=summary, form=FlaskForm(),
                           settings=quiz.settings, quiz=quiz,
                           may_see_report=can(current_user, "quiz.report_all", item))




@bp.post("/courses/<slug>/<item_slug>/attempts")
@login_required
def start(slug: str, item_slug: str):
    course = load_course(slug)
    item = load_item(course, item_slug)
    translation = learning_queries.translation_for(item, current_lang())
    if translation is None:
        abort(404)
    try:
        with commit_or_conflict():
            attempt = services.start_attempt(current_user, item, translation)
    except services.NoAttemptsLeft:
        flash(_("You have used all the attempts this quiz allows."), "error")
        return redirect(url_for("learning.item", slug=slug, item_slug=item_slug))
    except Conflict:  # a simultaneous start made the same attempt: use that one
        attempt = next(a for a in services.attempts_of(current_user, item) if not a.is_finished)
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))


def _load_attempt(attempt_id: int):
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None:
        abort(404)
    require(current_user, "attempt.view", attempt, hide=True)
    item = db.session.get_one(Item, attempt.item_id, options=[joinedload(Item.course)])  # the pages link to it
    translation = learning_queries.translation_for(item, attempt.lang)
    if translation is None:
        abort(404)
    return attempt, item, translation


def attempt_page(attempt, item, translation, quiz, *, error=None, status=200, answers=None):
    """The questions as the learner sees them, with their saved answers (or `answers`) filled in."""
    reload_expired(attempt, item, translation)  # after a refused save's rollback
    layout = grading.attempt_layout(quiz, attempt.seed)
    questions = grading.public_questions(quiz, layout)
    shown = dict(attempt.answers if answers is None else answers)
    for view in questions:
        if view["type"] in CHOICE_TYPES:
            to_token = {option_id: token for token, option_id in option_tokens(layout, view["id"]).items()}
            for option in view["options"]:
                option["id"] = to_token[option["id"]]
            shown[view["id"]] = [to_token[i] for i in shown.get(view["id"], []) if i in to_token]
    return render_template("quizzes/attempt.html", attempt=attempt, item=item, translation=translation,
                           questions=questions, answers=shown, form=FlaskForm(), error=error,
                           max_answer=MAX_TYPED_ANSWER), status


@bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    attempt, item, translation = _load_attempt(attempt_id)
    if attempt.state == services.IN_PROGRESS and services.is_overdue(attempt):
        # Rare: closing an overdue attempt writes, so read it again under the write lock.
        start_writing()
        attempt, item, translation = _load_attempt(attempt_id)
        if services.close_if_overdue(attempt, translation):
            db.session.commit()
    if attempt.is_finished:
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    return attempt_page(attempt, item, translation, services.quiz_of(translation))


def _sequence() -> int:
    try:
        return int(request.form.get("sequence", ""))
    except ValueError:
        abort(400)


@bp.post("/attempts/<int:attempt_id>")
@login_required
def save_or_submit(attempt_id: int):
    attempt, item, translation = _load_attempt(attempt_id)
    quiz = services.quiz_of(translation)
    answers = answers_from_form(quiz, grading.attempt_layout(quiz, attempt.seed), request.form)
    wants_json = request.accept_mimetypes.best == "application/json"
    late = services.is_overdue(attempt)
    try:
        if request.form.get("action") == "submit":
            services.finish_attempt(current_user, attempt, translation, answers, _sequence())
        else:
            services.save_answers(current_user, attempt, answers, _sequence())
        db.session.commit()
    except services.StaleForm as stale:
        db.session.rollback()
        if wants_json:
            return jsonify(error="stale", sequence=attempt.sequence), status_of(stale)
        if attempt.is_finished:
            return redirect(url_for("quizzes.result", attempt_id=attempt.id))
        message = _("These answers come from an older copy of the page (the back button or another tab). "
                    "Your newer answers are kept; check them below.")
        return attempt_page(attempt, item, translation, quiz, error=message, status=status_of(stale))
    except services.AnswerTooLong as error:
        db.session.rollback()
        if wants_json:
            return jsonify(saved=False, error="too_long", message=str(error), sequence=attempt.sequence), \
                status_of(error)
        return attempt_page(attempt, item, translation, quiz, error=str(error), status=status_of(error),
                            answers=answers)
    except services.TimeUp:
        services.close_if_overdue(attempt, translation)  # grade what was saved in time
        db.session.commit()
        return _time_is_up(attempt, wants_json)
    if late and attempt.is_finished:
        return _time_is_up(attempt, wants_json)
    if wants_json:
        return jsonify(saved=True, sequence=attempt.sequence)
    if attempt.is_finished:
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    flash(_("Your answers are saved."), "success")
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))


def _time_is_up(attempt, wants_json: bool):
    """Say that answers sent after the time limit were not taken, and where the result is."""
    message = _("The time limit has passed: these answers were not saved. Your attempt was handed in "
                "with the answers saved before the limit.")
    result_url = url_for("quizzes.result", attempt_id=attempt.id)
    if wants_json:
        return jsonify(saved=False, error="time_up", message=message, result=result_url), 409
    flash(message, "error")
    return redirect(result_url)


@bp.get("/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id: int):
    attempt, item, translation = _load_attempt(attempt_id)
    if not attempt.is_finished:
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    quiz = services.quiz_of(translation)
    summary = services.summary(current_user, item, translation)
    visible = grading.feedback_visible(quiz.settings, summary.passed, len(summary.attempts))
    layout = grading.attempt_layout(quiz, attempt.seed)
    graded = grading.grade_attempt(quiz, grading.parse_answers(quiz, layout, attempt.answers))
    return render_template("quizzes/result.html", attempt=attempt, item=item, translation=translation,
                           quiz=quiz, results={r.question_id: r for r in graded.per_question},
                           visible=visible, summary=summary, form=FlaskForm(),
                           correct=report.correct_answers_html(quiz) if visible else {})


@bp.get("/courses/<slug>/<item_slug>/report")
@login_required
def quiz_report(slug: str, item_slug: str):
    course = load_course(slug)
    item = load_item(course, item_slug)
    chosen = request.args.get("cohort", "")
    if chosen and not (chosen.isascii() and chosen.isdigit()):
        abort(404)  # no such cohort
    scope = report.report_scope(current_user, item, int(chosen) if chosen else None)
    translation = learning_queries.translation_for(item, current_lang())
    if translation is None:
        abort(404)
    return render_template("quizzes/report.html", course=course, item=item, translation=translation, scope=scope,
                           report=report.quiz_report(item, services.quiz_of(translation), scope))
