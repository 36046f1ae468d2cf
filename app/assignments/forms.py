"""The shape of assignment input; the rules are in services."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.core.converters import MAX_ID

REQUIRED = _l("Fill in this field.")


class WorkForm(FlaskForm):
    body = TextAreaField(_l("Your answer (Markdown)"), validators=[Length(max=200_000)])
    # The draft's version when the page was made (0: no draft yet): a save from an older page
    # (another tab, a double click) is handed back instead of overwriting. The template writes
    # the value from the draft shown, never from the posted form.
    version = IntegerField(validators=[Optional(), NumberRange(min=0)])


class ConfirmSubmitForm(FlaskForm):
    form_token = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])


class ReviewForm(FlaskForm):
    revision_id = IntegerField(validators=[DataRequired(), NumberRange(1, MAX_ID)])
    version = IntegerField(validators=[DataRequired()])
    feedback = TextAreaField(_l("Feedback to the learner (Markdown)"), validators=[Length(max=100_000)])


class CommentActionForm(FlaskForm):
    """The comment bank's buttons post the review form; its token is what is checked here.
    The text's rules (not empty, at most 5,000 characters) are in app/assignments/comments.py."""


class MentorLinkForm(FlaskForm):
    mentor_email = StringField(_l("Mentor's e-mail address"), validators=[DataRequired(REQUIRED)])
    learner_email = StringField(_l("Learner's e-mail address"), validators=[DataRequired(REQUIRED)])


class PreferenceForm(FlaskForm):
    daily_digest = BooleanField(_l("Send me one e-mail a day instead of one per submission"))


class MessageForm(FlaskForm):
    """A message in the conversation under the feedback. Its rules (not empty, not too long) are
    in app/assignments/conversation.py, so a refused message comes back with the page, kept."""
    message = TextAreaField(_l("Your message (Markdown)"))
    # The newest message shown when the form was made: the same text posted again from this form
    # (a double click) is the message already sent.
    seen = IntegerField(validators=[Optional(), NumberRange(min=0, max=MAX_ID)])
