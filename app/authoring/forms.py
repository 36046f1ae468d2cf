"""The shape of the authoring forms; the rules are in services."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField
from wtforms.validators import Email, InputRequired, Length


class UploadForm(FlaskForm):
    file = FileField(_l("Course zip file"))


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class AuthorForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[InputRequired(), Email(), Length(max=254)])
