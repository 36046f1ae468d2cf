"""Front-matter settings, the stored dict form, structure of translations, rendering."""
from __future__ import annotations

import json

import pytest

from app.quizzes.authoring import quiz_structure, render_quiz, structure_differences, validate_quiz_settings
from app.quizzes.spec import Option, Question, Quiz, QuizSettings

pytestmark = pytest.mark.filterwarnings("error")

LINES = {"pass_mark": 4, "attempts": 5, "grading": 6, "shuffle_questions": 7, "shuffle_options": 8,
         "time_limit": 9, "show_answers": 10}


def validate(meta: dict) -> tuple[QuizSettings, list[str]]:
    settings, problems = validate_quiz_settings(meta, path="q.md", line_of=lambda key: LINES.get(key, 2))
    return settings, [str(problem) for problem in problems]


def test_defaults_as_documented():
    settings, problems = validate({"kind": "quiz", "title": "t", "minutes": 5, "required": True, "objectives": ["x"]})
    assert problems == []
    assert settings == QuizSettings(
        pass_mark=70.0, attempts=None, grading="highest", shuffle_questions=False, shuffle_options=False,
        time_limit=None, show_answers="after_passing_or_last_attempt",
    )


def test_every_setting():
    meta = {"pass_mark": 85.5, "attempts": 3, "grading": "average", "shuffle_questions": True,
            "shuffle_options": True, "time_limit": 15, "show_answers": "after_last_attempt"}
    settings, problems = validate(meta)
    assert problems == []
    assert settings == QuizSettings(85.5, 3, "average", True, True, 15, "after_last_attempt")
    assert validate({"attempts": "unlimited"})[0].attempts is None


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"pass_mark": 101}, "q.md:4: pass_mark must be a percentage from 0 to 100"),
        ({"pass_mark": "70%"}, "q.md:4: pass_mark must be a percentage from 0 to 100"),
        ({"pass_mark": True}, "q.md:4: pass_mark must be a percentage from 0 to 100"),
        ({"pass_mark": float("nan")}, "q.md:4: pass_mark must be a percentage from 0 to 100"),
        ({"attempts": 0}, 'q.md:5: attempts must be a whole number of at least 1, or "unlimited"'),
        ({"attempts": 2.5}, 'q.md:5: attempts must be a whole number of at least 1, or "unlimited"'),
        ({"attempts": "many"}, 'q.md:5: attempts must be a whole number of at least 1, or "unlimited"'),
        ({"grading": "best"}, "q.md:6: grading must be one of highest, last, first, average"),
        ({"grading": ["highest"]}, "q.md:6: grading must be one of highest, last, first, average"),
        ({"shuffle_questions": "yes"}, "q.md:7: shuffle_questions must be true or false"),
        ({"shuffle_options": 1}, "q.md:8: shuffle_options must be true or false"),
        ({"time_limit": 0}, "q.md:9: time_limit must be a whole number of minutes, at least 1"),
        ({"time_limit": "15 min"}, "q.md:9: time_limit must be a whole number of minutes, at least 1"),
        ({"show_answers": "after-passing"},
         "q.md:10: show_answers must be one of never, after_passing_or_last_attempt, after_passing, after_last_attempt, always"),
        ({"requried": True}, "q.md:2: unknown front-matter key 'requried' (did you mean 'required'?)"),
        ({"colour": "red"}, "q.md:2: unknown front-matter key 'colour'"),
        ({3: "x"}, "q.md:2: unknown front-matter key '3'"),
    ],
)
def test_bad_settings_are_reported_and_defaulted(meta, expected):
    settings, problems = validate(meta)
    assert problems == [expected]
    assert settings == QuizSettings()


def test_a_failing_line_lookup_still_reports():
    def broken(key: str) -> int:
        raise KeyError(key)

    _, problems = validate_quiz_settings({"grading": "x"}, path="q.md", line_of=broken)
    assert [str(p) for p in problems] == ["q.md:1: grading must be one of highest, last, first, average"]


def test_round_trip_through_json(parse_ok):
    quiz = parse_ok(
        "Intro\n\n## single: a\n\n- [x] x\n  > f\n- [-50%] y\n\n> g\n\n## numerical: n {points=2}\n\n- [x] 1.5 ± 0.5\n- [ ] *\n"
        "\n## matching: m\n\n- p -> q\n- r -> s\n- -> t\n\n## short: s\n\n- [x] Ёлка\n",
        {"attempts": 2, "time_limit": 5},
    )
    data = json.loads(json.dumps(quiz.to_dict()))
    assert data["schema"] == 1
    assert Quiz.from_dict(data) == quiz
    assert set(data["questions"][0]) == {"id", "type", "text_md", "text_html", "points", "options", "feedback_md", "feedback_html"}
    assert set(data["questions"][0]["options"][0]) == {
        "id", "text_md", "text_html", "weight", "feedback_md", "feedback_html", "match_md", "match_html",
        "is_catch_all", "low", "high",
    }


