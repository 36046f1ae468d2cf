"""The trainer's pages: their cohorts, the dashboard, one learner, charts and exports."""
from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.cohorts import allocation, announcements, charts, exports, queries, reports, schedule
from app.cohorts import announcements_queries as message_queries
from app.cohorts.access import trains_any_expression
from app.cohorts.announcements_forms import MessageForm
from app.cohorts.forms import (
    ActionForm,
    FilterForm,
    LearnerMentorForm,
    ReleaseForm,
    fill_filter_choices,
    filters_from,
    options,
    prepare_filter_form,
)
from app.cohorts.labels import RISK_EXPLANATIONS, RISK_NAMES, STATE_SYMBOLS, chart_labels, risk_text, state_labels
from app.cohorts.models import LEARNER, Cohort
from app.cohorts.services import CohortError, membership_of
from app.content.models import Item
from app.content.render import render_markdown
from app.core.authz import can, require
from app.core.dates import file_stamp
from app.core.errors import Conflict, status_of
from app.core.header import register_header_fact, register_nav_flag
from app.core.i18n import current_lang
from app.core.views import commit_or_conflict
from app.database import reload_expired, utcnow
from app.extensions import db

bp = Blueprint("cohorts", __name__)
ASSETS = Path(__file__).with_name("static")
ASSET_FILES = ("continue.js",)
CHART_KINDS = ("completion", "scores")
FILTER_ARGS = ("course", "municipality", "mentor", "state", "risk", "q", "sort", "order")  # kept across pages


@lru_cache(maxsize=len(ASSET_FILES))
def _digest(filename: str) -> str:
    return hashlib.sha256((ASSETS / filename).read_bytes()).hexdigest()[:12]


@bp.app_template_global("cohort_asset_url")
def cohort_asset_url(filename: str) -> str:
    """The URL of one of this feature's files, with a hash of its content (as static_url does)."""
    return url_for("cohorts.asset", filename=filename, v=_digest(filename))


@bp.get("/cohorts/assets/<filename>")
@login_required
def asset(filename: str):
    """This feature's stylesheet and script. Only the cohort pages use them, and those need a
    sign-in, so these do too: the site's public routes stay the ones docs/security.md AUTHZ-1 lists."""
    if filename not in ASSET_FILES:
        abort(404)
    response = send_from_directory(ASSETS, filename, max_age=0)
    if request.args.get("v") == _digest(filename):
        response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


def register() -> None:
    """Called by create_app: the header's "trains a cohort" fact, and its link to the cohorts
    (`nav.may_see_cohorts`: admins and trainers)."""
    register_header_fact("is_trainer", trains_any_expression)
    register_nav_flag("may_see_cohorts", lambda user, facts: bool(user.is_admin or facts["is_trainer"]))


def load_cohort(cohort_id: int, action: str = "cohort.view") -> Cohort:
    """The cohort, or 404 — also for people who may not see it, so its existence stays secret."""
    cohort = db.session.get(Cohort, cohort_id, options=[selectinload(Cohort.courses)])
    if cohort is None:
        abort(404)
    require(current_user, action, cohort, hide=True)
    return cohort


def load_learner(cohort: Cohort, user_id: int) -> User:
    """A learner of this cohort, or 404."""
    membership = membership_of(cohort, user_id)
    if membership is None or membership.role != LEARNER:
        abort(404)
    return db.session.get_one(User, user_id)  # a member is a user (foreign key)


def mentor_choices(cohort: Cohort, none_label: str) -> list[tuple[int, str]]:
    """The cohort's mentors as (id, name), after a "none" entry with this label."""
    return [(0, none_label)] + [(user_id, name or email) for user_id, name, email in queries.mentors_of(cohort)]


@bp.get("/cohorts")
@login_required
def index():
    require(current_user, "cohort.list")
    cohorts = queries.cohort_list(None if current_user.is_admin else current_user.id)
    return render_template("cohorts/index.html", cohorts=cohorts, may_create=can(current_user, "cohort.admin"))


@bp.get("/cohorts/<int:cohort_id>")
@login_required
def dashboard(cohort_id: int):
    cohort = load_cohort(cohort_id)
    lang = current_lang()
    form = FilterForm(formdata=request.args)
    prepare_filter_form(form, cohort, lang)
    board = reports.dashboard(cohort, filters_from(form), lang, utcnow())
    fill_filter_choices(form, board.municipalities, board.mentors)
    args = {name: request.args[name] for name in FILTER_ARGS if name in request.args}
    return render_template("cohorts/dashboard.html", cohort=cohort, board=board, form=form, labels=state_labels(),
                           symbols=STATE_SYMBOLS, risk_text=risk_text, page_args=args,
                           risk_explanations=RISK_EXPLANATIONS, risk_names=RISK_NAMES,
                           may_manage=can(current_user, "cohort.manage", cohort))


