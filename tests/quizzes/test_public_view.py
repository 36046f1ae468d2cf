"""docs/security.md QUIZ-1: nothing that tells right from wrong reaches the browser before submission.

A quiz with every question type is written so that each correct answer, weight and
feedback is a unique marker string; the public views of every type, in every layout,
are serialised to JSON and searched for the markers and for forbidden keys.
"""
from __future__ import annotations

import json

import pytest

from app.quizzes.authoring import parse_gift, render_quiz
from app.quizzes.grading import attempt_layout, parse_answers, public_questions
from app.quizzes.types import QUESTION_TYPES, Matching
from tests.quizzes.conftest import escaping_render

pytestmark = pytest.mark.filterwarnings("error")

QUIZ = """Intro.

## single: Pick one.

- [ ] Option one
  > FEEDBACK-single-wrong
- [x] Option two
  > FEEDBACK-single-right
- [-50%] Option three
  > FEEDBACK-single-negative

> GENERAL-single

## multiple: Pick some. {points=3}

- [37.5%] Choice one
  > FEEDBACK-multiple-1
- [62.5%] Choice two
  > FEEDBACK-multiple-2
- [-87.5%] Choice three
  > FEEDBACK-multiple-3

> GENERAL-multiple

## true-false: The sky is blue.

- [x] True
  > FEEDBACK-tf-right
- [ ] False
  > FEEDBACK-tf-wrong

> GENERAL-tf

## short: Name the council.

- [x] SECRETANSWERONE
  > FEEDBACK-short-right
- [25%] SECRETANSWERTWO
  > FEEDBACK-short-partial
- [ ] *
  > FEEDBACK-short-other

> GENERAL-short

## numerical: Which year?

- [x] 8642
  > FEEDBACK-numerical-right
- [50%] 97531 ± 13
  > FEEDBACK-numerical-close
- [ ] *
  > FEEDBACK-numerical-other

> GENERAL-numerical

## matching: Match them.

- Prompt one -> Answer one
- Prompt two -> Answer two
- Prompt three -> Answer three
- -> Answer distractor

> GENERAL-matching

## description: Just text.
"""

MARKERS = [
    "FEEDBACK", "GENERAL", "SECRETANSWER", "8642", "97531", "13", "37.5", "62.5", "87.5",
    "0.375", "0.625", "-0.5", "0.25",
]
FORBIDDEN_KEYS = {
    "weight", "correct", "is_correct", "feedback", "feedback_md", "feedback_html", "match_md",
    "match_html", "low", "high", "is_catch_all", "text_md", "answer", "answers", "fraction",
}
ALLOWED = {
    "single": {"id", "type", "points", "text_html", "options"},
    "multiple": {"id", "type", "points", "text_html", "options"},
    "true-false": {"id", "type", "points", "text_html", "options"},
    "short": {"id", "type", "points", "text_html"},
    "numerical": {"id", "type", "points", "text_html"},
    "matching": {"id", "type", "points", "text_html", "prompts", "choices"},
    "description": {"id", "type", "points", "text_html"},
}


@pytest.fixture
def quiz(parse_ok):
    return parse_ok(QUIZ, {"shuffle_options": True, "shuffle_questions": True})


def keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def test_the_quiz_has_every_type_and_the_markers_are_in_the_model(quiz):
    assert {q.type for q in quiz.questions} == set(QUESTION_TYPES)
    stored = json.dumps(quiz.to_dict())
    for marker in ("FEEDBACK-single-right", "GENERAL-matching", "SECRETANSWERONE", "97531", "0.375"):
        assert marker in stored  # so their absence below means something


@pytest.mark.parametrize("seed", [0, 1, 2, 12345, 2**40])
def test_public_views_carry_no_answer_key(quiz, seed):
    views = public_questions(quiz, attempt_layout(quiz, seed))
    assert [view["type"] for view in views if view["type"] != "description"]
    assert {view["id"] for view in views} == {q.id for q in quiz.questions}
    for view in views:
        assert set(view) == ALLOWED[view["type"]]
        for item in view.get("options", []) + view.get("prompts", []) + view.get("choices", []):
            assert set(item) == {"id", "text_html"}
        serialised = json.dumps(view, ensure_ascii=False)
        for marker in MARKERS:
            assert marker not in serialised, (marker, serialised)
        assert not keys(view) & FORBIDDEN_KEYS


def test_each_type_alone_with_no_layout(quiz):
    for question in quiz.questions:
        view = QUESTION_TYPES[question.type].public_view(question)
        serialised = json.dumps(view)
        assert not any(marker in serialised for marker in MARKERS)
        assert set(view) == ALLOWED[question.type]


def test_the_views_do_show_the_question_and_option_texts(quiz):
    views = {view["type"]: view for view in public_questions(quiz, attempt_layout(quiz, 7))}
    assert views["single"]["text_html"] == "<p>Pick one.</p>"
    assert sorted(o["text_html"] for o in views["single"]["options"]) == ["Option one", "Option three", "Option two"]
    assert sorted(c["text_html"] for c in views["matching"]["choices"]) == [
        "Answer distractor", "Answer one", "Answer three", "Answer two"
    ]
    assert views["multiple"]["points"] == 3.0


def test_matching_choice_ids_do_not_reveal_the_pairs(quiz):
    question = next(q for q in quiz.questions if q.type == "matching")
    prompt_ids = {p.id for p in Matching.prompts(question)}
    right_positions = set()
    for seed in range(40):
        layout = attempt_layout(quiz, seed)
        view = QUESTION_TYPES["matching"].public_view(
            question, layout.option_orders[question.id], layout.choice_orders[question.id]
        )
        tokens = [choice["id"] for choice in view["choices"]]
        assert tokens == [f"c{i}" for i in range(1, 5)]
        assert not set(tokens) & prompt_ids
        # where the answer to "Prompt one" sits changes with the attempt
        right_positions.add(next(c["id"] for c in view["choices"] if c["text_html"] == "Answer one"))
        # and the tokens the browser sends back grade correctly
        form = {question.id: {"a": _token(view, "Answer one"), "b": _token(view, "Answer two"),
                              "c": _token(view, "Answer three")}}
        answers = parse_answers(quiz, layout, form)
        assert QUESTION_TYPES["matching"].grade(question, answers[question.id]).is_correct
    assert len(right_positions) > 1


def _token(view: dict, text: str) -> str:
    return next(choice["id"] for choice in view["choices"] if choice["text_html"] == text)


def test_gift_quiz_views_carry_no_answer_key():
    text = (
        "// kind: quiz\n// title: t\n// minutes: 1\n\n"
        "Pick?{=RIGHTMARK#FBMARK1 ~other#FBMARK2 ####GENMARK}\n\n"
        "Type?{=TYPEDMARK#FBMARK3}\n\n"
        "Num?{#=%50%7777:1#FBMARK4 =5555 ~#FBMARK5}\n\n"
        "True?{TRUE#FBMARK6#FBMARK7}\n\n"
        "Match?{=p1 -> m1 =p2 -> m2}\n"
    )
    _, quiz, problems = parse_gift(text, path="x.gift")
    assert problems == []
    quiz = render_quiz(quiz, escaping_render)
    serialised = json.dumps(public_questions(quiz, attempt_layout(quiz, 3)))
    for marker in ("FBMARK", "GENMARK", "TYPEDMARK", "7777", "5555"):
        assert marker not in serialised
    assert "RIGHTMARK" in serialised  # an option text is meant to be shown
