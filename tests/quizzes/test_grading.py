"""Attempts: grading a whole quiz, final score, layout, time limit, when answers show."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.quizzes.grading import (
    attempt_deadline,
    attempt_layout,
    feedback_visible,
    final_score,
    grade_attempt,
    may_start_attempt,
    parse_answers,
)
from app.quizzes.spec import QuizSettings

pytestmark = pytest.mark.filterwarnings("error")

QUIZ = """## description: Case A.

Text of case A.

## single: One {#s1}

- [x] right
- [ ] wrong

## multiple: Two {#m1 points=2}

- [50%] a
- [50%] b
- [-50%] c

## short: Three {#sh}

- [x] Bakı

## description: Case B.

## numerical: Four {#n1 points=4}

- [x] 10 ± 1
- [50%] 0..100

## matching: Five {#ma}

- A -> 1
- B -> 2
- -> 3

## true-false: Six {#tf}

- [x] True
- [ ] False
"""


@pytest.fixture
def quiz(parse_ok):
    return parse_ok(QUIZ)


def test_all_right(quiz):
    answers = {"s1": "a", "m1": ["a", "b"], "sh": "BAKI", "n1": "10,5", "ma": {"b": "b", "a": "a"}, "tf": "a"}
    result = grade_attempt(quiz, answers)
    assert (result.points, result.max_points, result.percent, result.passed) == (10.0, 10.0, 100.0, True)
    assert [r.question_id for r in result.per_question] == ["s1", "m1", "sh", "n1", "ma", "tf"]


def test_partial_credit_adds_up(quiz):
    answers = {"s1": "b", "m1": ["a", "c"], "sh": "baki", "n1": "50", "ma": {"a": "a", "b": "c"}, "tf": "b"}
    result = grade_attempt(quiz, answers)
    # 0 + 0 (0.5-0.5) + 1 + 2 (50% of 4) + 0.5 + 0
    assert [r.points for r in result.per_question] == [0.0, 0.0, 1.0, 2.0, 0.5, 0.0]
    assert (result.points, result.percent, result.passed) == (3.5, 35.0, False)


def test_missing_and_garbage_answers_count_as_empty(quiz):
    result = grade_attempt(quiz, {"s1": ["a"], "zz": "a", "n1": None})
    assert (result.points, result.max_points, result.percent) == (0.0, 10.0, 0.0)


@pytest.mark.parametrize(("pass_mark", "passed"), [(69.9, True), (70, True), (70.0001, False), (0, True)])
def test_pass_mark_boundary(parse_ok, pass_mark, passed):
    quiz = parse_ok("## multiple: q {points=10}\n\n- [70%] a\n- [30%] b\n", {"pass_mark": pass_mark})
    assert grade_attempt(quiz, {"q1": ["a"]}).passed is passed


def test_thirds_reach_a_pass_mark_of_100(parse_ok):
    body = "".join(f"## single: q{i}\n\n- [x] a\n- [ ] b\n\n" for i in range(3))
    quiz = parse_ok(body, {"pass_mark": 100})
    result = grade_attempt(quiz, {"q1": "a", "q2": "a", "q3": "a"})
    assert result.passed and result.percent == 100.0
    assert grade_attempt(quiz, {"q1": "a", "q2": "a"}).percent == 66.6667


@pytest.mark.parametrize(
    ("method", "percents", "expected"),
    [
        ("highest", [40, 90, 70], 90),
        ("last", [40, 90, 70], 70),
        ("first", [40, 90, 70], 40),
        ("average", [40, 90, 70], pytest.approx(66.6667)),
        ("average", [100], 100),
        ("highest", [], None),
        ("average", [], None),
    ],
)
def test_final_score(method, percents, expected):
    assert final_score(method, percents) == expected


def test_final_score_unknown_method():
    with pytest.raises(ValueError, match="unknown grading method 'best'"):
        final_score("best", [1.0])


def test_layout_without_shuffling_is_the_authored_order(quiz):
    layout = attempt_layout(quiz, 99)
    assert layout.question_order == [q.id for q in quiz.questions]
    assert layout.option_orders["s1"] == ["a", "b"]
    assert layout.option_orders["ma"] == ["a", "b"]
    assert sorted(layout.choice_orders["ma"]) == ["a", "b", "c"]  # choices are always shuffled


def test_layout_is_deterministic_and_varies_with_the_seed(parse_ok):
    body = "".join(f"## single: q{i}\n\n" + "".join(f"- [{'x' if j == 0 else ' '}] o{j}\n" for j in range(6)) + "\n"
                   for i in range(8))
    quiz = parse_ok(body, {"shuffle_questions": True, "shuffle_options": True})
    assert attempt_layout(quiz, 5) == attempt_layout(quiz, 5)
    orders = {tuple(attempt_layout(quiz, seed).question_order) for seed in range(20)}
    options = {tuple(attempt_layout(quiz, seed).option_orders["q1"]) for seed in range(20)}
    assert len(orders) > 10 and len(options) > 10
    for seed in range(20):
        layout = attempt_layout(quiz, seed)
        assert sorted(layout.question_order) == sorted(q.id for q in quiz.questions)
        assert sorted(layout.option_orders["q3"]) == list("abcdef")


def test_layout_is_stable_across_python_versions(parse_ok):
    # Fixed by SHA-256, not by random: an attempt stored as a seed must look the same after an upgrade.
    quiz = parse_ok("".join("## single: q\n\n- [x] a\n- [ ] b\n- [ ] c\n- [ ] d\n\n" for _ in range(4)),
                    {"shuffle_questions": True, "shuffle_options": True})
    layout = attempt_layout(quiz, 2026)
    assert layout.question_order == ["q2", "q1", "q4", "q3"]
    assert layout.option_orders["q1"] == ["b", "a", "c", "d"]


def test_shuffling_keeps_descriptions_before_their_questions(quiz):
    quiz.settings.shuffle_questions = True
    quiz.settings.shuffle_options = True
    for seed in range(30):
        order = attempt_layout(quiz, seed).question_order
        assert order[0] == "q1" and order[4] == "q5"
        assert sorted(order[1:4]) == ["m1", "s1", "sh"]
        assert sorted(order[5:]) == ["ma", "n1", "tf"]
        assert attempt_layout(quiz, seed).option_orders["tf"] == ["a", "b"]  # true/false never moves


def test_parse_answers_from_a_form(quiz):
    layout = attempt_layout(quiz, 1)
    tokens = {choice: f"c{i}" for i, choice in enumerate(layout.choice_orders["ma"], 1)}
    form = {"s1": ["a"], "m1": ["a", "b", "evil"], "sh": [" baki "], "n1": ["9.5"],
            "ma": {"a": tokens["a"], "b": tokens["b"]}, "tf": ["a", "b"], "q1": ["x"]}
    answers = parse_answers(quiz, layout, form)
    assert answers == {"s1": "a", "m1": ["a", "b"], "sh": "baki", "n1": "9.5", "ma": {"a": "a", "b": "b"}, "tf": None}
    assert grade_attempt(quiz, answers).points == 9.0


@pytest.mark.parametrize(
    ("show", "attempts", "passed", "used", "visible"),
    [
        ("never", None, True, 5, False),
        ("always", 1, False, 0, True),
        ("after_passing", 3, True, 1, True),
        ("after_passing", 3, False, 3, False),
        ("after_last_attempt", 3, False, 2, False),
        ("after_last_attempt", 3, False, 3, True),
        ("after_last_attempt", 3, True, 1, False),
        ("after_last_attempt", None, True, 50, False),  # unlimited: there is no last attempt
        # The default (issue 13): hidden after a failed attempt until passed or out of attempts.
        ("after_passing_or_last_attempt", None, False, 40, False),
        ("after_passing_or_last_attempt", 3, False, 2, False),
        ("after_passing_or_last_attempt", 3, False, 3, True),
        ("after_passing_or_last_attempt", None, True, 4, True),
    ],
)
def test_feedback_visible(show, attempts, passed, used, visible):
    settings = QuizSettings(show_answers=show, attempts=attempts)
    assert feedback_visible(settings, passed, used) is visible


def test_the_default_hides_answers_until_passed_or_out_of_attempts():
    assert QuizSettings().show_answers == "after_passing_or_last_attempt"
    assert QuizSettings.from_dict({}).show_answers == "after_passing_or_last_attempt"


def test_may_start_attempt():
    assert may_start_attempt(QuizSettings(attempts=None), 1000)
    assert may_start_attempt(QuizSettings(attempts=2), 1)
    assert not may_start_attempt(QuizSettings(attempts=2), 2)


def test_the_deadline_is_the_start_plus_the_time_limit():
    # Whether answers are late is decided on the server's clock with the attempt's stored
    # deadline (app/quizzes/services.py is_overdue; tests/quizzes/test_attempt_routes.py).
    started = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
    assert attempt_deadline(QuizSettings(time_limit=15), started) == started + timedelta(minutes=15)
    assert attempt_deadline(QuizSettings(), started) is None
