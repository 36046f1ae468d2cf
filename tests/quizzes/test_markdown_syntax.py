"""Nergi's quiz syntax: one test per element, and one per error with its exact path:line.

The bodies below start on file line 8 (``first_line=8``), so the Nth line of a body
(counting from 1) is file line N + 7.
"""
from __future__ import annotations

import pytest

from app.quizzes.authoring import parse_quiz_markdown
from app.quizzes.spec import Option, QuizSettings
from tests.quizzes.conftest import BASE_META, PATH

pytestmark = pytest.mark.filterwarnings("error")


def messages(problems) -> list[str]:
    return [str(problem) for problem in problems]


# Elements


def test_documented_example_parses_into_the_model(parse_md):
    body = """Read the case first.

## single: Who is the primary duty-bearer? {#duty-bearer}

- [ ] A local CSO
  > CSOs support people.
- [x] The State and its institutions
  > Right: the HRBA places the obligations on the State.

> The HRBA distinguishes rights-holders from duty-bearers.
"""
    quiz, problems = parse_md(body, {"pass_mark": 80, "attempts": 3})
    assert problems == []
    assert quiz.intro_md == "Read the case first."
    assert quiz.settings == QuizSettings(pass_mark=80.0, attempts=3)
    (q,) = quiz.questions
    assert (q.id, q.type, q.points, q.text_md) == ("duty-bearer", "single", 1.0, "Who is the primary duty-bearer?")
    assert q.feedback_md == "The HRBA distinguishes rights-holders from duty-bearers."
    assert q.options == [
        Option(id="a", text_md="A local CSO", weight=0.0, feedback_md="CSOs support people."),
        Option(id="b", text_md="The State and its institutions", weight=1.0,
               feedback_md="Right: the HRBA places the obligations on the State."),
    ]
    assert q.line == 10


def test_default_ids_and_points_by_position(parse_md):
    body = "## single: One\n\n- [x] a\n- [ ] b\n\n## true-false: Two {points=2.5}\n\n- [x] True\n- [ ] False\n"
    quiz, problems = parse_md(body)
    assert problems == []
    assert [(q.id, q.points) for q in quiz.questions] == [("q1", 1.0), ("q2", 2.5)]


def test_id_and_points_together_and_closing_hashes(parse_md):
    quiz, problems = parse_md("## single: One {#first points=3} ##\n\n- [x] a\n- [ ] b\n")
    assert problems == []
    assert (quiz.questions[0].id, quiz.questions[0].points) == ("first", 3.0)


def test_paragraphs_after_the_heading_add_to_the_text(parse_md):
    body = "## single: The heading.\n\nFirst paragraph.\n\nSecond *paragraph*.\n\n- [x] a\n- [ ] b\n"
    quiz, _ = parse_md(body)
    assert quiz.questions[0].text_md == "The heading.\n\nFirst paragraph.\n\nSecond *paragraph*."


def test_a_list_without_boxes_stays_in_the_question_text(parse_md):
    body = "## single: Consider:\n\n- a fact\n- [a link](https://example.org)\n\n- [x] a\n- [ ] b\n"
    quiz, problems = parse_md(body)
    assert problems == []
    assert "- a fact" in quiz.questions[0].text_md
    assert [o.text_md for o in quiz.questions[0].options] == ["a", "b"]


def test_weights_decimal_negative_and_upper_case_x(parse_md):
    body = "## multiple: q\n\n- [33.333%] a\n- [33.333%] b\n- [33.334%] c\n- [-25%] d\n- [ ] e\n"
    quiz, problems = parse_md(body)
    assert problems == []
    assert [o.weight for o in quiz.questions[0].options] == [0.33333, 0.33333, 0.33334, -0.25, 0.0]
    quiz, problems = parse_md("## single: q\n\n- [X] a\n- [+0%] b\n")
    assert problems == []
    assert [o.weight for o in quiz.questions[0].options] == [1.0, 0.0]


def test_option_feedback_over_several_lines_and_paragraphs(parse_md):
    body = "## single: q\n\n- [x] a\n  > line one\n  > line two\n  >\n  > second paragraph\n- [ ] b\n"
    quiz, problems = parse_md(body)
    assert problems == []
    assert quiz.questions[0].options[0].feedback_md == "line one\nline two\n\nsecond paragraph"


