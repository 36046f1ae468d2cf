"""Grading tables, one per question type: partial credit, negative weights, Unicode."""
from __future__ import annotations

import pytest

from app.quizzes.spec import Option, Question
from app.quizzes.types import QUESTION_TYPES, Grade, Matching

pytestmark = pytest.mark.filterwarnings("error")


def question(parse_ok, body: str) -> Question:
    quiz = parse_ok(body)
    assert len(quiz.questions) == 1
    return quiz.questions[0]


def grade(q: Question, answer) -> Grade:
    return QUESTION_TYPES[q.type].grade(q, answer)


def test_registry_has_every_documented_type():
    assert set(QUESTION_TYPES) == {
        "single", "multiple", "true-false", "short", "numerical", "matching", "description"
    }
    for name, qtype in QUESTION_TYPES.items():
        assert qtype.name == name


SINGLE = """
## single: Who is the primary duty-bearer?

- [ ] A local CSO
  > fb-cso
- [x] The State
  > fb-state
- [50%] The municipality alone
  > fb-half
- [-50%] The European Union
  > fb-eu
"""


@pytest.mark.parametrize(
    ("answer", "fraction", "feedback", "correct"),
    [
        ("b", 1.0, "fb-state", True),
        ("a", 0.0, "fb-cso", False),
        ("c", 0.5, "fb-half", False),
        ("d", 0.0, "fb-eu", False),  # negative weight floored at zero
        (None, 0.0, "", False),
        ("zz", 0.0, "", False),
        (["b"], 0.0, "", False),  # wrong shape counts as no answer
        ({"b": "b"}, 0.0, "", False),
    ],
)
def test_single_choice(parse_ok, answer, fraction, feedback, correct):
    result = grade(question(parse_ok, SINGLE), answer)
    assert (result.fraction, result.feedback_md, result.is_correct) == (fraction, feedback, correct)


def test_single_feedback_html_is_the_rendered_one(parse_ok):
    result = grade(question(parse_ok, SINGLE), "b")
    assert result.feedback_html == "<p>fb-state</p>"


MULTIPLE = """
## multiple: Which are forms of participation? {points=2}

- [50%] Petition
  > fb-petition
- [50%] Council of Civil Advisors
  > fb-council
- [-50%] A donor's monitoring visit
  > fb-donor
- [ ] A television debate
"""


@pytest.mark.parametrize(
    ("answer", "fraction", "correct"),
    [
        (["a", "b"], 1.0, True),
        (["a"], 0.5, False),
        (["b"], 0.5, False),
        (["a", "c"], 0.0, False),
        (["c"], 0.0, False),  # -50% alone floors at zero
        (["a", "b", "c"], 0.5, False),
        (["a", "b", "d"], 1.0, True),  # a 0% option costs nothing
        ([], 0.0, False),
        (["zz"], 0.0, False),
        ("a", 0.0, False),
        (None, 0.0, False),
    ],
)
def test_multiple_response(parse_ok, answer, fraction, correct):
    result = grade(question(parse_ok, MULTIPLE), answer)
    assert (result.fraction, result.is_correct) == (fraction, correct)


def test_multiple_feedback_joins_the_chosen_options_in_authored_order(parse_ok):
    result = grade(question(parse_ok, MULTIPLE), ["c", "a"])
    assert result.feedback_md == "fb-petition\n\nfb-donor"


def test_multiple_thirds_give_full_marks(parse_ok):
    q = question(parse_ok, """
## multiple: Pick the three.

- [33.333%] One
- [33.333%] Two
- [33.333%] Three
- [-100%] Wrong
""")
    assert grade(q, ["a", "b", "c"]).fraction == 1.0
    assert grade(q, ["a", "b"]).fraction == pytest.approx(0.66666)
    assert grade(q, ["a", "b", "c", "d"]).fraction == 0.0