@bp.get("/cohorts/<int:cohort_id>/learners/<int:user_id>")
@login_required
def learner(cohort_id: int, user_id: int):
    cohort = load_cohort(cohort_id)
    person = load_learner(cohort, user_id)
    columns = queries.columns_of(cohort, current_lang())
    page = reports.learner_page(cohort, person, columns)
    form = LearnerMentorForm(mentor_id=page.mentor.id if page.mentor else 0)
    form.mentor_id.choices = options(mentor_choices(cohort, _("No mentor")))
    may_manage = can(current_user, "cohort.manage", cohort)
    releases = reports.releases(cohort, person, columns, current_lang(), utcnow()) if may_manage else None
    return render_template("cohorts/learner.html", cohort=cohort, page=page, form=form, labels=state_labels(),
                           symbols=STATE_SYMBOLS, remove_form=ActionForm(),
                           membership=membership_of(cohort, person.id), may_manage=may_manage,
                           releases=releases,
                           release_form=ActionForm())


def _change_release(cohort_id: int, user_id: int, change, done, *, conflict_is_done: bool):
    """Release one item for the learner, or take the release back (`change`), and go back to
    their page; `done(person)` is the message. `conflict_is_done`: the same change twice at once
    leaves it made."""
    cohort = load_cohort(cohort_id, "cohort.manage")
    person = load_learner(cohort, user_id)
    form = ReleaseForm()
    if not form.validate_on_submit():
        abort(400)
    item = db.session.get(Item, form.item_id.data)
    try:
        with commit_or_conflict():
            change(current_user, cohort, person, item)
    except schedule.ScheduleError as error:
        db.session.rollback()
        flash(str(error), "error")
    except Conflict:
        if not conflict_is_done:
            raise
    else:
        flash(done(person), "success")
    return redirect(url_for("cohorts.learner", cohort_id=cohort_id, user_id=user_id) + "#locked")


@bp.post("/cohorts/<int:cohort_id>/learners/<int:user_id>/release")
@login_required
def release(cohort_id: int, user_id: int):
    """Open one locked item now for this learner (idempotent)."""
    return _change_release(cohort_id, user_id, schedule.release,
                           lambda person: _("Released: %(name)s can open it now.", name=person.display_name),
                           conflict_is_done=True)


@bp.post("/cohorts/<int:cohort_id>/learners/<int:user_id>/unrelease")
@login_required
def unrelease(cohort_id: int, user_id: int):
    """Take an early release back: the item's date and prerequisites hold again."""
    return _change_release(cohort_id, user_id, schedule.unrelease,
                           lambda _person: _("The early release was taken back."), conflict_is_done=False)