def test_option_text_continues_on_indented_lines(parse_md):
    quiz, problems = parse_md("## single: q\n\n- [x] a long\n  option text\n  > feedback\n- [ ] b\n")
    assert problems == []
    option = quiz.questions[0].options[0]
    assert (option.text_md, option.feedback_md) == ("a long option text", "feedback")


def test_general_feedback_over_several_paragraphs(parse_md):
    quiz, problems = parse_md("## single: q\n\n- [x] a\n- [ ] b\n\n> one\n>\n> two\n\n> three\n")
    assert problems == []
    assert quiz.questions[0].feedback_md == "one\n\ntwo\n\nthree"


def test_true_false_options_in_any_language(parse_md):
    quiz, problems = parse_md("## true-false: დედაქალაქი თბილისია.\n\n- [x] მართალია\n  > სწორია.\n- [ ] მცდარია\n")
    assert problems == []
    q = quiz.questions[0]
    assert [(o.id, o.text_md, o.weight) for o in q.options] == [("a", "მართალია", 1.0), ("b", "მცდარია", 0.0)]


def test_short_answers_and_catch_all(parse_md):
    quiz, problems = parse_md("## short: q\n\n- [x] Sakrebulo\n- [50%] Council\n- [ ] *\n  > other\n")
    assert problems == []
    options = quiz.questions[0].options
    assert [(o.text_md, o.weight, o.is_catch_all) for o in options] == [
        ("Sakrebulo", 1.0, False), ("Council", 0.5, False), ("*", 0.0, True)
    ]
    assert options[2].feedback_md == "other"


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("2014", 2014, 2014),
        ("-3.5", -3.5, -3.5),
        ("5 ± 0.5", 4.5, 5.5),
        ("5 +- 0.5", 4.5, 5.5),
        ("5+-2", 3, 7),
        ("2013..2015", 2013, 2015),
        ("-10 .. -5", -10, -5),
        ("1.5..2.5", 1.5, 2.5),
        ("1e3", 1000, 1000),
    ],
)
def test_numerical_answers(parse_md, value, low, high):
    quiz, problems = parse_md(f"## numerical: q\n\n- [x] {value}\n- [ ] *\n")
    assert problems == []
    option = quiz.questions[0].options[0]
    assert (option.low, option.high) == (low, high)
    assert quiz.questions[0].options[1].is_catch_all


def test_matching_pairs_and_distractor(parse_md):
    body = "## matching: Match.\n\n- Respect -> does not close\n- Protect -> stops\n-  -> writes the budget\n"
    quiz, problems = parse_md(body)
    assert problems == []
    options = quiz.questions[0].options
    assert [(o.id, o.text_md, o.match_md) for o in options] == [
        ("a", "Respect", "does not close"), ("b", "Protect", "stops"), ("c", "", "writes the budget")
    ]


def test_description_keeps_everything_as_text(parse_md):
    body = "## description: Read the case.\n\nIn Dmanisi…\n\n- a list\n- [x] even this\n\n## single: q\n\n- [x] a\n- [ ] b\n"
    quiz, problems = parse_md(body)
    assert problems == []
    desc = quiz.questions[0]
    assert (desc.type, desc.points, desc.options) == ("description", 0.0, [])
    assert desc.text_md == "Read the case.\n\nIn Dmanisi…\n\n- a list\n- [x] even this"


def test_fenced_code_never_starts_a_question_or_an_option(parse_md):
    body = "Intro\n\n```\n## single: not a question\n```\n\n## single: q\n\n~~~\n- [x] not an option\n~~~\n\n- [x] a\n- [ ] b\n"
    quiz, problems = parse_md(body)
    assert problems == []
    assert len(quiz.questions) == 1
    assert "## single: not a question" in quiz.intro_md
    assert "- [x] not an option" in quiz.questions[0].text_md
    assert [o.text_md for o in quiz.questions[0].options] == ["a", "b"]


