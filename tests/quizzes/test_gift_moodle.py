"""Moodle's documented GIFT constructs, in our own words, as a Moodle user would export them:
no settings lines, a category, two questions with one name, wildcards and an essay."""
from __future__ import annotations

from pathlib import Path

from app.content.loader import format_report, load_courses
from app.quizzes.authoring import parse_gift_with_warnings
from app.quizzes.grading import grade_attempt
from app.quizzes.types import QUESTION_TYPES

MOODLE_STYLE = """\
// Exported from a question bank; no Nergi settings here.
$CATEGORY: $course$/top/Rivers of the Caucasus

::River city::Tbilisi lies on the {=Mtkvari#Right. =%50%Kura#Its Russian name; half marks. ~Rioni#That one is in the west.}

::River city:: Which river flows through Tbilisi? {
  ~Aragvi#It joins further north.
  ~%25%Kura#Half right: another name.
  =Mtkvari#Yes.
}

Rustavi was founded in the twentieth century.{T}

Two plus three is {=five =5}.

::Wildcard::Name the sea west of Georgia. {=Black*#Good. =%0%*#No: it is the Black Sea.}

When was the Georgian alphabet reform of Ilia Chavchavadze? {#1879:5}

Give a value of pi to two decimals. {#3.14..3.15}

Pair each city with its region. {
  =Batumi -> Adjara
  =Akhaltsikhe -> Samtskhe-Javakheti
  =Marneuli -> Kvemo Kartli
}

The next questions need pen and paper.

Which are Georgian cities? {~%50%Kutaisi ~%50%Zugdidi ~%-100%Yerevan ~%-100%Baku}

Describe the history of your municipality.{}
"""


def test_a_moodle_file_loads_with_only_the_essay_and_the_duplicate_name_reported():
    meta, quiz, problems, warnings = parse_gift_with_warnings(MOODLE_STYLE, path="x.gift")
    assert meta == {} and problems == []
    assert [str(w) for w in warnings] == [
        "x.gift:6: question name 'river-city' is used before: this question's id is 'river-city-2'",
        "x.gift:32: essay question ({}) left out: essays are not quiz questions; write it as an assignment item",
    ]
    assert [q.id for q in quiz.questions][:2] == ["river-city", "river-city-2"]
    assert [q.type for q in quiz.questions] == ["single", "single", "true-false", "short", "short", "numerical",
                                                "numerical", "matching", "description", "multiple"]


def test_wildcards_grade_as_moodle_does():
    _, quiz, _, _ = parse_gift_with_warnings(MOODLE_STYLE, path="x.gift")
    short = QUESTION_TYPES["short"]
    wildcard = next(q for q in quiz.questions if q.id == "wildcard")
    assert short.grade(wildcard, "Black Sea").fraction == 1
    assert short.grade(wildcard, "black").fraction == 1
    assert short.grade(wildcard, "Caspian").fraction == 0
    literal = wildcard.options[0].__class__(id="z", text_md="5\\*3", weight=1.0)
    assert short.matches(literal, "5*3") and not short.matches(literal, "5x3")
    assert short.matches(wildcard.options[0].__class__(id="y", text_md="Long**", weight=1.0), "longest")


def test_courses_check_accepts_the_file_and_a_learner_attempt_is_graded(tmp_path: Path):
    folder = tmp_path / "rivers"
    folder.mkdir()
    (folder / "course.yml").write_text("title:\n  en: Rivers\nsummary:\n  en: Rivers.\nestimated_hours: 1\nitems:\n  - rivers-quiz\n")
    (folder / "01-rivers-quiz.en.gift").write_text(MOODLE_STYLE, encoding="utf-8")
    result = load_courses(tmp_path)
    code, lines = format_report(result)
    assert code == 0, lines
    assert lines[0].startswith("rivers: 1 item (1 quiz)")
    assert any("warning: essay question" in line for line in lines)
    (course,) = result.courses
    base = course.items[0].base
    assert base.title == "Rivers of the Caucasus"
    answers = {"river-city": "a", "river-city-2": "c", "q3": "a", "q4": "5", "wildcard": "Black sea",
               "q6": "1880", "q7": "3.14"}
    graded = grade_attempt(base.quiz, answers)
    assert graded.points == 7.0