def test_multiple_x_boxes_share_the_marks(parse_ok):
    q = question(parse_ok, """
## multiple: Pick two.

- [x] One
- [x] Two
- [-50%] Three
""")
    assert [o.weight for o in q.options] == [0.5, 0.5, -0.5]
    assert grade(q, ["a"]).fraction == 0.5
    assert grade(q, ["a", "b"]).is_correct


TRUE_FALSE = """
## true-false: Marneuli was the first municipality to run a participatory budget.

- [x] True
  > right-feedback
- [ ] False
  > wrong-feedback
"""


@pytest.mark.parametrize(
    ("answer", "fraction", "feedback"),
    [("a", 1.0, "right-feedback"), ("b", 0.0, "wrong-feedback"), (None, 0.0, ""), ("c", 0.0, "")],
)
def test_true_false(parse_ok, answer, fraction, feedback):
    result = grade(question(parse_ok, TRUE_FALSE), answer)
    assert (result.fraction, result.feedback_md) == (fraction, feedback)


SHORT = """
## short: Which Georgian word names the municipal representative council?

- [x] Sakrebulo
  > fb-right
- [x] საკრებულო
  > fb-georgian
- [50%] Sakrebulo council
  > fb-half
- [ ] Mayor
  > fb-mayor
- [ ] *
  > fb-other
"""


@pytest.mark.parametrize(
    ("typed", "fraction", "feedback"),
    [
        ("Sakrebulo", 1.0, "fb-right"),
        ("sakrebulo", 1.0, "fb-right"),
        ("  SAKREBULO \t", 1.0, "fb-right"),
        ("საკრებულო", 1.0, "fb-georgian"),
        ("ᲡᲐᲙᲠᲔᲑᲣᲚᲝ", 1.0, "fb-georgian"),  # Georgian Mtavruli capitals
        ("საკრე\u200bბულო", 1.0, "fb-georgian"),  # zero-width space inside
        ("sakrebulo   COUNCIL", 1.0 / 2, "fb-half"),
        ("sakrebulo\u00a0council", 0.5, "fb-half"),  # no-break space
        ("mayor", 0.0, "fb-mayor"),
        ("Sakre bulo", 0.0, "fb-other"),
        ("საკრებულოს", 0.0, "fb-other"),
        ("", 0.0, ""),
        ("   ", 0.0, ""),
        (None, 0.0, ""),
        (["Sakrebulo"], 0.0, ""),
    ],
)
def test_short_answer(parse_ok, typed, fraction, feedback):
    result = grade(question(parse_ok, SHORT), typed)
    assert (result.fraction, result.feedback_md) == (fraction, feedback)