def test_windows_line_endings(parse_md):
    quiz, problems = parse_md("## single: q\r\n\r\n- [x] a\r\n  > fb\r\n- [ ] b\r\n")
    assert problems == []
    assert quiz.questions[0].options[0].feedback_md == "fb"


def test_type_names_are_case_insensitive(parse_md):
    quiz, problems = parse_md("## Single: q\n\n- [x] a\n- [ ] b\n")
    assert problems == []
    assert quiz.questions[0].type == "single"


# Errors, each with its exact path:line


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("## singel: q\n\n- [x] a\n- [ ] b\n", "8|unknown question type 'singel' (did you mean 'single'?)"),
        ("Intro\n\n## Notes\n\ntext\n", "10|a question heading is written '## <type>: <question>'"),
        ("## single:\n\n- [x] a\n- [ ] b\n", "8|the question has no text after the type"),
        ("## single: q\n\n- [x] a\n- [x] b\n", "8|a single-choice question needs exactly one correct option ([x]), found 2"),
        ("## single: q\n\n- [ ] a\n- [ ] b\n", "8|a single-choice question needs exactly one correct option ([x]), found 0"),
        ("## single: q\n\n- [x] a\n", "8|a single-choice question needs at least two options"),
        ("## multiple: q\n\n- [40%] a\n- [50%] b\n- [-50%] c\n",
         "8|the positive weights of a multiple-response question must add up to 100% (they add up to 90%)"),
        ("## multiple: q\n\n- [x] a\n- [50%] b\n", "8|mix of [x] and positive percentages"),
        ("## true-false: q\n\n- [x] True\n- [ ] False\n- [ ] Maybe\n",
         "8|a true-false question needs exactly two options, one marked [x] and one [ ]"),
        ("## true-false: q\n\n- [x] True\n- [x] False\n",
         "8|a true-false question needs exactly two options, one marked [x] and one [ ]"),
        ("## true-false: q\n\n- [x] True\n- [50%] False\n",
         "8|a true-false question needs exactly two options, one marked [x] and one [ ]"),
        ("## single: q\n\n- [x] a\n- [50] b\n", "11|malformed weight [50]"),
        ("## single: q\n\n- [x] a\n- [150%] b\n", "11|malformed weight [150%]"),
        ("## single: q\n\n- [x] a\n- [1.2.3%] b\n", "11|malformed weight [1.2.3%]"),
        ("## single: q\n\n- [x] a\n- b\n", "11|an option needs a box: [x], [ ] or a weight such as [50%]"),
        ("## single: q\n\n- [x]\n- [ ] b\n", "10|an option has no text"),
        ("## numerical: q\n\n- [x] about 2014\n", "10|numerical answer not understood: 'about 2014'"),
        ("## numerical: q\n\n- [x] 2014\n- [x] 5 ± -1\n", "11|the tolerance in '5 ± -1' is negative"),
        ("## numerical: q\n\n- [x] 2015..2013\n", "10|the range '2015..2013' ends below its start"),
        ("## numerical: q\n\n- [x] 1,5\n", "10|numerical answer not understood: '1,5'"),
        ("## numerical: q\n\n- [-50%] 3\n- [x] 2\n", "10|negative weight -50%: only choice questions may take points away"),
        ("## matching: q\n\n- a -> 1\n- b = 2\n", "11|a matching line needs '->' between the prompt and its answer"),
        ("## matching: q\n\n- a -> 1\n", "8|a matching question needs at least two pairs"),
        ("## matching: q\n\n- a -> 1\n- b -> 2\n- c ->\n", "12|nothing after '->'"),
        ("## matching: q\n\n- a -> 1\n- b -> 2\n- -> 1\n", "12|the distractor '1' repeats an answer"),
        ("## matching: q\n\n- a -> 1\n- A -> 2\n", "11|duplicate prompt 'A'"),
        ("## single: q\n\nJust text.\n", "8|the question has no options"),
        ("## short: q\n\n- [50%] half\n- [ ] *\n", "8|at least one answer must be correct ([x] or 100%)"),
        ("## short: q\n\n- [x] a\n- [ ] *\n- [ ] *\n", "12|only one catch-all (*) answer is allowed"),
        ("## short: q\n\n- [x] a\n- [x] *\n", "11|the catch-all (*) answer only gives feedback: mark it [ ]"),
        ("## short: q\n\n- [x] Bakı\n- [x] BAKI\n", "11|duplicate answer 'BAKI'"),
        ("## single: q {#id foo=1}\n\n- [x] a\n- [ ] b\n", "8|unknown attribute 'foo=1'"),
        ("## single: q {#bad!id}\n\n- [x] a\n- [ ] b\n", "8|bad question id '#bad!id'"),
        ("## single: q {points=0}\n\n- [x] a\n- [ ] b\n", "8|points must be a number above 0 (got '0')"),
        ("## single: q {points=many}\n\n- [x] a\n- [ ] b\n", "8|points must be a number above 0 (got 'many')"),
        ("## description: Read {points=2}\n\ntext\n\n## single: q\n\n- [x] a\n- [ ] b\n",
         "8|a description is not graded: remove points="),
        ("## single: q\n\n- [x] a\n- [ ] b\n\nMore text.\n", "13|text after the options"),
        ("## single: q\n\n- [x] a\n- [ ] b\n\n> fb\n\nMore text.\n", "15|text after the general feedback"),
        ("## description: Only a description.\n", "8|a quiz needs at least one graded question"),
        ("Only an introduction.\n", "8|a quiz needs at least one graded question"),
    ],
)
def test_errors_carry_path_and_line(parse_md, body, expected):
    line, message = expected.split("|", 1)
    _, problems = parse_md(body)
    found = messages(problems)
    assert any(text.startswith(f"{PATH}:{line}: {message}") for text in found), found


