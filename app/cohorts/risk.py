"""Who is at risk of not finishing, and why: pure rules over facts the dashboard gathers.

No database and no clock here: the caller passes the facts, the rules and `now`, so the rules
are tested as a table (tests/cohorts/test_risk.py).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.cohorts.models import (
    DEFAULT_BEHIND_POINTS,
    DEFAULT_FAILED_ATTEMPTS,
    DEFAULT_INACTIVE_DAYS,
    DEFAULT_UNANSWERED_DAYS,
)

INACTIVE, FAILED_QUIZ, CHANGES_UNANSWERED, BEHIND = "inactive", "failed_quiz", "changes_unanswered", "behind"
BEHIND_SCHEDULE = "behind_schedule"


@dataclass(frozen=True)
class RiskRules:
    inactive_days: int = DEFAULT_INACTIVE_DAYS
    failed_attempts: int = DEFAULT_FAILED_ATTEMPTS
    unanswered_days: int = DEFAULT_UNANSWERED_DAYS
    behind_points: int = DEFAULT_BEHIND_POINTS
    # Behind schedule from this many overdue items (not a setting of the cohort: the schedule
    # itself is; 0 switches the rule off).
    overdue_items: int = 1

    @classmethod
    def of(cls, cohort) -> RiskRules:
        return cls(inactive_days=cohort.risk_inactive_days, failed_attempts=cohort.risk_failed_attempts,
                   unanswered_days=cohort.risk_unanswered_days, behind_points=cohort.risk_behind_points)


@dataclass(frozen=True)
class LearnerFacts:
    joined_at: datetime
    last_activity_at: datetime | None
    # The most failed attempts on one quiz the learner has not passed yet.
    worst_failed_attempts: int
    # When the oldest "changes requested" still waiting for the learner was asked for.
    oldest_changes_requested_at: datetime | None
    percent: float


@dataclass(frozen=True)
class Risk:
    code: str
    amount: int  # days, attempts or percentage points, depending on the code


def median_percent(percents: list[float]) -> float:
    """The median of the learners' completion (0 for nobody)."""
    return float(statistics.median(percents)) if percents else 0.0


class HasFacts(Protocol):
    """What the rules read: a LearnerFacts, or the dashboard's LearnerSummary (same names)."""

    @property
    def joined_at(self) -> datetime: ...
    @property
    def last_activity_at(self) -> datetime | None: ...
    @property
    def worst_failed_attempts(self) -> int: ...
    @property
    def oldest_changes_requested_at(self) -> datetime | None: ...
    @property
    def percent(self) -> float: ...


def risks_of(facts: HasFacts, *, median: float, now: datetime, rules: RiskRules, overdue: int = 0) -> list[Risk]:
    """The reasons this learner needs attention, most urgent kinds first; empty when none.

    - inactive: nothing done for `inactive_days` (counted from joining when nothing was ever done);
    - failed_quiz: `failed_attempts` or more failed attempts at a quiz not passed since;
    - changes_unanswered: a mentor asked for changes `unanswered_days` ago or more, still open;
    - behind: completion `behind_points` or more percentage points below the cohort's median;
    - behind_schedule: `overdue_items` or more items past their due date and not done
      (`overdue`, counted by the caller from the cohort's schedule and today's day).

    A threshold of 0 switches its rule off.
    """
    found: list[Risk] = []
    idle_since = facts.last_activity_at or facts.joined_at
    idle_days = (now - idle_since).days
    if rules.inactive_days > 0 and idle_days >= rules.inactive_days:
        found.append(Risk(INACTIVE, idle_days))
    if rules.failed_attempts > 0 and facts.worst_failed_attempts >= rules.failed_attempts:
        found.append(Risk(FAILED_QUIZ, facts.worst_failed_attempts))
    if rules.unanswered_days > 0 and facts.oldest_changes_requested_at is not None:
        waiting_days = (now - facts.oldest_changes_requested_at).days
        if waiting_days >= rules.unanswered_days:
            found.append(Risk(CHANGES_UNANSWERED, waiting_days))
    gap = median - facts.percent
    if rules.behind_points > 0 and gap >= rules.behind_points:
        found.append(Risk(BEHIND, round(gap)))
    if rules.overdue_items > 0 and overdue >= rules.overdue_items:
        found.append(Risk(BEHIND_SCHEDULE, overdue))
    return found
