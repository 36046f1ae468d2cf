"""A Nergi quiz written out as GIFT, for Moodle's question import (and for Nergi again).

Every question is written with ``::id::`` and ``[markdown]`` text; answers, weights and
feedback as in Moodle's GIFT documentation; the quiz's title and minutes as ``//`` lines
(comments for Moodle, settings for Nergi). What GIFT cannot say is left out: points (Moodle
gives each question its default mark) and the quiz's introduction and settings.
"""
from __future__ import annotations

import json

from app.quizzes.spec import BLANK_MD, Option, Question, Quiz

_SPECIAL = str.maketrans({c: f"\\{c}" for c in "~=#{}:\\"})


def escape(text: str, *, strip: bool = True) -> str:
    """GIFT text: the special characters escaped, line breaks written ``\\n``."""
    return (text.strip() if strip else text).translate(_SPECIAL).replace("\n", "\\n")


def quiz_to_gift(quiz: Quiz, *, title: str, minutes: int) -> str:
    """The quiz as the text of a ``.gift`` file (UTF-8, LF line ends)."""
    lines = ["// kind: quiz", f"// title: {json.dumps(title, ensure_ascii=False)}", f"// minutes: {int(minutes)}", ""]
    for question in quiz.questions:
        lines.append(_question(question))
        lines.append("")
    return "\n".join(lines)


def _question(question: Question) -> str:
    head = f"::{escape(question.id)}::[markdown]"
    if question.type == "description":
        return head + escape(question.text_md)
    answers = _ANSWERS[question.type](question)
    if question.feedback_md.strip():
        answers += f" ####{escape(question.feedback_md)}"
    before, blank, after = question.text_md.partition(BLANK_MD)
    if blank:
        return f"{head}{escape(before.lstrip(), strip=False)}{{{answers}}}{escape(after.rstrip(), strip=False)}"
    return f"{head}{escape(question.text_md)} {{{answers}}}"


def _weight(weight: float) -> str:
    return f"%{round(weight * 100, 5):g}%"


def _feedback(option: Option) -> str:
    return f"#{escape(option.feedback_md)}" if option.feedback_md.strip() else ""


def _choice(question: Question) -> str:
    parts = []
    for option in question.options:
        if question.type == "single" and option.weight == 1:
            marker = "="
        else:
            marker = "~" + (_weight(option.weight) if option.weight else "")
        parts.append(f"{marker}{escape(option.text_md)}{_feedback(option)}")
    return " ".join(parts)


def _true_false(question: Question) -> str:
    first, second = question.options[0], question.options[1]
    is_true = first.weight == 1
    right, wrong = (first, second) if is_true else (second, first)
    text = "TRUE" if is_true else "FALSE"
    if right.feedback_md.strip() or wrong.feedback_md.strip():
        text += f"#{escape(wrong.feedback_md)}#{escape(right.feedback_md)}"
    return text


def _short(question: Question) -> str:
    parts = []
    for option in question.options:
        if option.is_catch_all:
            parts.append(f"=%0%*{_feedback(option)}")
            continue
        weight = "" if option.weight == 1 else _weight(option.weight)
        # ``*`` is the wildcard in both readers, so it is written as it is (``\*`` too).
        parts.append(f"={weight}{escape(option.text_md)}{_feedback(option)}")
    return " ".join(parts)


def _number(value: float) -> str:
    return format(value, ".15g")


def _numerical(question: Question) -> str:
    parts = []
    catch_all = ""
    for option in question.options:
        if option.is_catch_all:
            catch_all = f" ~{_feedback(option)}" if option.feedback_md.strip() else ""
            continue
        weight = "" if option.weight == 1 else _weight(option.weight)
        low, high = option.low or 0.0, option.high or 0.0
        value = _number(low) if low == high else f"{_number(low)}..{_number(high)}"
        parts.append(f"={weight}{value}{_feedback(option)}")
    return "#" + " ".join(parts) + catch_all


def _matching(question: Question) -> str:
    return " ".join(f"={escape(option.text_md)} -> {escape(option.match_md)}" for option in question.options)


_ANSWERS = {"single": _choice, "multiple": _choice, "true-false": _true_false, "short": _short,
            "numerical": _numerical, "matching": _matching}