def test_duplicate_ids_are_reported_on_the_second_question(parse_md):
    body = "## single: one {#same}\n\n- [x] a\n- [ ] b\n\n## single: two {#same}\n\n- [x] a\n- [ ] b\n"
    _, problems = parse_md(body)
    assert messages(problems) == [f"{PATH}:13: duplicate question id 'same' (first used on line 8)"]


def test_an_explicit_id_may_clash_with_a_default_one(parse_md):
    body = "## single: one\n\n- [x] a\n- [ ] b\n\n## single: two {#q1}\n\n- [x] a\n- [ ] b\n"
    _, problems = parse_md(body)
    assert messages(problems) == [f"{PATH}:13: duplicate question id 'q1' (first used on line 8)"]


def test_a_syntax_error_is_not_echoed_by_the_model_checks(parse_md):
    _, problems = parse_md("## single: q\n\n- [x] a\n- [5O%] b\n- [bad%] c\n")
    assert messages(problems) == [
        f"{PATH}:11: an option needs a box: [x], [ ] or a weight such as [50%]",
        f"{PATH}:12: an option needs a box: [x], [ ] or a weight such as [50%]",
    ]


def test_settings_problems_use_the_front_matter_lines():
    lines = {"pass_mark": 5, "grading": 6, "pass_marks": 7}
    meta = {**BASE_META, "pass_mark": 120, "grading": "best", "pass_marks": 1}
    quiz, problems = parse_quiz_markdown(
        "## single: q\n\n- [x] a\n- [ ] b\n", meta, path=PATH, first_line=9, meta_line_of=lines.__getitem__
    )
    assert messages(problems) == [
        f"{PATH}:5: pass_mark must be a percentage from 0 to 100",
        f"{PATH}:6: grading must be one of highest, last, first, average",
        f"{PATH}:7: unknown front-matter key 'pass_marks' (did you mean 'pass_mark'?)",
    ]
    assert quiz.settings == QuizSettings()


def test_an_unreadable_question_is_reported_once(parse_md):
    _, problems = parse_md("## singel: q\n\n- [x] a\n- [ ] b\n")
    assert messages(problems) == [f"{PATH}:8: unknown question type 'singel' (did you mean 'single'?)"]


def test_problems_are_sorted_by_line(parse_md):
    body = "## single: q\n\n- [x] a\n- [x] b\n\n## nope: q\n"
    _, problems = parse_md(body)
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    assert len(problems) == 2
