"""One pair of words for true/false in each language, in every course (issue 13: the Georgian
files had three), and the same pair GIFT quizzes get (app/quizzes/gift.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.quizzes.gift import TRUE_FALSE_WORDS

COURSES = Path(__file__).resolve().parents[2] / "courses"
OPTION = re.compile(r"^- \[[ x]\] (.*)$")


def true_false_options(lang: str) -> dict[str, set[str]]:
    """Option texts of every Markdown true-false question in the language, by file."""
    found: dict[str, set[str]] = {}
    for path in sorted(COURSES.glob(f"*/*.{lang}.md")):
        in_question = False
        for line in path.read_text(encoding="utf-8").split("\n"):
            if line.startswith("## "):
                in_question = line.startswith("## true-false")
            elif in_question and (match := OPTION.match(line)):
                found.setdefault(str(path.relative_to(COURSES)), set()).add(match.group(1).strip())
    return found


@pytest.mark.parametrize("lang", sorted(TRUE_FALSE_WORDS))
def test_every_true_false_question_uses_the_languages_pair(lang):
    expected = set(TRUE_FALSE_WORDS[lang])
    found = true_false_options(lang)
    assert found, f"no true-false questions in {lang}?"
    wrong = {path: words for path, words in found.items() if words != expected}
    assert not wrong, f"expected {sorted(expected)} in every {lang} true-false question: {wrong}"