@pytest.mark.parametrize(
    "data",
    [
        {"schema": 2},
        {"questions": "nope"},
        {"questions": [{"type": "single"}]},
        {"questions": [{"id": "q1", "type": "single", "points": True}]},
        {"settings": {"grading": "best"}},
        {"settings": {"attempts": "3"}},
        [],
    ],
)
def test_from_dict_refuses_bad_data(data):
    with pytest.raises(ValueError):
        Quiz.from_dict(data)


BASE = """## single: Who? {#who}

- [ ] A
- [x] B

## matching: Match.

- One -> 1
- Two -> 2
- -> 3

## numerical: Year?

- [x] 2014
- [ ] *
"""

TRANSLATION = """## single: ვინ? {#who}

- [ ] ა
- [x] ბ

## matching: დააკავშირეთ.

- ერთი -> 1
- ორი -> 2
- -> 3

## numerical: წელი?

- [x] 2014
- [ ] *
  > უკუკავშირი
"""


def test_a_translation_has_the_structure_of_its_base(parse_ok):
    base, translation = parse_ok(BASE), parse_ok(TRANSLATION)
    assert quiz_structure(base) == quiz_structure(translation)
    assert structure_differences(base, translation) == []


DIFFER = "from the base (their number, order or correctness)"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("- [ ] ა\n- [x] ბ", "- [x] ა\n- [ ] ბ", "question 'who': the options differ from the base"),
        ("{#who}", "{#ვინ}", "question 'ვინ' (single) is 'who' (single) in the base"),
        ("{#who}", "{#who points=2}", "question 'who' has 2 points, 1 in the base"),
        ("- -> 3", "- სამი -> 3", "question 'q2': the options differ from the base"),
        ("- ორი -> 2", "- ორი -> 1", "question 'q2': the options differ from the base"),
        ("- [x] 2014", "- [x] 2015", "question 'q3': the options differ from the base"),
    ],
)
def test_structure_differences(parse_ok, old, new, message):
    """Words are free; ids, types, points, correctness and which lines share an answer are not."""
    base, translation = parse_ok(BASE), parse_ok(TRANSLATION.replace(old, new))
    assert quiz_structure(base) != quiz_structure(translation)
    differences = structure_differences(base, translation)
    assert [text for _, text in differences] == [message.replace("from the base", DIFFER)]
    assert all(line >= 1 for line, _ in differences)


def test_a_missing_question_is_a_difference(parse_ok):
    base, translation = parse_ok(BASE), parse_ok(TRANSLATION.split("## numerical")[0])
    assert structure_differences(base, translation) == [(1, "the translation has 2 questions, the base has 3")]


def test_render_quiz_fills_every_html_field(render):
    quiz = Quiz(
        intro_md="intro",
        questions=[
            Question(id="q1", type="single", text_md="text", feedback_md="general", options=[
                Option(id="a", text_md="opt", feedback_md="fb", weight=1.0), Option(id="b", text_md="", weight=0.0)
            ]),
            Question(id="q2", type="matching", text_md="m", options=[Option(id="a", text_md="p", match_md="x")]),
            Question(id="q3", type="short", text_md="s", options=[Option(id="a", text_md="*", is_catch_all=True)]),
        ],
    )
    rendered = render_quiz(quiz, render)
    assert quiz.intro_html == ""  # the original is left alone
    assert rendered.intro_html == "<p>intro</p>"
    q1, q2, q3 = rendered.questions
    assert (q1.text_html, q1.feedback_html) == ("<p>text</p>", "<p>general</p>")
    assert (q1.options[0].text_html, q1.options[0].feedback_html) == ("opt", "<p>fb</p>")
    assert (q1.options[1].text_html, q1.options[1].feedback_html) == ("", "")
    assert (q2.options[0].text_html, q2.options[0].match_html) == ("p", "x")
    assert q3.options[0].text_html == ""
    assert type(q1.text_html) is str


SHORT_BASE = "## short: Who decides? {#who}\n\n- [x] Sakrebulo\n- [50%] Council\n- [ ] *\n  > other\n"


@pytest.mark.parametrize(("translation", "same"), [
    # Each language lists the spellings its readers type: more (or fewer) answers at the same credits.
    ("## short: ვინ? {#who}\n\n- [x] საკრებულო\n- [x] საკრებულოს\n- [x] Sakrebulo\n- [50%] საბჭო\n- [ ] *\n", True),
    ("## short: Кто? {#who}\n\n- [x] Сакребуло\n- [50%] совет\n- [50%] собрание\n- [ ] *\n", True),
    # ... but not other credits, nor a catch-all the base does not have (or the reverse).
    ("## short: Кто? {#who}\n\n- [x] Сакребуло\n- [ ] *\n", False),
    ("## short: Кто? {#who}\n\n- [x] Сакребуло\n- [50%] совет\n", False),
    ("## short: Кто? {#who}\n\n- [x] Сакребуло\n- [75%] совет\n- [ ] *\n", False),
])
def test_a_short_answer_translation_accepts_its_own_variants(parse_ok, translation, same):
    differences = structure_differences(parse_ok(SHORT_BASE), parse_ok(translation))
    assert (differences == []) is same
