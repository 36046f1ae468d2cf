"""Sign-in, sign-out, password reset, invitations, profile and the user admin page."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, fresh_login_required, login_required, login_user, logout_user
from sqlalchemy.orm import undefer
from werkzeug.exceptions import HTTPException

from app.auth import queries, services
from app.auth.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
    UserAdminForm,
)
from app.auth.models import User, normalise_email
from app.core import audit
from app.core.authz import require
from app.core.web import clock, safe_next
from app.database import reads_first, start_writing
from app.extensions import client_address, db, limiter, login_manager
from app.notify.services import outbox_is_stalled

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the user named by a session or remember cookie, if its session version is current."""
    ident, _sep, version = user_id.partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None
    # The profile shows the reminder preference, a deferred column: load it with the user there.
    options = [undefer(User.reminders)] if request.endpoint == "auth.profile" else []
    user = db.session.get(User, int(ident), options=options)
    if user is None or not user.is_active or str(user.session_version) != version:
        return None
    return user


def _form_email() -> str:
    # A key function must never raise: Flask-Limiter takes any exception for a dead storage and
    # would stop counting in Redis. A body over the size limit is refused by the view (413).
    try:
        return normalise_email(request.form.get("email", ""))
    except HTTPException:
        return ""


def _account_key() -> str:
    return "account:" + _form_email()


def _account_and_client_key() -> str:
    # The client is its address as the trusted proxies report it (TRUSTED_PROXIES): someone
    # guessing from one place locks that place out of this account, not the owner elsewhere.
    return f"account:{_form_email()}|client:{client_address()}"


def _failed_attempt(response) -> bool:
    return bool(g.get("auth_failed"))


def _on_login_breach(limit) -> None:
    audit.record("authn_login_lock", target=_form_email()[:200],
                 limit=str(limit.limit))
    db.session.commit()


def _limit(config_key: str, **kwargs):
    return limiter.limit(lambda: current_app.config[config_key], methods=["POST"], **kwargs)


def _start_session(user: User, remember: bool) -> None:
    # Nothing from before sign-in survives it (no session fixation, no leftover keys).
    session.clear()
    login_user(user, remember=remember)
    session["remember_me"] = remember
    session["started_at"] = session["seen_at"] = clock()


@bp.route("/login", methods=["GET", "POST"])
@reads_first
@_limit("LOGIN_LIMIT_PER_ADDRESS", deduct_when=_failed_attempt, on_breach=_on_login_breach)
@_limit("LOGIN_LIMIT_PER_ACCOUNT", key_func=_account_and_client_key, deduct_when=_failed_attempt,
        on_breach=_on_login_breach)
@_limit("LOGIN_LIMIT_PER_ACCOUNT_ANYWHERE", key_func=_account_key, deduct_when=_failed_attempt,
        on_breach=_on_login_breach)
