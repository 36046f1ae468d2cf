"""GIFT: one test per syntax element of the support list, asserting the parsed model."""
from __future__ import annotations

import markdown
import pytest

from app.quizzes.authoring import parse_gift, parse_gift_bytes, parse_gift_with_warnings, render_quiz
from app.quizzes.grading import grade_attempt
from app.quizzes.spec import BLANK_MD, Option, Question, Quiz, QuizSettings
from app.quizzes.types import QUESTION_TYPES
from tests.quizzes.conftest import escaping_render

pytestmark = pytest.mark.filterwarnings("error")

PATH = "courses/demo/03-final.en.gift"
HEADER = "// kind: quiz\n// title: Final check\n// minutes: 10\n\n"  # 4 lines


def gift(text: str, header: str = HEADER):
    meta, quiz, problems = parse_gift(header + text, path=PATH)
    return meta, quiz, [str(problem) for problem in problems]


def one(text: str) -> Question:
    _, quiz, problems = gift(text)
    assert problems == []
    assert len(quiz.questions) == 1
    return quiz.questions[0]


def test_documented_example():
    text = """// kind: quiz
// title: Final check
// minutes: 10
// pass_mark: 80

::duty-bearer:: Who is the primary duty-bearer? {
  =The State, including the municipality #Right.
  ~A local CSO #CSOs support; they do not take over the State's obligations.
}
"""
    meta, quiz, problems = parse_gift(text, path=PATH)
    assert problems == []
    assert meta == {"kind": "quiz", "title": "Final check", "minutes": 10, "pass_mark": 80}
    assert quiz.settings == QuizSettings(pass_mark=80.0)
    (q,) = quiz.questions
    assert (q.id, q.type, q.text_md, q.points, q.line) == ("duty-bearer", "single", "Who is the primary duty-bearer?", 1.0, 6)
    assert q.options == [
        Option(id="a", text_md="The State, including the municipality", weight=1.0, feedback_md="Right."),
        Option(id="b", text_md="A local CSO", weight=0.0,
               feedback_md="CSOs support; they do not take over the State's obligations."),
    ]


def test_name_becomes_the_id():
    assert one("::Q1 Grant's tomb::Who is buried?{=no one}").id == "q1-grant-s-tomb"
    assert one("::ka-1::კითხვა?{=პასუხი}").id == "ka-1"


def test_without_a_name_the_id_is_by_position():
    _, quiz, problems = gift("First?{=a}\n\n::named::Second?{=b}\n\nThird?{=c}")
    assert problems == []
    assert [q.id for q in quiz.questions] == ["q1", "named", "q3"]


def test_comments_are_ignored_with_id_and_tag():
    q = one("// a comment\n// [id:Q-77] [tag:hrba] [tag:easy]\nWho?{\n// inside the block too\n=no one\n}")
    assert (q.text_md, [o.text_md for o in q.options]) == ("Who?", ["no one"])


def test_category_lines_are_ignored():
    _, quiz, problems = gift("$CATEGORY: $course$/top/Default\n\n$CATEGORY: x\nWho?{=no one}\n")
    assert problems == []
    assert [q.text_md for q in quiz.questions] == ["Who?"]


def test_markdown_and_moodle_text_is_kept():
    assert one("[markdown]Who is **buried**?{=no one}").text_md == "Who is **buried**?"
    assert one("[moodle]Who is *buried*?{=no one}").text_md == "Who is *buried*?"
    assert one("Who is *buried*?{=no one}").text_md == "Who is *buried*?"


def test_html_text_is_kept_for_the_render_sanitiser():
    q = one('[html]<p onclick="x()">Who is <b>buried</b>?</p>{=no one}')
    assert q.text_md == '<p onclick="x()">Who is <b>buried</b>?</p>'
    seen = []

    def sanitising_render(text: str, *, inline: bool = False) -> str:
        seen.append(text)
        return escaping_render(text, inline=inline)

    rendered = render_quiz(Quiz(questions=[q]), sanitising_render).questions[0]
    # The raw HTML goes to the render callable (render_markdown, which sanitises after
    # rendering); what it returns is what is stored.
    assert seen[0] == q.text_md
    assert rendered.text_html == str(escaping_render(q.text_md))


