"""Pages that change a cohort: the admins' list and creation, settings and trainers, enrolment
by CSV (upload → preview → confirm), mentor allocation, and removing someone."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app.auth.models import User
from app.cohorts import allocation, enrolment, queries, reports, schedule, services
from app.cohorts.forms import (
    ActionForm,
    AssignForm,
    BalanceForm,
    CohortForm,
    ConfirmForm,
    ScheduleForm,
    ScheduleUploadForm,
    SettingsForm,
    TrainerForm,
    UploadForm,
    WeeklyForm,
    options,
    time_zones,
)
from app.cohorts.labels import kind_labels
from app.cohorts.models import MENTOR, TRAINER, Cohort, Membership
from app.cohorts.roster import RosterError, decode_roster
from app.cohorts.routes import load_cohort, mentor_choices
from app.core.authz import can, require
from app.core.dates import file_stamp
from app.core.errors import Conflict, status_of
from app.core.i18n import current_lang
from app.core.views import commit_or_conflict
from app.database import reload_expired, utcnow
from app.extensions import db

bp = Blueprint("cohort_admin", __name__)
PREVIEW_ROWS = 200


def _course_choices() -> list[tuple[int, str]]:
    return [(course.id, course.title(current_lang())) for course in queries.courses_to_choose()]


@bp.route("/admin/cohorts", methods=["GET", "POST"])
@login_required
def admin():
    require(current_user, "cohort.admin")
    form = CohortForm()
    form.courses.choices = options(_course_choices())
    if form.validate_on_submit():
        try:
            cohort = services.create_cohort(
                current_user, name=form.name.data, municipality=form.municipality.data,
                language=form.language.data, starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                courses=queries.courses_by_id(form.courses.data))
        except services.CohortError as error:
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Cohort created. Now appoint its trainers."), "success")
            return redirect(url_for("cohort_admin.settings", cohort_id=cohort.id))
    return render_template("cohorts/admin.html", form=form, cohorts=queries.cohort_list()), 400 if form.errors else 200


def _settings_page(cohort: Cohort, form: SettingsForm, trainer_form: TrainerForm, status: int = 200):
    return render_template("cohorts/settings.html", cohort=cohort, form=form, trainer_form=trainer_form,
                           trainers=queries.trainers_of(cohort), remove_form=ActionForm(),
                           is_admin=can(current_user, "cohort.admin")), status


@bp.route("/cohorts/<int:cohort_id>/settings", methods=["GET", "POST"])
@login_required
def settings(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    form = SettingsForm(obj=cohort, courses=cohort.course_ids)
    form.courses.choices = options(_course_choices())
    form.time_zone.choices = time_zones()
    if form.validate_on_submit():
        try:
            services.update_cohort(current_user, cohort, **{name: getattr(form, name).data for name in (
                "name", "municipality", "language", "starts_on", "ends_on", "risk_inactive_days",
                "risk_failed_attempts", "risk_unanswered_days", "risk_behind_points", "time_zone",
                "review_target_days")})
            if can(current_user, "cohort.admin"):
                services.set_courses(current_user, cohort, queries.courses_by_id(form.courses.data))
        except services.CohortError as error:
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("cohort_admin.settings", cohort_id=cohort.id))
    return _settings_page(cohort, form, TrainerForm(formdata=None), 400 if form.errors else 200)


@bp.post("/cohorts/<int:cohort_id>/trainers")
@login_required
def appoint(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    require(current_user, "cohort.admin")
    form = TrainerForm()
    if form.validate_on_submit():
        user = User.by_email(form.email.data)
        try:
            services.appoint_trainer(current_user, cohort, user)
        except services.CohortError as error:
            form.email.errors.append(str(error))
        else:
            assert user is not None  # the service refuses an address without an account
            db.session.commit()
            flash(_("%(name)s is now a trainer of this cohort.", name=user.display_name), "success")
            return redirect(url_for("cohort_admin.settings", cohort_id=cohort.id))
    settings_form = SettingsForm(formdata=None, obj=cohort, courses=cohort.course_ids)
    settings_form.courses.choices = options(_course_choices())
    settings_form.time_zone.choices = time_zones()
    return _settings_page(cohort, settings_form, form, 400)


@bp.post("/cohorts/<int:cohort_id>/members/<int:membership_id>/remove")
@login_required
def remove(cohort_id: int, membership_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.cohort_id != cohort.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    role = membership.role
    services.remove_member(current_user, cohort, membership)
    db.session.commit()
    flash(_("Removed from the cohort. Their work and history are kept."), "success")
    target = {TRAINER: "cohort_admin.settings", MENTOR: "cohort_admin.mentors"}.get(role, "cohorts.dashboard")
    return redirect(url_for(target, cohort_id=cohort.id))


# -- enrolment by CSV ------------------------------------------------------------------------

def _upload_page(cohort: Cohort, form: UploadForm, error: str = "", status: int = 200):
    return render_template("cohorts/enrol.html", cohort=cohort, form=form, error=error), status


@bp.get("/cohorts/<int:cohort_id>/enrol")
@login_required
def enrol(cohort_id: int):
    return _upload_page(load_cohort(cohort_id, "cohort.manage"), UploadForm())


@bp.post("/cohorts/<int:cohort_id>/enrol")
@login_required
def preview(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(cohort, form, _("Please correct the fields marked below."), 400)
    upload = request.files.get(form.file.name)
    try:
        if upload is not None and upload.filename:
            text = decode_roster(upload.read())
        elif (form.text.data or "").strip():
            text = form.text.data
        else:
            raise RosterError(_("Choose a CSV file, or paste the rows into the box."))
        plan = enrolment.plan_enrolment(current_user, cohort, text)
    except RosterError as error:
        return _upload_page(cohort, form, str(error), status_of(error))
    return render_template("cohorts/preview.html", cohort=cohort, plan=plan, limit=PREVIEW_ROWS,
                           form=ConfirmForm(token=enrolment.preview_token(plan)))


@bp.post("/cohorts/<int:cohort_id>/enrol/confirm")
@login_required
def confirm(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    earlier = (form.invited.data or 0, form.added.data or 0)
    try:
        with commit_or_conflict():
            text = enrolment.text_from_token(cohort, form.token.data)
            result = enrolment.apply_enrolment(current_user, cohort, text, limit=enrolment.CONFIRM_BATCH)
    except RosterError as error:
        return _upload_page(cohort, UploadForm(formdata=None), str(error), status_of(error))
    except Conflict as conflict:  # the same rows confirmed twice at once (PostgreSQL): one wins
        return _upload_page(cohort, UploadForm(formdata=None),
                            _("These people were being enrolled at the same "
                              "moment by another request. Check the dashboard."), status_of(conflict))
    invited, added = earlier[0] + result.invited, earlier[1] + result.added
    if result.remaining:
        reload_expired(cohort)  # the commit expired it
        return render_template("cohorts/continue.html", cohort=cohort, done=invited + added, remaining=result.remaining,
                               form=ConfirmForm(formdata=None, token=form.token.data, invited=invited, added=added))
    flash(" ".join([
        ngettext("%(num)d person invited.", "%(num)d people invited.", invited),
        ngettext("%(num)d existing account added.", "%(num)d existing accounts added.", added),
        ngettext("%(num)d row skipped.", "%(num)d rows skipped.", max(0, result.skipped - sum(earlier)))]), "success")
    return redirect(url_for("cohorts.dashboard", cohort_id=cohort.id))


# -- mentors -------------------------------------------------------------------------------------

def _mentors_page(cohort: Cohort, assign_form: AssignForm, balance_form: BalanceForm, status: int = 200):
    columns = queries.columns_of(cohort, current_lang())
    return render_template("cohorts/mentors.html", cohort=cohort, assign_form=assign_form,
                           balance_form=balance_form, remove_form=ActionForm(),
                           memberships=queries.mentor_memberships(cohort),
                           mentors=reports.mentor_loads(cohort, [c.item_id for c in columns]),
                           without=queries.learners_without_mentor(cohort)), status


def _assign_form(cohort: Cohort, formdata=None) -> AssignForm:
    form = AssignForm() if formdata is None else AssignForm(formdata=formdata)
    form.mentor_id.choices = options(mentor_choices(cohort, _("Choose a mentor")))
    return form


@bp.get("/cohorts/<int:cohort_id>/mentors")
@login_required
def mentors(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    return _mentors_page(cohort, _assign_form(cohort), BalanceForm(formdata=None))


@bp.post("/cohorts/<int:cohort_id>/mentors")
@login_required
def assign(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    form = _assign_form(cohort)
    if form.validate_on_submit():
        learner, mentor = User.by_email(form.learner_email.data), db.session.get(User, form.mentor_id.data or 0)
        try:
            allocation.assign_mentor(current_user, cohort, learner, mentor)
        except services.CohortError as error:
            form.learner_email.errors.append(str(error))
        else:
            assert learner is not None and mentor is not None  # the service refuses a missing one
            db.session.commit()
            flash(_("%(learner)s is now mentored by %(mentor)s.", learner=learner.display_name,
                    mentor=mentor.display_name), "success")
            return redirect(url_for("cohort_admin.mentors", cohort_id=cohort.id))
    return _mentors_page(cohort, form, BalanceForm(formdata=None), 400)


@bp.post("/cohorts/<int:cohort_id>/mentors/balance")
@login_required
def balance(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    form = BalanceForm()
    if form.validate_on_submit():
        try:
            result = allocation.allocate_balanced(current_user, cohort, form.cap.data)
        except services.CohortError as error:
            form.cap.errors.append(str(error))
        else:
            db.session.commit()
            message = ngettext("%(num)d learner got a mentor.", "%(num)d learners got a mentor.", result.assigned)
            if result.left_without:
                message += " " + ngettext("%(num)d learner is still without one: every mentor is at the limit.",
                                          "%(num)d learners are still without one: every mentor is at the limit.",
                                          result.left_without)
            flash(message, "success" if not result.left_without else "info")
            return redirect(url_for("cohort_admin.mentors", cohort_id=cohort.id))
    return _mentors_page(cohort, _assign_form(cohort, formdata=None), form, 400)


# -- the schedule --------------------------------------------------------------------------------

def _schedule_page(cohort: Cohort, *, form: ScheduleForm | None = None, weekly_form: WeeklyForm | None = None,
                   upload_form: ScheduleUploadForm | None = None, typed: dict[str, str] | None = None,
                   problems: dict[str, str] | None = None, error: str = "", lines=(), status: int = 200,
                   conflict: bool = False):
    tables = schedule.course_tables(cohort, current_lang())
    version = cohort.schedule_version or 0
    current = {}
    for table in tables:
        for item in table.items:
            current[f"opens-{item.id}"] = item.opens_on.isoformat() if item.opens_on else ""
            current[f"due-{item.id}"] = item.due_on.isoformat() if item.due_on else ""
    # After a conflict the form carries the current version (saving again is a decision taken
    # with the current dates shown beside what was typed).
    form = form or ScheduleForm(formdata=None)
    form.version.data = version
    weekly_form = weekly_form or WeeklyForm(formdata=None, start=cohort.starts_on)
    weekly_form.version.data = version
    upload_form = upload_form or ScheduleUploadForm(formdata=None)
    upload_form.version.data = version
    return render_template("cohorts/schedule.html", cohort=cohort, tables=tables, form=form,
                           weekly_form=weekly_form, upload_form=upload_form,
                           clear_form=ScheduleForm(formdata=None, version=version),
                           values={**current, **(typed or {})}, current=current if conflict else {},
                           problems=problems or {}, error=error, lines=lines, kinds=kind_labels(),
                           start=weekly_form.start.data or cohort.starts_on), status


def _typed_dates(cohort_items) -> tuple[dict[int, tuple[str, str]], dict[str, str]]:
    """The dates typed in the schedule table: by item id, and by field name (to show them again)."""
    typed: dict[int, tuple[str, str]] = {}
    fields: dict[str, str] = {}
    for item in cohort_items:
        opens_name, due_name = f"opens-{item.id}", f"due-{item.id}"
        if opens_name in request.form or due_name in request.form:
            opens, due = request.form.get(opens_name, "")[:20], request.form.get(due_name, "")[:20]
            typed[item.id] = (opens, due)
            fields[opens_name], fields[due_name] = opens, due
    return typed, fields


@bp.get("/cohorts/<int:cohort_id>/schedule")
@login_required
def schedule_page(cohort_id: int):
    return _schedule_page(load_cohort(cohort_id, "cohort.manage"))


@bp.post("/cohorts/<int:cohort_id>/schedule")
@login_required
def schedule_save(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    form = ScheduleForm()
    if not form.validate_on_submit():
        abort(400)
    typed, fields = _typed_dates(schedule.schedule_items(cohort))
    try:
        with commit_or_conflict():
            changed = schedule.set_dates(current_user, cohort, typed, form.version.data)
    except schedule.ScheduleError as error:
        db.session.rollback()
        reload_expired(cohort)
        return _schedule_page(cohort, typed=fields, problems=error.problems, error=str(error),
                              status=status_of(error))
    except Conflict as conflict:
        reload_expired(cohort)
        return _schedule_page(cohort, typed=fields, error=str(conflict) or str(schedule.STALE),
                              status=status_of(conflict), conflict=True)
    flash(ngettext("Saved: the dates of %(num)d item changed.", "Saved: the dates of %(num)d items changed.",
                   changed), "success")
    return redirect(url_for("cohort_admin.schedule_page", cohort_id=cohort.id))


@bp.post("/cohorts/<int:cohort_id>/schedule/weekly")
@login_required
def schedule_weekly(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    form = WeeklyForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _schedule_page(cohort, weekly_form=form, status=400)
    try:
        with commit_or_conflict():
            changed = schedule.fill_weekly(current_user, cohort, form.start.data, form.version.data)
    except (schedule.ScheduleError, Conflict) as error:
        db.session.rollback()
        reload_expired(cohort)
        form.start.errors = [*form.start.errors, str(error)]
        return _schedule_page(cohort, weekly_form=form, status=status_of(error))
    flash(ngettext("One module a week: the dates of %(num)d item changed.",
                   "One module a week: the dates of %(num)d items changed.", changed), "success")
    return redirect(url_for("cohort_admin.schedule_page", cohort_id=cohort.id))


@bp.post("/cohorts/<int:cohort_id>/schedule/clear")
@login_required
def schedule_clear(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    form = ScheduleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with commit_or_conflict():
            schedule.clear(current_user, cohort, form.version.data)
    except Conflict as conflict:
        reload_expired(cohort)
        return _schedule_page(cohort, error=str(conflict), status=status_of(conflict))
    flash(_("The cohort's own dates were removed."), "success")
    return redirect(url_for("cohort_admin.schedule_page", cohort_id=cohort.id))


@bp.get("/cohorts/<int:cohort_id>/schedule.csv")
@login_required
def schedule_download(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    response = make_response(schedule.schedule_csv(cohort, current_lang()))
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="cohort-{cohort.id}-schedule-{file_stamp(utcnow())}.csv"')
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/cohorts/<int:cohort_id>/schedule/upload")
@login_required
def schedule_upload(cohort_id: int):
    cohort = load_cohort(cohort_id, "cohort.manage")
    form = ScheduleUploadForm()
    if not form.validate_on_submit():
        abort(400)
    upload = request.files.get(form.file.name)
    try:
        if upload is None or not upload.filename:
            raise schedule.ScheduleError(_("Choose a CSV file."))
        data = upload.stream.read(schedule.MAX_BYTES + 1)
        with commit_or_conflict():
            changed = schedule.import_csv(current_user, cohort, data, form.version.data)
    except (schedule.ScheduleError, Conflict) as error:
        db.session.rollback()
        reload_expired(cohort)
        return _schedule_page(cohort, error=str(error), lines=getattr(error, "lines", []),
                              status=status_of(error))
    flash(ngettext("Imported: the dates of %(num)d item changed.", "Imported: the dates of %(num)d items changed.",
                   changed), "success")
    return redirect(url_for("cohort_admin.schedule_page", cohort_id=cohort.id))