@bp.post("/cohorts/<int:cohort_id>/learners/<int:user_id>/mentor")
@login_required
def set_mentor(cohort_id: int, user_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    person = load_learner(cohort, user_id)
    form = LearnerMentorForm()
    form.mentor_id.choices = options(mentor_choices(cohort, ""))
    if not form.validate_on_submit():
        abort(400)
    try:
        if form.mentor_id.data:
            # The form accepts only the ids of this cohort's mentors.
            allocation.assign_mentor(current_user, cohort, person, db.session.get_one(User, form.mentor_id.data))
        else:
            allocation.unassign_mentor(current_user, cohort, person)
    except CohortError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Saved."), "success")
    return redirect(url_for("cohorts.learner", cohort_id=cohort.id, user_id=person.id))


@bp.get("/cohorts/<int:cohort_id>/charts/<kind>")
@login_required
def chart_page(cohort_id: int, kind: str):
    """The chart with its text alternative: a sentence and the figures as a table."""
    cohort = load_cohort(cohort_id)
    if kind not in CHART_KINDS:
        abort(404)
    data, labels = reports.chart_data(cohort, kind, current_lang()), chart_labels(kind)
    return render_template("cohorts/chart.html", cohort=cohort, kind=kind, data=data, labels=labels,
                           key=charts.chart_key(kind, data, labels),
                           weekly=reports.weekly(data) if kind == "completion" else [])


@bp.get("/cohorts/<int:cohort_id>/charts/<kind>.svg")
@login_required
def chart(cohort_id: int, kind: str):
    cohort = load_cohort(cohort_id)
    if kind not in CHART_KINDS:
        abort(404)
    data, labels = reports.chart_data(cohort, kind, current_lang()), chart_labels(kind)
    key = charts.chart_key(kind, data, labels)
    draw = charts.completion_svg if kind == "completion" else charts.scores_svg
    response = make_response(charts.cached(key, lambda: draw(data, labels)))
    response.mimetype = "image/svg+xml"
    response.set_etag(key)
    # Under ?v=<key> the content never changes, so browsers may keep it; otherwise they ask
    # again each time and get 304 Not Modified while the data is the same.
    fixed = request.args.get("v") == key
    response.headers["Cache-Control"] = "private, max-age=86400" if fixed else "private, no-cache"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response.make_conditional(request)


@bp.get("/cohorts/<int:cohort_id>/exports/<kind>.csv")
@login_required
def export(cohort_id: int, kind: str):
    cohort = load_cohort(cohort_id)
    if kind not in exports.KINDS:
        abort(404)
    now = utcnow()
    body = exports.build(kind, cohort, queries.columns_of(cohort, current_lang()), current_lang(), now)
    response = make_response(body)
    response.mimetype = "text/csv"  # werkzeug adds "; charset=utf-8" to a text type
    response.headers["Content-Disposition"] = (
        f'attachment; filename="cohort-{cohort.id}-{kind}-{file_stamp(now)}.csv"')
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- messages to learners (announcements.py) ---------------------------------------------------

@bp.get("/cohorts/<int:cohort_id>/messages")
@login_required
def messages(cohort_id: int):
    cohort = load_cohort(cohort_id)
    return render_template("cohorts/messages.html", cohort=cohort,
                           sent=message_queries.sent_messages(cohort, current_lang()),
                           may_write=can(current_user, "cohort.message", cohort))


def _compose_page(cohort: Cohort, form: MessageForm, error: str = "", status: int = 200):
    """The compose page: who the message would reach now (its digest goes into the form)."""
    columns = queries.columns_of(cohort, current_lang())
    if form.form_token.errors:  # a form that lost its token gets a new one
        form.form_token.data = secrets.token_urlsafe(24)
    group = None
    try:
        group = announcements.compose(current_user, cohort, form.to.data, current_lang(), utcnow(), columns)
    except CohortError as problem:
        error, status = error or str(problem), 400 if status == 200 else status
    else:
        form.confirmed.data = group.digest
    return render_template("cohorts/messages_new.html", cohort=cohort, form=form, group=group, error=error,
                           audiences=announcements.audience_choices(columns, group)), status


@bp.get("/cohorts/<int:cohort_id>/messages/new")
@login_required
def new_message(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.message")
    return _compose_page(cohort, MessageForm(to=request.args.get("to", "all"), form_token=secrets.token_urlsafe(24)))


@bp.post("/cohorts/<int:cohort_id>/messages/new")
@login_required
def send_message(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.message")
    form = MessageForm()
    if not form.validate_on_submit():
        return _compose_page(cohort, form, status=400)
    try:
        with commit_or_conflict():
            sent = announcements.send_announcement(
                current_user, cohort, to=form.to.data, subject=form.subject.data, body=form.body.data,
                confirmed=form.confirmed.data or "", form_token=form.form_token.data, lang=current_lang(),
                now=utcnow())
            message_id = sent.message.id  # read before the commit expires it
    except (CohortError, Conflict) as error:
        db.session.rollback()
        reload_expired(cohort, current_user._get_current_object())
        return _compose_page(cohort, form, error=str(error), status=status_of(error))
    if sent.replayed:
        flash(_("This message was sent already; it was not sent again."), "success")
    else:
        flash(ngettext("Sent to %(num)d learner.", "Sent to %(num)d learners.", sent.recipients), "success")
    return redirect(url_for("cohorts.message", announcement_id=message_id))


@bp.get("/messages/<int:announcement_id>")
@login_required
def message(announcement_id: int):
    """A message: for its recipients, and for the cohort's trainers with its recipients."""
    found = message_queries.load_message(announcement_id)
    if found is None:
        abort(404)
    cohort, may_manage = announcements.open_message(current_user, found)
    page = message_queries.message_page(found, cohort, current_lang(), with_recipients=may_manage)
    return render_template("cohorts/messages_show.html", page=page, may_manage=may_manage, render=render_markdown)
