"""The shape of cohort input; the rules are in services."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from app.cohorts.labels import STATE_LABELS
from app.cohorts.models import DEFAULT_TIME_ZONE
from app.cohorts.queries import FILTER_STATES, Filters
from app.config import LANGUAGE_NAMES

REQUIRED = _l("Fill in this field.")
BAD_EMAIL = _l("Enter an e-mail address such as name@example.org.")
WHOLE = _l("Enter a whole number from 0 to 1000.")


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _languages():
    return [SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGE_NAMES.items()]


class CohortForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    municipality = StringField(_l("Municipality"), validators=[Length(max=100)])
    language = SelectField(_l("Language of the cohort"), choices=_languages())
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    courses = CheckboxesField(_l("Courses"), coerce=int, choices=[])


class SettingsForm(CohortForm):
    risk_inactive_days = IntegerField(_l("Inactive for (days)"), validators=[NumberRange(0, 1000, WHOLE)])
    risk_failed_attempts = IntegerField(_l("Failed attempts at one quiz"), validators=[NumberRange(0, 1000, WHOLE)])
    risk_unanswered_days = IntegerField(_l("Changes requested and not answered for (days)"),
                                        validators=[NumberRange(0, 1000, WHOLE)])
    risk_behind_points = IntegerField(_l("Percentage points behind the cohort's median"),
                                      validators=[NumberRange(0, 1000, WHOLE)])


    time_zone = SelectField(_l("Time zone of the schedule's dates"), choices=[], default=DEFAULT_TIME_ZONE)
    review_target_days = IntegerField(_l("Mentors should answer within (days)"), default=3,
                                      validators=[NumberRange(1, 60, _l("Enter a whole number from 1 to 60."))])


def time_zones() -> list[str]:
    """The time zones a cohort may use: the IANA names Python knows (zoneinfo)."""
    from zoneinfo import available_timezones

    return sorted(name for name in available_timezones()
                  if "/" in name and not name.startswith(("Etc/", "posix/", "right/", "SystemV/", "US/")))


class ScheduleForm(FlaskForm):
    """The schedule table: the item fields (opens-<id>, due-<id>) are read from the request by
    the view; the version tells a stale form (another tab, another trainer)."""

    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class WeeklyForm(FlaskForm):
    start = DateField(_l("Start date"), validators=[Optional()])
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class ScheduleUploadForm(FlaskForm):
    file = FileField(_l("CSV file"))
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class ReleaseForm(FlaskForm):
    item_id = IntegerField(widget=HiddenInput(), validators=[DataRequired()])


class TrainerForm(FlaskForm):
    email = EmailField(_l("Trainer's e-mail address"),
                       validators=[DataRequired(REQUIRED), Length(max=254), Email(BAD_EMAIL)])


class UploadForm(FlaskForm):
    file = FileField(_l("CSV file"))
    text = TextAreaField(_l("Or paste the rows here"), validators=[Length(max=2_000_000)])


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    # Running totals of a roster enrolled in parts, only for the final message.
    invited = IntegerField(widget=HiddenInput(), default=0, validators=[Optional(), NumberRange(0, 100_000)])
    added = IntegerField(widget=HiddenInput(), default=0, validators=[Optional(), NumberRange(0, 100_000)])


class AssignForm(FlaskForm):
    learner_email = EmailField(_l("Learner's e-mail address"),
                               validators=[DataRequired(REQUIRED), Length(max=254), Email(BAD_EMAIL)])
    mentor_id = SelectField(_l("Mentor"), coerce=int, choices=[])


class LearnerMentorForm(FlaskForm):
    mentor_id = SelectField(_l("Mentor"), coerce=int, choices=[])


class BalanceForm(FlaskForm):
    cap = IntegerField(_l("At most this many learners per mentor (optional)"),
                       validators=[Optional(), NumberRange(1, 10_000, _l("Enter a whole number of 1 or more."))])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class FilterForm(FlaskForm):
    """The dashboard's filters, sent with GET (nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    course = SelectField(_l("Course"), coerce=int, choices=[], validators=[Optional()], default=0)
    municipality = SelectField(_l("Municipality"), choices=[], validators=[Optional()], default="")
    mentor = SelectField(_l("Mentor"), coerce=int, choices=[], validators=[Optional()], default=-1)
    state = SelectField(_l("Has an item that is"), choices=[], validators=[Optional()], default="")
    risk = BooleanField(_l("Only learners at risk"))
    q = StringField(_l("Name or e-mail contains"), validators=[Optional(), Length(max=100)])
    sort = SelectField(_l("Sort by"), choices=[], validators=[Optional()], default="name")
    order = SelectField(_l("Order"), choices=options([("asc", _l("ascending")), ("desc", _l("descending"))]),
                        validators=[Optional()], default="asc")
    page = IntegerField(validators=[Optional(), NumberRange(1, 1_000_000)], default=1)


def prepare_filter_form(form: FilterForm, cohort, lang: str) -> None:
    """Choices known before the dashboard is computed; the rest come from fill_filter_choices."""
    form.course.choices = options([(0, _("All courses"))] + [(c.id, c.title(lang)) for c in cohort.courses])
    form.state.choices = options([("", _("Any state"))] + [(s, str(STATE_LABELS[s])) for s in FILTER_STATES])
    form.sort.choices = options([("name", _("Name")), ("completion", _("Completion")),
                                 ("activity", _("Last activity")), ("risk", _("Number of risks"))])
    # Municipalities and mentors are only known with the learners; an unknown value just matches nothing.
    form.municipality.validate_choice = False
    form.mentor.validate_choice = False


def fill_filter_choices(form: FilterForm, municipalities: list[str], mentors) -> None:
    """Choices that come with the learners: their municipalities and the cohort's mentors."""
    form.municipality.choices = options([("", _("All municipalities"))] + [(m, m) for m in municipalities])
    form.mentor.choices = options([(-1, _("All mentors")), (0, _("No mentor"))]
                                  + [(m.user_id, m.name) for m in mentors])


def filters_from(form: FilterForm) -> Filters:
    """The filters the form asks for; a field with a bad value counts as not given."""
    form.validate()

    def value(field, default):
        return default if field.errors or field.data is None else field.data

    course = value(form.course, 0)
    mentor = value(form.mentor, -1)
    return Filters(course_id=course or None, municipality=value(form.municipality, "") or "",
                   mentor_id=None if mentor == -1 else mentor, state=value(form.state, "") or "",
                   at_risk=bool(value(form.risk, False)), search=value(form.q, "") or "",
                   sort=value(form.sort, "name") or "name", descending=value(form.order, "asc") == "desc",
                   page=value(form.page, 1) or 1)
