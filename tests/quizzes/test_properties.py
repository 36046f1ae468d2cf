"""Property tests: on arbitrary input the parsers either parse or report problems with a
line number, and never raise; grading never raises; a clean parse round-trips."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.content.problems import Problem
from app.quizzes.authoring import parse_gift, parse_gift_bytes, parse_quiz_markdown, quiz_structure, render_quiz
from app.quizzes.grading import attempt_layout, grade_attempt, parse_answers, public_questions
from app.quizzes.spec import Quiz
from app.quizzes.normalise import normalise_answer, parse_learner_number
from app.quizzes.types import QUESTION_TYPES
from tests.quizzes.conftest import escaping_render

pytestmark = pytest.mark.filterwarnings("error")

PATH = "courses/p/01-q.en.md"

# Pieces of both syntaxes, so that generated text often comes close to valid input.
MARKDOWN_PIECES = [
    "## single: ", "## multiple: ", "## true-false: ", "## short: ", "## numerical: ", "## matching: ",
    "## description: ", "## x: ", "## ", "- [x] ", "- [ ] ", "- [50%] ", "- [-25%] ", "- [33.333%] ",
    "- [50] ", "- ", " -> ", "  > ", "> ", "\n", "\n\n", "{#id}", "{points=2}", "{#a points=0}", "*", "2014",
    "1..5", "3 ± 1", "+-", "```\n", "~~~\n", "Bakı", "ვინ", "Երևան", "ёлка", "\t", "\r\n", " ",
]
GIFT_PIECES = [
    "::", "::name::", "{", "}", "=", "~", "#", "####", "->", "%50%", "%-100%", "%33.3%", "%x%", "T", "FALSE",
    "TRUE#a#b", "#1..5", "#5:0.5", "~#", "//", "// kind: quiz\n", "// pass_mark: 80\n", "$CATEGORY: x\n",
    "[html]", "[plain]", "[markdown]", "[moodle]", "[id:1]", "\\", "\\n", "\\{", "\\:", "\\=", "\n", "\n\n",
    "<b>", "Bakı", "ვინ", " ", "..", ":", "-",
]


def text_from(pieces: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=300),
        st.lists(st.sampled_from(pieces) | st.text(max_size=5), max_size=60).map("".join),
    )


def check_outcome(quiz: object, problems: list[Problem], path: str) -> None:
    assert isinstance(quiz, Quiz)
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.path == path
        assert problem.line >= 1
        assert problem.message
    if problems:
        return
    # A clean parse is a usable quiz: stored, read back, rendered, shown, graded.
    data = json.loads(json.dumps(quiz.to_dict()))
    assert Quiz.from_dict(data) == quiz
    assert all(question.type in QUESTION_TYPES for question in quiz.questions)
    rendered = render_quiz(quiz, escaping_render)
    layout = attempt_layout(rendered, 1)
    json.dumps(public_questions(rendered, layout))
    result = grade_attempt(rendered, {})
    assert result.points == 0 and result.max_points > 0


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=text_from(MARKDOWN_PIECES), first_line=st.integers(min_value=1, max_value=500))
def test_markdown_parser_never_raises(body, first_line):
    quiz, problems = parse_quiz_markdown(body, {"kind": "quiz"}, path=PATH, first_line=first_line)
    check_outcome(quiz, problems, PATH)
    assert all(problem.line >= first_line for problem in problems)


@settings(max_examples=100, deadline=None)
@given(meta=st.dictionaries(st.text(max_size=12) | st.integers(), st.none() | st.booleans() | st.integers()
                            | st.floats() | st.text(max_size=10) | st.lists(st.integers(), max_size=3), max_size=6))
def test_markdown_parser_takes_any_front_matter(meta):
    quiz, problems = parse_quiz_markdown("## single: q\n\n- [x] a\n- [ ] b\n", meta, path=PATH, first_line=5)
    assert isinstance(quiz, Quiz)
    assert all(problem.line >= 1 for problem in problems)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=text_from(GIFT_PIECES))
def test_gift_parser_never_raises(text):
    meta, quiz, problems = parse_gift(text, path=PATH)
    assert isinstance(meta, dict)
    check_outcome(quiz, problems, PATH)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300) | text_from(GIFT_PIECES).map(lambda t: t.encode("utf-8")))
def test_gift_bytes_never_raise(data):
    _, quiz, problems = parse_gift_bytes(data, path=PATH)
    check_outcome(quiz, problems, PATH)


ANY_ANSWER = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4),
    max_leaves=10,
)

QUIZ = """## single: s

- [x] a
- [-50%] b

## multiple: m

- [50%] a
- [50%] b
- [-100%] c

## true-false: t

- [x] True
- [ ] False

## short: sh

- [x] Bakı
- [ ] *

## numerical: n

- [x] 5 ± 1
- [ ] *

## matching: ma

- a -> 1
- b -> 2
- -> 3