def test_plain_text_shows_literally_after_markdown():
    q = one("[plain]Who's *buried* in <b>Grant's</b> tomb?\\nNew line.{=no one}")
    html = markdown.markdown(q.text_md)
    assert "<em>" not in html and "<b>" not in html
    assert "*buried*" in html.replace("&#42;", "*")
    assert "&lt;b&gt;" in html or "&#60;b&#62;" in html
    assert "<br />" in html


def test_answers_and_feedback_take_the_question_format_or_their_own():
    q = one("[plain]Pick {=*a*#*fb* ~[markdown]*b*}")
    assert q.options[0].text_md == "&#42;a&#42;"
    assert q.options[0].feedback_md == "&#42;fb&#42;"
    assert q.options[1].text_md == "*b*"


def test_escapes():
    q = one(r"Escapes \~ \= \# \{ \} \: and a\nnew line, a \\ backslash?{=a\=b\#c \~ d\:e#fb \{x\}}")
    assert q.text_md == "Escapes ~ = # { } : and a\nnew line, a \\ backslash?"
    (option,) = q.options
    assert (option.text_md, option.feedback_md) == ("a=b#c ~ d:e", "fb {x}")


def test_escaped_backslash_before_n_is_not_a_new_line():
    assert one(r"a\\nb?{=x}").text_md == "a\\nb?"


@pytest.mark.parametrize(
    ("answers", "weights"),
    [
        ("~%50%a ~%50%b ~%-100%c", [0.5, 0.5, -1.0]),
        ("~%33.333%a ~%33.333%b ~%33.334%c ~d", [0.33333, 0.33333, 0.33334, 0.0]),
        ("~%100%a ~%-12.5%b", [1.0, -0.125]),
    ],
)
def test_weights_make_a_multiple_response(answers, weights):
    q = one(f"Which?{{{answers}}}")
    assert q.type == "multiple"
    assert [o.weight for o in q.options] == weights


def test_one_equals_answer_makes_a_single_choice_with_partial_credit():
    q = one("Which?{=right ~%50%half ~wrong}")
    assert (q.type, [o.weight for o in q.options]) == ("single", [1.0, 0.5, 0.0])


def test_per_answer_feedback_and_general_feedback():
    q = one("Which?{\n=right#fb-right\n~wrong#fb-wrong\n####General **feedback**.\n}")
    assert [o.feedback_md for o in q.options] == ["fb-right", "fb-wrong"]
    assert q.feedback_md == "General **feedback**."


@pytest.mark.parametrize(
    ("block", "true_weight"),
    [("{T}", 1.0), ("{TRUE}", 1.0), ("{F}", 0.0), ("{FALSE}", 0.0), ("{true}", 1.0)],
)
def test_true_false(block, true_weight):
    q = one(f"Grant is buried in Grant's tomb.{block}")
    assert q.type == "true-false"
    assert [(o.id, o.text_md, o.weight) for o in q.options] == [("a", "True", true_weight), ("b", "False", 1 - true_weight)]


def test_true_false_feedback_for_wrong_and_right():
    q = one("The sky is blue.{TRUE#wrong-fb#right-fb}")
    assert [(o.text_md, o.feedback_md) for o in q.options] == [("True", "right-fb"), ("False", "wrong-fb")]
    q = one("The sky is green.{FALSE#wrong-fb#right-fb}")
    assert [(o.text_md, o.feedback_md) for o in q.options] == [("True", "wrong-fb"), ("False", "right-fb")]
    tf = QUESTION_TYPES["true-false"]
    assert (tf.grade(q, "b").fraction, tf.grade(q, "b").feedback_md) == (1.0, "right-fb")
    assert (tf.grade(q, "a").fraction, tf.grade(q, "a").feedback_md) == (0.0, "wrong-fb")


def test_short_answer_with_weights():
    q = one("Who's buried in Grant's tomb?{=no one =nobody#also right =%50%Grant#half}")
    assert q.type == "short"
    assert [(o.text_md, o.weight, o.feedback_md) for o in q.options] == [
        ("no one", 1.0, ""), ("nobody", 1.0, "also right"), ("Grant", 0.5, "half")
    ]


def test_numerical_tolerance():
    q = one("When was Ulysses S. Grant born?{#1822:5}")
    assert q.type == "numerical"
    assert [(o.text_md, o.low, o.high, o.weight) for o in q.options] == [("1822:5", 1817.0, 1827.0, 1.0)]


def test_numerical_range():
    q = one("What is a number from 1 to 5?{#1..5}")
    assert [(o.low, o.high) for o in q.options] == [(1.0, 5.0)]


