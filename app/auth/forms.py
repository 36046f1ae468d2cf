"""The shape of account forms. Rules about passwords live in services.password_problems."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Email, EqualTo, Length

from app.auth.models import REMINDER_PREFERENCES, REMINDERS_DAILY, REMINDERS_IMMEDIATE, REMINDERS_NONE
from app.config import LANGUAGE_NAMES

REQUIRED = _l("Fill in this field.")
BAD_EMAIL = _l("Enter an e-mail address such as name@example.org.")
NO_MATCH = _l("The two passwords are not the same.")


def _email_field(label=None):
    return EmailField(label or _l("E-mail address"),
                      validators=[DataRequired(REQUIRED), Length(max=254), Email(BAD_EMAIL)])


def _language_field():
    return SelectField(_l("Language"), choices=[SelectChoice(code, name, render_kw={"lang": code})
                                                for code, name in LANGUAGE_NAMES.items()])


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=1024)])
    remember = BooleanField(_l("Keep me signed in on this device for 14 days"))


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(REQUIRED)])
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(REQUIRED), EqualTo("password", NO_MATCH)])


class AcceptInvitationForm(NewPasswordForm):
    name = StringField(_l("Your name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    locale = _language_field()


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    locale = _language_field()
    municipality = StringField(_l("Municipality"), validators=[Length(max=100)])
    organisation = StringField(_l("Organisation"), validators=[Length(max=200)])
    # Reminders of due work, overdue work, submissions waiting for a review and the trainers'
    # weekly summary; the notice on the site comes in any case.
    reminders = SelectField(
        _l("E-mails about reminders"),
        choices=[SelectChoice(REMINDERS_IMMEDIATE, _l("Each one as it happens")),
                 SelectChoice(REMINDERS_DAILY, _l("One summary a day")),
                 SelectChoice(REMINDERS_NONE, _l("None (only the notices on the site)"))],
        validate_choice=False,
        validators=[AnyOf(REMINDER_PREFERENCES, message=_l("Choose one of the three ways to receive reminders."))])


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])


class InviteForm(FlaskForm):
    email = _email_field()
    name = StringField(_l("Name"), validators=[Length(max=200)])
    locale = _language_field()
    is_admin = BooleanField(_l("Site administrator"))


class UserAdminForm(FlaskForm):
    """Buttons on the user list; which one was pressed is in request.form['action']."""
