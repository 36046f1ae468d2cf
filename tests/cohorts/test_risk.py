"""The at-risk rules as a table: facts in, reasons out."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.cohorts.risk import (BEHIND, BEHIND_SCHEDULE, CHANGES_UNANSWERED, FAILED_QUIZ, INACTIVE, LearnerFacts, Risk, RiskRules,
                              median_percent, risks_of)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
RULES = RiskRules(inactive_days=14, failed_attempts=2, unanswered_days=7, behind_points=25)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def facts(*, joined=30, last=1, fails=0, changes=None, percent=50.0) -> LearnerFacts:
    return LearnerFacts(joined_at=days_ago(joined), last_activity_at=None if last is None else days_ago(last),
                        worst_failed_attempts=fails, oldest_changes_requested_at=None if changes is None else days_ago(changes),
                        percent=percent)


@pytest.mark.parametrize("learner, median, rules, expected", [
    # nothing wrong
    (facts(), 50.0, RULES, []),
    # inactivity: counted from the last action, or from joining when there was none
    (facts(last=13.9), 50.0, RULES, []),
    (facts(last=14), 50.0, RULES, [Risk(INACTIVE, 14)]),
    (facts(last=None, joined=3), 50.0, RULES, []),
    (facts(last=None, joined=20), 50.0, RULES, [Risk(INACTIVE, 20)]),
    # failed the same quiz twice without passing it since
    (facts(fails=1), 50.0, RULES, []),
    (facts(fails=2), 50.0, RULES, [Risk(FAILED_QUIZ, 2)]),
    (facts(fails=5), 50.0, RiskRules(failed_attempts=6), []),
    # changes requested and not answered
    (facts(changes=6.5), 50.0, RULES, []),
    (facts(changes=7), 50.0, RULES, [Risk(CHANGES_UNANSWERED, 7)]),
    # far behind the cohort's median
    (facts(percent=26), 50.0, RULES, []),
    (facts(percent=25), 50.0, RULES, [Risk(BEHIND, 25)]),
    (facts(percent=0), 20.0, RULES, []),  # a slow cohort: 20 points behind is not "far"
    (facts(percent=90), 50.0, RULES, []),
    # several at once, in a fixed order
    (facts(last=30, fails=3, changes=10, percent=0), 60.0, RULES,
     [Risk(INACTIVE, 30), Risk(FAILED_QUIZ, 3), Risk(CHANGES_UNANSWERED, 10), Risk(BEHIND, 60)]),
    # 0 switches a rule off
    (facts(last=30, fails=3, changes=10, percent=0), 60.0, RiskRules(0, 0, 0, 0), []),
    # the defaults
    (facts(last=14, fails=2, changes=7, percent=0), 25.0, RiskRules(),
     [Risk(INACTIVE, 14), Risk(FAILED_QUIZ, 2), Risk(CHANGES_UNANSWERED, 7), Risk(BEHIND, 25)]),
])
def test_risk_rules(learner, median, rules, expected):
    assert risks_of(learner, median=median, now=NOW, rules=rules) == expected


@pytest.mark.parametrize("percents, median", [([], 0.0), ([10], 10.0), ([0, 10, 100], 10.0), ([0, 10, 20, 100], 15.0)])
def test_median(percents, median):
    assert median_percent(percents) == median


@pytest.mark.parametrize("learner, overdue, rules, expected", [
    # behind schedule: items past their due date and not finished (counted by the caller)
    (facts(), 0, RULES, []),
    (facts(), 1, RULES, [Risk(BEHIND_SCHEDULE, 1)]),
    (facts(), 4, RULES, [Risk(BEHIND_SCHEDULE, 4)]),
    (facts(), 2, RiskRules(overdue_items=3), []),
    (facts(), 3, RiskRules(overdue_items=3), [Risk(BEHIND_SCHEDULE, 3)]),
    (facts(), 5, RiskRules(0, 0, 0, 0, 0), []),  # 0 switches it off
    # after the other reasons
    (facts(last=20, percent=0), 2, RULES, [Risk(INACTIVE, 20), Risk(BEHIND, 50), Risk(BEHIND_SCHEDULE, 2)]),
])
def test_behind_schedule(learner, overdue, rules, expected):
    assert risks_of(learner, median=50.0, now=NOW, rules=rules, overdue=overdue) == expected
