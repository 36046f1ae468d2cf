"""How cell states, roles and risks read on screen and in exports (translated)."""
from __future__ import annotations

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.assignments.models import APPROVED, CHANGES_REQUESTED, SUBMITTED
from app.cohorts.queries import DONE, FAILED, NOT_STARTED, PASSED, STARTED
from app.cohorts.risk import BEHIND, BEHIND_SCHEDULE, CHANGES_UNANSWERED, FAILED_QUIZ, INACTIVE, Risk

STATE_LABELS = {
    DONE: _l("done"), PASSED: _l("passed"), FAILED: _l("failed"), STARTED: _l("in progress"),
    SUBMITTED: _l("submitted"), CHANGES_REQUESTED: _l("changes requested"), APPROVED: _l("approved"),
    NOT_STARTED: _l("not started"),
}


def state_labels() -> dict[str, str]:
    """The labels translated once for a page: a lazy string would be translated in every cell."""
    return {state: str(label) for state, label in STATE_LABELS.items()}


# A symbol as well as a colour, so that no state is told by colour alone.
STATE_SYMBOLS = {DONE: "✓", PASSED: "✓", FAILED: "✗", STARTED: "…", SUBMITTED: "↑",
                 CHANGES_REQUESTED: "↺", APPROVED: "★", NOT_STARTED: ""}


def risk_text(risk: Risk) -> str:
    """One sentence for a risk, e.g. "inactive for 20 days"."""
    n = risk.amount
    if risk.code == INACTIVE:
        return ngettext("inactive for %(num)d day", "inactive for %(num)d days", n)
    if risk.code == FAILED_QUIZ:
        return ngettext("failed a quiz %(num)d time", "failed a quiz %(num)d times", n)
    if risk.code == CHANGES_UNANSWERED:
        return ngettext("changes requested %(num)d day ago, not answered",
                        "changes requested %(num)d days ago, not answered", n)
    if risk.code == BEHIND:
        return ngettext("%(num)d point behind the cohort's median", "%(num)d points behind the cohort's median", n)
    if risk.code == BEHIND_SCHEDULE:
        return ngettext("behind schedule: %(num)d item overdue", "behind schedule: %(num)d items overdue", n)
    return risk.code


# What each at-risk reason means, for the dashboard's explanation.
RISK_EXPLANATIONS = {
    INACTIVE: _l("Nothing done for the number of days set in the cohort's settings."),
    FAILED_QUIZ: _l("Failed the same quiz this many times and not passed it since."),
    CHANGES_UNANSWERED: _l("A mentor asked for changes and the learner has not answered for this many days."),
    BEHIND: _l("Completion this many percentage points below the cohort's median."),
    BEHIND_SCHEDULE: _l("Items past their due date in the cohort's schedule and not finished."),
}


def chart_labels(kind: str) -> dict[str, str]:
    """The words drawn inside a chart (part of its cache key, so each language has its own)."""
    if kind == "completion":
        return {"y": _("Required items done (%)"), "empty": _("Nothing done yet"),
                "locale": str(get_locale() or "en")}
    return {"x": _("Best score (%)"), "y": _("Learners and quizzes"), "empty": _("No quiz finished yet")}

RISK_NAMES = {
    INACTIVE: _l("Inactive"), FAILED_QUIZ: _l("Failed a quiz"), CHANGES_UNANSWERED: _l("Changes not answered"),
    BEHIND: _l("Behind the cohort"), BEHIND_SCHEDULE: _l("Behind schedule"),
}


def kind_labels() -> dict[str, str]:
    """The kinds of items, translated."""
    return {"lesson": _("lesson"), "quiz": _("quiz"), "assignment": _("assignment")}