@pytest.mark.parametrize(
    ("accepted", "typed", "matches"),
    [
        # Azerbaijani: ə ı ğ ş ç ö ü, the dotted and dotless I
        ("Şəki", "şəki", True),
        ("Şəki", "ŞƏKİ", True),
        ("Şəki", "S\u0327e\u0301ki", False),  # é is not ə
        ("Şəki", "S\u0327əki", True),  # ş typed as s + combining cedilla (NFD)
        ("Şəki", "Şǝki", True),  # U+01DD turned e, a common stand-in for ə
        ("Şəki", "Sheki", False),
        ("Şəki", "Seki", False),  # ş is a letter, not an accent
        ("Bakı", "BAKI", True),
        ("Bakı", "baki", True),
        ("İsmayıllı", "ISMAYILLI", True),
        ("İsmayıllı", "ismayilli", True),
        ("İsmayıllı", "İSMAYILLI", True),
        ("Ağdam", "AĞDAM", True),
        ("Ağdam", "Ag\u0306dam", True),  # NFD ğ
        ("Ağdam", "Agdam", False),
        ("Göyçay", "GÖYÇAY", True),
        ("Göyçay", "Go\u0308yc\u0327ay", True),
        ("Göyçay", "Goycay", False),
        ("Şüşə", "ŞÜŞƏ", True),
        ("Şüşə", "Susə", False),
        # Armenian: upper and lower case; և written in capitals as ԵՎ
        ("Հայաստան", "ՀԱՅԱՍՏԱՆ", True),
        ("Հայաստան", "հայաստան", True),
        ("Երևան", "ԵՐԵՎԱՆ", True),
        ("Երևան", "Երեւան", True),
        ("Երևան", "երեվան", True),
        ("Երևան", "Yerevan", False),
        ("ուսուցիչ", "ՈՒՍՈՒՑԻՉ", True),
        # Georgian: no case, but Mtavruli capitals exist
        ("მუნიციპალიტეტი", "ᲛᲣᲜᲘᲪᲘᲞᲐᲚᲘᲢᲔᲢᲘ", True),
        ("მუნიციპალიტეტი", "მუნიციპალიტეტები", False),
        # Cyrillic: case, and ё typed as е
        ("Муниципалитет", "МУНИЦИПАЛИТЕТ", True),
        ("Муниципалитет", "муниципалитеты", False),
        ("Ёлка", "елка", True),
        ("ёлка", "ЁЛКА", True),
        ("ёлка", "е\u0308лка", True),  # NFD ё
        ("ёлка", "йолка", False),
        # Latin accents: composed and decomposed are one answer; the accent counts
        ("café", "cafe\u0301", True),
        ("café", "cafe", False),
        ("no one", "no    one", True),
        ("no one", "no\none", True),
        ("no one", "noone", False),
        ("Grant's tomb", "Grant\u2019s tomb", True),  # typographic apostrophe
    ],
)
def test_short_answer_unicode(accepted, typed, matches):
    q = Question(id="q1", type="short", text_md="?", options=[Option(id="a", text_md=accepted, weight=1.0)])
    assert grade(q, typed).is_correct is matches


NUMERICAL = """
## numerical: In which year was the toolbox first published?

- [50%] 2013..2015
  > fb-close
- [x] 2014
  > fb-right
- [ ] *
  > fb-other
"""


@pytest.mark.parametrize(
    ("typed", "fraction", "feedback"),
    [
        ("2014", 1.0, "fb-right"),  # the best match wins, whatever the order
        ("2014.0", 1.0, "fb-right"),
        (" 2014 ", 1.0, "fb-right"),
        ("2 014", 1.0, "fb-right"),
        ("2014,0", 1.0, "fb-right"),
        ("2013", 0.5, "fb-close"),
        ("2015", 0.5, "fb-close"),  # ranges include their ends
        ("2014.5", 0.5, "fb-close"),
        ("2016", 0.0, "fb-other"),
        ("two thousand", 0.0, "fb-other"),
        ("", 0.0, ""),
        (None, 0.0, ""),
        (2014, 0.0, ""),  # not a parsed answer
    ],
)
def test_numerical(parse_ok, typed, fraction, feedback):
    result = grade(question(parse_ok, NUMERICAL), typed)
    assert (result.fraction, result.feedback_md) == (fraction, feedback)


@pytest.mark.parametrize(
    ("typed", "correct"),
    [("3.5", True), ("3.6", True), ("3.4", True), ("3,45", True), ("3.61", False), ("-3.5", False)],
)
def test_numerical_tolerance(parse_ok, typed, correct):
    q = question(parse_ok, "## numerical: x?\n\n- [x] 3.5 ± 0.1\n")
    assert grade(q, typed).is_correct is correct


@pytest.mark.parametrize("typed", ["-5", "\u22125", " -5.0 ", "-5,0"])
def test_numerical_negative_numbers(parse_ok, typed):
    q = question(parse_ok, "## numerical: x?\n\n- [x] -5 +- 0\n")
    assert grade(q, typed).is_correct


MATCHING = """
## matching: Match each obligation to its example.

- Respect -> does not close access
- Protect -> stops a company from refusing
- Fulfil -> opens a day-care service
- -> writes the budget
"""


