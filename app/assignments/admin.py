"""Admin page for who mentors whom (cohort pages take this over when cohorts land)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.assignments import queries, services
from app.assignments.forms import MentorLinkForm
from app.assignments.models import MentorLink
from app.auth.models import User
from app.core.authz import require
from app.core.errors import InvalidInput
from app.extensions import db

bp = Blueprint("mentoring", __name__, url_prefix="/admin/mentoring")


@bp.route("", methods=["GET", "POST"])
@login_required
def links():
    require(current_user, "mentoring.manage")
    form = MentorLinkForm()
    if form.validate_on_submit():
        mentor, learner = User.by_email(form.mentor_email.data), User.by_email(form.learner_email.data)
        if mentor is None:
            form.mentor_email.errors.append(_("There is no account with this e-mail address."))
        if learner is None:
            form.learner_email.errors.append(_("There is no account with this e-mail address."))
        if mentor and learner:
            try:
                services.link_mentor(current_user, mentor, learner)
            except InvalidInput as error:
                form.learner_email.errors.append(str(error))
            else:
                db.session.commit()
                flash(_("Saved."), "success")
                return redirect(url_for("mentoring.links"))
    return render_template("assignments/mentoring.html", form=form, links=queries.active_mentor_links())


@bp.post("/<int:link_id>/end")
@login_required
def end(link_id: int):
    link = db.session.get(MentorLink, link_id)
    if link is None:
        abort(404)
    services.end_mentor_link(current_user, link)
    db.session.commit()
    return redirect(url_for("mentoring.links"))
