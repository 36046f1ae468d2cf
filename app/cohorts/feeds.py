"""The calendar feeds' routes (issue 14): the feed itself at its secret address, and resetting a
learner's own address or a trainer's address for a cohort. Rules in app/cohorts/calendar.py."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from app.cohorts import calendar
from app.cohorts.models import Cohort
from app.core.authz import require
from app.core.i18n import current_lang
from app.core.links import external_url
from app.database import utcnow
from app.extensions import db, limiter

bp = Blueprint("calendar", __name__)


@bp.get("/calendar/<token>.ics")
@limiter.limit("300 per minute")  # calendar services fetch many feeds from few addresses
def feed(token: str):
    """The feed: no sign-in (calendar apps cannot), the secret token is the key."""
    found = calendar.open_feed(token)
    if found is None:
        abort(404)
    response = current_app.response_class(calendar.feed_calendar(found, utcnow()), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Disposition"] = 'inline; filename="nergi.ics"'
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/calendar/reset")
@login_required
def reset():
    """A new address for the learner's own feed (also the first one); the old one stops working."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    calendar.reset_feed(current_user)
    db.session.commit()
    flash(_("Your calendar has a new address. Add it to your calendar app again; the old one no longer works."),
          "success")
    return redirect(url_for("learning.home") + "#calendar")


def _load_cohort(cohort_id: int) -> Cohort:
    cohort = db.session.get(Cohort, cohort_id, options=[selectinload(Cohort.courses)])
    if cohort is None:
        abort(404)
    require(current_user, "cohort.view", cohort, hide=True)  # its trainers and admins
    return cohort


@bp.get("/cohorts/<int:cohort_id>/calendar")
@login_required
def cohort_calendar(cohort_id: int):
    """The cohort's feed address for this trainer (or admin), and the button that (re)makes it."""
    cohort = _load_cohort(cohort_id)
    token = calendar.feed_token(current_user.id, cohort.id)
    address = external_url("calendar.feed", token=token) if token else None
    return render_template("cohorts/calendar.html", cohort=cohort, address=address, form=FlaskForm(),
                           lang=current_lang())


@bp.post("/cohorts/<int:cohort_id>/calendar/reset")
@login_required
def cohort_reset(cohort_id: int):
    cohort = _load_cohort(cohort_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    calendar.reset_feed(current_user, cohort)
    db.session.commit()
    flash(_("The cohort's calendar has a new address. Add it to your calendar app again; the old one no longer "
            "works."), "success")
    return redirect(url_for("calendar.cohort_calendar", cohort_id=cohort.id))