def test_matching_choices_are_distinct_answers(parse_ok):
    q = question(parse_ok, MATCHING)
    assert [p.id for p in Matching.prompts(q)] == ["a", "b", "c"]
    assert [c.id for c in Matching.choices(q)] == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("answer", "fraction"),
    [
        ({"a": "a", "b": "b", "c": "c"}, 1.0),
        ({"a": "a", "b": "b", "c": "d"}, 2 / 3),
        ({"a": "b", "b": "a", "c": "c"}, 1 / 3),
        ({"a": "d"}, 0.0),
        ({}, 0.0),
        ({"zz": "a"}, 0.0),
        (["a", "b", "c"], 0.0),
        (None, 0.0),
    ],
)
def test_matching(parse_ok, answer, fraction):
    result = grade(question(parse_ok, MATCHING), answer)
    assert result.fraction == pytest.approx(fraction)
    assert result.is_correct is (fraction == 1.0)


def test_matching_with_a_shared_answer(parse_ok):
    q = question(parse_ok, """
## matching: Who holds the duty?

- The State -> duty-bearer
- The municipality -> duty-bearer
- A citizen -> rights-holder
""")
    assert [c.id for c in Matching.choices(q)] == ["a", "c"]
    assert grade(q, {"a": "a", "b": "a", "c": "c"}).is_correct
    assert grade(q, {"a": "a", "b": "c", "c": "c"}).fraction == pytest.approx(2 / 3)


def test_description_is_not_graded(parse_ok):
    quiz = parse_ok("## description: Read the case.\n\nText.\n\n## single: q\n\n- [x] a\n- [ ] b\n")
    desc = quiz.questions[0]
    assert not QUESTION_TYPES["description"].is_graded
    assert desc.points == 0
    assert grade(desc, "anything") == Grade(0.0)


# parse_answer: form values in, answers out; garbage gives the empty answer


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["b"], "b"),
        (["b", "b"], "b"),
        (["a", "b"], None),  # two choices for a single question: no answer
        (["zz"], None),
        ([], None),
        ({"b": "b"}, None),
        ([1, None], None),
        ("b", "b"),
        (None, None),
    ],
)
def test_parse_single(parse_ok, raw, expected):
    q = question(parse_ok, SINGLE)
    assert QUESTION_TYPES["single"].parse_answer(q, raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["c", "a", "a", "zz"], ["a", "c"]),
        ([], []),
        ({"a": "a"}, []),
        (None, []),
        (["a", 3], ["a"]),
    ],
)
def test_parse_multiple(parse_ok, raw, expected):
    q = question(parse_ok, MULTIPLE)
    assert QUESTION_TYPES["multiple"].parse_answer(q, raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [([" Sakrebulo "], "Sakrebulo"), (["x" * 5000], ""), ([], ""), ({"a": "x"}, ""), (None, ""), ([7], "")],
)
def test_parse_short(parse_ok, raw, expected):
    q = question(parse_ok, SHORT)
    assert QUESTION_TYPES["short"].parse_answer(q, raw) == expected


def test_parse_matching_maps_tokens_back_through_the_choice_order(parse_ok):
    q = question(parse_ok, MATCHING)
    matching = QUESTION_TYPES["matching"]
    order = ["c", "d", "a", "b"]
    raw = {"a": ["c3"], "b": "c4", "c": "c1", "zz": "c1", "x": 5}
    answer = matching.parse_answer(q, raw, order)
    assert answer == {"a": "a", "b": "b", "c": "c"}
    assert matching.grade(q, answer).is_correct


@pytest.mark.parametrize("raw", [["c1"], "c1", None, {"a": "c9"}, {"a": "a"}, {"a": []}])
def test_parse_matching_garbage(parse_ok, raw):
    q = question(parse_ok, MATCHING)
    assert QUESTION_TYPES["matching"].parse_answer(q, raw, ["a", "b", "c", "d"]) == {}


def test_parse_matching_ignores_a_bad_choice_order(parse_ok):
    q = question(parse_ok, MATCHING)
    matching = QUESTION_TYPES["matching"]
    default = matching.default_choice_order(q)
    for bad in (None, ["a"], ["a", "a", "b", "c"], ["zz", "a", "b", "c"]):
        first = default[0]
        assert matching.parse_answer(q, {"a": "c1"}, bad) == {"a": first}
