"""The shape of a message from a trainer; the rules are in announcements.py."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.cohorts.announcements import BODY_MAX, SUBJECT_MAX

REQUIRED = _l("Fill in this field.")


class MessageForm(FlaskForm):
    to = HiddenField()
    confirmed = HiddenField()  # the digest of the recipients the page showed
    form_token = HiddenField(validators=[DataRequired(), Length(min=16, max=48)])
    subject = StringField(_l("Subject"), validators=[
        DataRequired(REQUIRED), Length(max=SUBJECT_MAX, message=_l("At most %(max)d characters."))])
    body = TextAreaField(_l("Message"), description=_l("Markdown: **bold**, *italic*, lists, links."),
                         validators=[DataRequired(REQUIRED),
                                     Length(max=BODY_MAX, message=_l("At most %(max)d characters."))])