def test_numerical_several_answers_and_catch_all():
    q = one("When was Grant born?{#\n=1822:0#Right\n=%50%1822:2#Close\n~#Look it up.\n}")
    assert [(o.low, o.high, o.weight, o.is_catch_all, o.feedback_md) for o in q.options] == [
        (1822.0, 1822.0, 1.0, False, "Right"),
        (1820.0, 1824.0, 0.5, False, "Close"),
        (None, None, 0.0, True, "Look it up."),
    ]
    numerical = QUESTION_TYPES["numerical"]
    assert numerical.grade(q, "1823").fraction == 0.5
    assert numerical.grade(q, "1900").feedback_md == "Look it up."


def test_numerical_negative_values():
    q = one("Below zero?{#-5..-1}")
    assert [(o.low, o.high) for o in q.options] == [(-5.0, -1.0)]


def test_matching_with_a_distractor():
    q = one("Match the countries with their capitals.{\n=Canada -> Ottawa\n=Italy -> Rome\n=Japan -> Tokyo\n= -> Paris\n}")
    assert q.type == "matching"
    assert [(o.id, o.text_md, o.match_md) for o in q.options] == [
        ("a", "Canada", "Ottawa"), ("b", "Italy", "Rome"), ("c", "Japan", "Tokyo"), ("d", "", "Paris")
    ]


def test_missing_word_keeps_a_blank_in_the_text():
    q = one("Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert q.type == "single"
    assert q.text_md == f"Grant is {BLANK_MD} in Grant's tomb."
    assert markdown.markdown(q.text_md) == "<p>Grant is _____ in Grant's tomb.</p>"
    assert one("Answers after the text {=a}").text_md == "Answers after the text"


def test_missing_word_short_answer():
    q = one("The capital of Georgia is {=Tbilisi =თბილისი}.")
    assert (q.type, q.text_md) == ("short", f"The capital of Georgia is {BLANK_MD}.")


def test_description():
    _, quiz, problems = gift("Read this case carefully.\n\nWho?{=no one}")
    assert problems == []
    desc = quiz.questions[0]
    assert (desc.type, desc.text_md, desc.points, desc.options) == ("description", "Read this case carefully.", 0.0, [])


def test_front_matter_settings():
    header = (
        "// kind: quiz\n// title: Final check\n// minutes: 10\n// attempts: 2\n"
        "// grading: average\n// shuffle_options: true\n// time_limit: 15\n// show_answers: never\n\n"
    )
    meta, quiz, problems = gift("Who?{=no one}", header=header)
    assert problems == []
    assert meta["attempts"] == 2
    assert quiz.settings == QuizSettings(
        attempts=2, grading="average", shuffle_options=True, time_limit=15, show_answers="never"
    )


def test_front_matter_problems_carry_their_lines():
    header = "// kind: quiz\n// title: x\n// minutes: 10\n// pass_mark: 150\n// shuffle_option: true\n\n"
    _, _, problems = gift("Who?{=no one}", header=header)
    assert problems == [
        f"{PATH}:4: pass_mark must be a percentage from 0 to 100",
        f"{PATH}:5: unknown front-matter key 'shuffle_option' (did you mean 'shuffle_options'?)",
    ]


def test_front_matter_yaml_error_is_reported_on_its_line():
    _, _, problems = gift("Who?{=no one}", header="// kind: quiz\n// minutes: 5\n// title: Check: part 2\n\n")
    assert problems == [
        f"{PATH}:3: front matter (the // lines at the top): mapping values are not allowed here; "
        "put quotes around a value that contains ': ' or ' #'"
    ]


def test_a_moodle_export_header_is_a_comment_not_front_matter():
    text = "// question: 0  name: Switch category to $course$/top/Default\n$CATEGORY: $course$/top/Default\n\n\n// question: 12  name: Q1\n::Q1::Who?{=no one}\n"
    meta, quiz, problems = parse_gift(text, path=PATH)
    assert (meta, problems) == ({}, [])
    assert [q.id for q in quiz.questions] == ["q1"]


def test_windows_line_endings_and_bom():
    meta, quiz, problems = parse_gift_bytes(
        ("\ufeff" + HEADER + "Who?{\n=no one#fb\n}\n").replace("\n", "\r\n").encode(), path=PATH
    )
    assert problems == []
    assert meta["title"] == "Final check"
    assert quiz.questions[0].options[0].feedback_md == "fb"


def test_grading_a_gift_quiz():
    _, quiz, problems = gift("A?{=x ~y}\n\nB?{~%50%x ~%50%y ~%-100%z}\n\nC?{#5:1}")
    assert problems == []
    result = grade_attempt(quiz, {"q1": "a", "q2": ["a", "c"], "q3": "5.5"})
    assert (result.points, result.max_points) == (2.0, 3.0)


# Errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\n::Q::Who?{=a}\nWhat?{=b}", "7: a second answer block {…}: separate questions with a blank line"),
        ("Who?{=a", "5: unbalanced braces"),
        ("Who?}=a{", "5: unbalanced braces"),
        ("::unclosed Who?{=a}", "5: the question name is not closed: write ::name::"),
        ("Which?{~%abc%a ~b}", "5: malformed weight: write %50%, %-25% or %33.333%"),
        ("Which?{\n~%150%a\n~b}", "6: weight %150% is outside -100%..100%"),
        ("Which?{=a =b ~c}", "5: a single-choice question needs exactly one correct option ([x]), found 2"),
        ("Which?{~%40%a ~%40%b}", "5: the positive weights of a multiple-response question must add up to 100% (they add up to 80%)"),
        ("Which?{=only ~}", "5: an option has no text"),
        ("Which?{~a ~b}", "5: the positive weights of a multiple-response question must add up to 100% (they add up to 0%)"),
        ("Match{=a -> 1 =b 2}", "5: a matching pair needs '->' between the prompt and its answer"),
        ("Match{=a -> 1}", "5: a matching question needs at least two pairs"),
        ("When?{#\n=2014\n=about 2013#close}", "7: numerical answer not understood: 'about 2013'"),
        ("When?{#}", "5: a numerical question needs at least one answer after #"),
        ("When?{#5:-1}", "5: negative tolerance in '5:-1'"),
        ("When?{#5..1}", "5: the range '5..1' ends below its start"),
        ("When?{#5 ~#a ~#b}", "5: only one ~ catch-all feedback is allowed"),
        ("When?{#5 ~oops#a}", "5: the catch-all is written ~#feedback"),
        ("Who?{=%30%someone}", "5: at least one answer must be correct ([x] or 100%)"),
        ("Who?{junk before =a ~b}", "5: text before the first answer"),
        ("Just a description.", "1: a quiz needs at least one graded question"),
        ("::only-answers::{=a}", "5: the question has no text"),
    ],
)
def test_errors_carry_path_and_line(text, expected):
    _, _, problems = gift(text)
    assert any(problem.startswith(f"{PATH}:{expected}") for problem in problems), problems