## description: d
"""


@pytest.fixture(scope="module")
def full_quiz() -> Quiz:
    quiz, problems = parse_quiz_markdown(QUIZ, {}, path=PATH, first_line=1)
    assert problems == []
    return quiz


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=ANY_ANSWER, seed=st.integers(min_value=0, max_value=2**63))
def test_any_form_input_parses_and_grades_within_bounds(full_quiz, raw, seed):
    layout = attempt_layout(full_quiz, seed)
    form = {question.id: raw for question in full_quiz.questions}
    answers = parse_answers(full_quiz, layout, form)
    result = grade_attempt(full_quiz, answers)
    assert 0 <= result.points <= result.max_points
    assert 0 <= result.percent <= 100
    for question in full_quiz.questions:
        grade = QUESTION_TYPES[question.type].grade(question, raw)  # even unparsed garbage
        assert 0.0 <= grade.fraction <= 1.0


LETTERS = "aAıIiİəƏǝşŞçÇöÖüÜğĞёЁеЕևԵՎեվւՒабвгდვინᲓᲕ \t\u00a0\u200b\u0301\u0307\u0308\u0327"


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=LETTERS, max_size=30))
def test_normalisation_is_stable_on_our_alphabets(text):
    once = normalise_answer(text)
    assert normalise_answer(once) == once
    assert once == once.strip()
    assert "  " not in once


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40))
def test_normalisation_and_number_reading_never_raise(text):
    assert isinstance(normalise_answer(text), str)
    value = parse_learner_number(text)
    assert value is None or isinstance(value, float)


@given(value=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_learner_numbers_read_back_what_python_writes(value):
    assert parse_learner_number(repr(value)) == value


# The same quiz written in both syntaxes parses cleanly into the same structure.

WORDS = st.text(alphabet="abcdefghijklmnop ვინსəıçşЁёՎվԵ", min_size=1, max_size=10).map(str.strip).filter(bool)
MULTIPLE_SPLITS = [[100], [50, 50], [20, 30, 50], [25, 25, 25, 25]]


@st.composite
def question_spec(draw, qid: str) -> tuple[str, str, str]:
    """(type, Nergi syntax, GIFT) for one valid question with id ``qid``."""
    qtype = draw(st.sampled_from(sorted(QUESTION_TYPES)))
    text = draw(WORDS)
    unique = st.lists(WORDS, min_size=2, max_size=5, unique_by=normalise_answer)
    if qtype == "single":
        options = draw(unique)
        right = draw(st.integers(0, len(options) - 1))
        md = [f"- [{'x' if i == right else ' '}] {o}" for i, o in enumerate(options)]
        gift = [f"{'=' if i == right else '~'}{o}" for i, o in enumerate(options)]
    elif qtype == "multiple":
        split = draw(st.sampled_from(MULTIPLE_SPLITS))
        wrong = draw(st.lists(st.sampled_from([0, -50, -100]), min_size=0 if len(split) > 1 else 1, max_size=3))
        weights = split + wrong
        options = draw(st.lists(WORDS, min_size=len(weights), max_size=len(weights), unique_by=normalise_answer))
        md = [f"- [{w}%] {o}" for w, o in zip(weights, options)]
        gift = [f"~%{w}%{o}" for w, o in zip(weights, options)]
    elif qtype == "true-false":
        is_true = draw(st.booleans())
        md = [f"- [{'x' if is_true else ' '}] True", f"- [{' ' if is_true else 'x'}] False"]
        gift = ["T" if is_true else "F"]
    elif qtype == "short":
        options = draw(unique)
        md = [f"- [x] {o}" for o in options]
        gift = [f"={o}" for o in options]
    elif qtype == "numerical":
        low, spread = draw(st.integers(-1000, 1000)), draw(st.integers(0, 50))
        md, gift = (([f"- [x] {low} ± {spread}"], [f"#{low}:{spread}"]) if draw(st.booleans())
                    else ([f"- [x] {low}..{low + spread}"], [f"#{low}..{low + spread}"]))
    elif qtype == "matching":
        prompts = draw(unique)
        answers = draw(st.lists(WORDS, min_size=len(prompts) + 1, max_size=len(prompts) + 1, unique_by=normalise_answer))
        md = [f"- {p} -> {a}" for p, a in zip(prompts, answers)] + [f"- -> {answers[-1]}"]
        gift = [f"={p} -> {a}" for p, a in zip(prompts, answers)] + [f"= -> {answers[-1]}"]
    else:
        return qtype, f"## description: {text} {{#{qid}}}\n", f"::{qid}::{text}\n"
    md_text = f"## {qtype}: {text} {{#{qid}}}\n\n" + "\n".join(md) + "\n"
    return qtype, md_text, f"::{qid}::{text}{{\n" + "\n".join(gift) + "\n}\n"


@st.composite
def quiz_spec(draw) -> tuple[list[str], str, str]:
    count = draw(st.integers(1, 6))
    specs = [draw(question_spec(f"q{i}")) for i in range(1, count + 1)]
    if all(qtype == "description" for qtype, _, _ in specs):
        specs.append(("single", "## single: s {#last}\n\n- [x] a\n- [ ] b\n", "::last::s{=a ~b}\n"))
    return [s[0] for s in specs], "\n".join(s[1] for s in specs), "\n".join(s[2] for s in specs)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=quiz_spec())
def test_both_syntaxes_give_one_model(spec):
    types, md_text, gift_text = spec
    md_quiz, md_problems = parse_quiz_markdown(md_text, {}, path=PATH, first_line=1)
    _, gift_quiz, gift_problems = parse_gift(gift_text, path=PATH)
    assert md_problems == [] and gift_problems == []
    assert [q.type for q in md_quiz.questions] == types
    assert quiz_structure(md_quiz) == quiz_structure(gift_quiz)
    for quiz in (md_quiz, gift_quiz):
        check_outcome(quiz, [], PATH)
        right = {}
        for question in quiz.questions:
            if question.type in ("single", "true-false"):
                right[question.id] = next(o.id for o in question.options if o.weight == 1)
            elif question.type == "multiple":
                right[question.id] = [o.id for o in question.options if o.weight > 0]
            elif question.type in ("short", "numerical"):
                option = question.options[0]
                right[question.id] = option.text_md if question.type == "short" else repr(option.low)
            elif question.type == "matching":
                right[question.id] = {o.id: o.id for o in question.options if o.text_md}
        assert grade_attempt(quiz, right).percent == 100.0
