"""GIFT export: every quiz of the curriculum and the Moodle-style file read back to the same
questions, answers, weights and feedback (points aside: GIFT has none)."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.content.loader import load_courses
from app.quizzes.authoring import parse_gift_with_warnings, quiz_structure
from app.quizzes.gift_export import quiz_to_gift
from app.quizzes.spec import Quiz
from tests.quizzes.test_gift_moodle import MOODLE_STYLE

REPO = Path(__file__).resolve().parents[2]


def _without_points(quiz: Quiz):
    return [(q[0], q[1], q[3]) for q in quiz_structure(quiz)]


def _texts(quiz: Quiz):
    return [(q.text_md.strip(), q.feedback_md.strip(),
             # A numerical answer is compared by its range (in the structure), not as written.
             # Matching pairs have no feedback in GIFT.
             [("" if q.type == "numerical" else o.text_md.strip(),
               "" if q.type == "matching" else o.feedback_md.strip(), o.match_md.strip())
              for o in q.options])
            for q in quiz.questions]


def _curriculum_quizzes():
    result = load_courses(REPO / "courses")
    for course in result.courses:
        for item in course.items:
            for lang, tr in item.translations.items():
                if tr.quiz is not None:
                    yield pytest.param(tr, id=f"{course.slug}/{item.slug}.{lang}")


@pytest.mark.parametrize("translation", list(_curriculum_quizzes()))
def test_curriculum_quizzes_read_back_from_gift(translation):
    text = quiz_to_gift(translation.quiz, title=translation.title, minutes=translation.minutes)
    meta, again, problems, warnings = parse_gift_with_warnings(text, path="export.gift")
    assert problems == [] and warnings == []
    assert meta == {"kind": "quiz", "title": translation.title, "minutes": translation.minutes}
    assert _without_points(again) == _without_points(translation.quiz)
    true_false = {q.id for q in translation.quiz.questions if q.type == "true-false"}
    # True-false options are written as GIFT's TRUE/FALSE, so their words are not kept.
    assert [t for t, q in zip(_texts(again), again.questions) if q.id not in true_false] == \
        [t for t, q in zip(_texts(translation.quiz), translation.quiz.questions) if q.id not in true_false]


def test_moodle_style_file_survives_export_and_import():
    _, quiz, _, _ = parse_gift_with_warnings(MOODLE_STYLE, path="x.gift")
    text = quiz_to_gift(quiz, title="Rivers", minutes=10)
    _, again, problems, _ = parse_gift_with_warnings(text, path="y.gift")
    assert problems == []
    assert quiz_structure(again) == quiz_structure(quiz)
    assert _texts(again) == _texts(quiz)
    assert "::wildcard::[markdown]Name the sea west of Georgia. {=Black*#Good. =%0%*#No: " not in text  # ':' escaped
    assert "=Black*#Good. =%0%*#No\\: it is the Black Sea." in text