def test_an_essay_is_left_out_with_a_warning_and_a_quiz_of_essays_has_no_graded_question():
    _, quiz, problems, warnings = parse_gift_with_warnings(HEADER + "Write an essay.{}\n\nWith feedback {####Nice}",
                                                           path=PATH)
    assert quiz.questions == []
    assert [str(w) for w in warnings] == [
        f"{PATH}:5: essay question ({{}}) left out: essays are not quiz questions; write it as an assignment item",
        f"{PATH}:7: essay question ({{}}) left out: essays are not quiz questions; write it as an assignment item",
    ]
    assert [str(p) for p in problems] == [f"{PATH}:1: a quiz needs at least one graded question"]


def test_a_broken_question_does_not_stop_the_others():
    _, quiz, problems = gift("Broken?{=a\n\nFine?{=b}")
    assert [q.text_md for q in quiz.questions] == ["Fine?"]
    assert problems == [f"{PATH}:5: unbalanced braces: the answers go between {{ and }} (write \\{{ or \\}} for a brace in the text)"]


def test_non_utf8_is_refused_with_the_line_of_the_bad_byte():
    data = (HEADER + "Who is buried?{=no one}\n\nCafé?{=oui}\n").encode("latin-1")
    meta, quiz, problems = parse_gift_bytes(data, path=PATH)
    assert (meta, quiz.questions) == ({}, [])
    assert [str(p) for p in problems] == [
        f"{PATH}:7: the file is not UTF-8 (byte 0xe9 on this line); save it as UTF-8 in your editor"
    ]


def test_utf16_is_refused():
    _, _, problems = parse_gift_bytes((HEADER + "Who?{=a}").encode("utf-16"), path=PATH)
    assert len(problems) == 1 and "not UTF-8" in problems[0].message and problems[0].line >= 1