def login():
    if current_user.is_authenticated and request.method == "GET" and not request.args.get("next"):
        return redirect(url_for("learning.home"))
    form = LoginForm()
    if form.validate_on_submit():
        checked = services.check_credentials(form.email.data, form.password.data)
        start_writing()  # the slow hash check above held no write lock
        user = services.record_sign_in(form.email.data, checked)
        if user is not None:
            _start_session(user, form.remember.data)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")) or url_for("learning.home"))
        g.auth_failed = True
        db.session.commit()
        form.password.errors.append(_("The e-mail address or the password is not correct."))
    elif g.get("session_expired"):
        flash(_("Your session ended because it was idle. Please sign in again."), "info")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    services.sign_out(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    response = redirect(url_for("auth.login"))
    # A phone is often shared: the browser drops this user's stored pages and queued writes
    # (the service worker's caches and IndexedDB) along with the rest of the site's storage.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/forgot", methods=["GET", "POST"])
@_limit("RESET_LIMIT_PER_ADDRESS")
@_limit("RESET_LIMIT_PER_ACCOUNT", key_func=_account_key)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("auth/forgot_sent.html", email=form.email.data)
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if services.find_token(token, services.RESET) is None:
        return render_template("auth/token_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except services.AccountError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Your password is changed. Sign in with the new one."), "success")
            return redirect(url_for("auth.login"))
    response = current_app.make_response(render_template("auth/reset.html", form=form))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    invitation = services.find_token(token, services.INVITE)
    if invitation is None:
        return render_template("auth/token_invalid.html"), 404
    g.page_locale = invitation.user.locale  # the language the invitation was written in
    refresh()
    form = AcceptInvitationForm(obj=None if request.method == "POST" else invitation.user)
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(token, name=form.name.data, password=form.password.data,
                                              locale=form.locale.data)
        except services.AccountError as error:
            form.password.errors.append(str(error))
        else:
            _start_session(user, remember=False)
            db.session.commit()
            flash(_("Welcome to Nergi!"), "success")
            return redirect(url_for("learning.home"))
    response = current_app.make_response(
        render_template("auth/invitation.html", form=form, email=invitation.user.email))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    # User.reminders is deferred (not loaded with every request's user): this page reads it.
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        services.update_profile(current_user, name=form.name.data, locale=form.locale.data,
                                municipality=form.municipality.data, organisation=form.organisation.data,
                                reminders=form.reminders.data)
        db.session.commit()
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form, password_form=ChangePasswordForm())


@bp.route("/profile/password", methods=["GET", "POST"])
@fresh_login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current.data, form.password.data)
        except services.WrongPassword as error:
            form.current.errors.append(str(error))
        except services.WeakPassword as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            _start_session(user, remember=False)  # this session goes on; the others end
            flash(_("Your password is changed. You were signed out on your other devices."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/password.html", form=form)


@bp.route("/admin/users", methods=["GET", "POST"])
@login_required
def admin_users():
    require(current_user, "admin.users")
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user = services.invite_user(current_user, form.email.data, name=form.name.data,
                                        locale=form.locale.data, is_admin=form.is_admin.data)
        except services.AccountError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Invitation queued for %(email)s: the e-mail worker sends it within a minute or two.",
                    email=user.email), "success")
            return redirect(url_for("auth.admin_users"))
    if outbox_is_stalled():
        flash(_("Some e-mails have been waiting more than five minutes to be sent. Check that the worker "
                "(flask --app wsgi worker) is running."), "warning")
    q = (request.args.get("q") or "").strip()[:100]
    try:
        page = int(request.args.get("page", 1))
    except ValueError:
        page = 1
    return render_template("admin/users.html", form=form, result=queries.user_page(q, page=page), q=q,
                           action_form=UserAdminForm())


@bp.post("/admin/users/<int:user_id>")
@login_required
def admin_user_action(user_id: int):
    require(current_user, "admin.users")
    if not UserAdminForm().validate_on_submit():
        abort(400)
    user = db.get_or_404(User, user_id)
    action = request.form.get("action")
    if action == "resend":
        if user.has_password:
            flash(_("%(email)s has already finished their account.", email=user.email), "error")
            return redirect(url_for("auth.admin_users"))
        services.invite_user(current_user, user.email, name=user.name, locale=user.locale)
        db.session.commit()
        flash(_("Invitation queued for %(email)s: the e-mail worker sends it within a minute or two.",
                email=user.email), "success")
        return redirect(url_for("auth.admin_users"))
    changes = {"deactivate": lambda: services.set_active(current_user, user, False),
               "activate": lambda: services.set_active(current_user, user, True),
               "grant_admin": lambda: services.set_admin(current_user, user, True),
               "revoke_admin": lambda: services.set_admin(current_user, user, False)}
    if action not in changes:
        abort(400)
    try:
        if action == "deactivate" and request.form.get("confirm") != "yes":
            services.refuse_own_access(current_user, user)  # the answer would be no: do not ask
            # Ask first: the person is signed out at once and cannot sign in any more.
            return render_template("admin/deactivate.html", user=user, action_form=UserAdminForm())
        changes[action]()
    except services.OwnAccess as error:
        flash(str(error), "error")
        return redirect(url_for("auth.admin_users"))
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("auth.admin_users"))
