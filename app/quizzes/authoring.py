"""What the content loader needs from the quizzes package, in one place.

- :func:`parse_quiz_markdown` and :func:`parse_gift` / :func:`parse_gift_bytes` read the
  two syntaxes into one model; :func:`validate_quiz_settings` reads the front matter;
- :func:`quiz_structure` is what must be equal between a base quiz and its translation,
  and :func:`structure_differences` says where they differ;
- :func:`render_quiz` fills every ``*_html`` field with a render callable (in the app,
  ``app.content.render.render_markdown``, which sanitises after rendering; ``[html]``
  GIFT text goes through the same sanitiser).
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from app.content.quiz_format import QuizFormat
from app.quizzes.gift import parse_gift, parse_gift_bytes, parse_gift_with_warnings
from app.quizzes.markdown_syntax import parse_quiz_markdown
from app.quizzes.settings import validate_quiz_settings
from app.quizzes.spec import Option, Question, Quiz
from app.quizzes.types import Matching

__all__ = [
    "parse_gift",
    "parse_gift_bytes",
    "parse_gift_with_warnings",
    "parse_quiz_markdown",
    "quiz_structure",
    "render_quiz",
    "structure_differences",
    "validate_quiz_settings",
]

#: ``render(markdown_source, inline=False) -> Markup | str``, sanitised HTML.
Render = Callable[..., Any]


def quiz_structure(quiz: Quiz) -> tuple[Any, ...]:
    """What a translation must share with its base quiz, as a comparable tuple.

    One entry per question: ``(id, type, points, options)``, where each option is
    ``(id, weight)`` for choice types; for short answers only the distinct ``(weight,
    is_catch_all)`` pairs (the accepted words, and how many, are language); ``(id, weight,
    is_catch_all, low, high)`` for
    numerical; ``(id, is_prompt, id of the right choice)`` for matching.  Words are not
    part of the structure.
    """
    return tuple(
        (question.id, question.type, question.points, _options_structure(question))
        for question in quiz.questions
    )


def _options_structure(question: Question) -> tuple[Any, ...]:
    if question.type == "short":
        # Each language accepts its own spellings and variants: a translation may list more (or
        # fewer) accepted answers, as long as it gives the same credits (and the same catch-all).
        return tuple(sorted({(round(option.weight, 6), option.is_catch_all) for option in question.options}))
    return tuple(_option_structure(question, o) for o in question.options)


def _option_structure(question: Question, option: Option) -> tuple[Any, ...]:
    weight = round(option.weight, 6)
    if question.type == "numerical":
        return (option.id, weight, option.is_catch_all, option.low, option.high)
    if question.type == "matching":
        is_prompt = bool(option.text_md.strip())
        return (option.id, is_prompt, Matching.correct_choice(question, option) if is_prompt else "")
    return (option.id, weight)


def structure_differences(base: Quiz, translation: Quiz) -> list[tuple[int, str]]:
    """Where ``translation`` does not have the structure of ``base``, as
    ``(line in the translation, message)``; an empty list when they match."""
    if len(base.questions) != len(translation.questions):
        return [(1, f"the translation has {len(translation.questions)} questions, the base has {len(base.questions)}")]
    differences = []
    for mine, theirs in zip(base.questions, translation.questions, strict=True):
        line = max(1, theirs.line)
        if (mine.id, mine.type) != (theirs.id, theirs.type):
            message = f"question {theirs.id!r} ({theirs.type}) is {mine.id!r} ({mine.type}) in the base"
            differences.append((line, message))
        elif mine.points != theirs.points:
            message = f"question {theirs.id!r} has {theirs.points:g} points, {mine.points:g} in the base"
            differences.append((line, message))
        elif quiz_structure(Quiz(questions=[mine])) != quiz_structure(Quiz(questions=[theirs])):
            differences.append(
                (line, f"question {theirs.id!r}: the options differ from the base (their number, order or correctness)")
            )
    return differences


def render_quiz(quiz: Quiz, render: Render) -> Quiz:
    """A copy of ``quiz`` with every ``*_html`` field rendered from its ``*_md`` source.

    Question text, feedback and the introduction are rendered as blocks; option texts,
    matching prompts and answers inline (``render(md, inline=True)``).  Empty sources
    give "" without calling ``render``.  Raises whatever ``render`` raises.
    """
    result = copy.deepcopy(quiz)

    def block(source: str) -> str:
        return str(render(source)) if source.strip() else ""

    def inline(source: str) -> str:
        return str(render(source, inline=True)) if source.strip() else ""

    result.intro_html = block(result.intro_md)
    for question in result.questions:
        question.text_html = block(question.text_md)
        question.feedback_html = block(question.feedback_md)
        for option in question.options:
            option.text_html = "" if option.is_catch_all else inline(option.text_md)
            option.feedback_html = block(option.feedback_md)
            option.match_html = inline(option.match_md)
    return result


#: What create_app hands to the content loader (app.content.quiz_format).
QUIZ_FORMAT = QuizFormat(parse_markdown=parse_quiz_markdown, parse_gift=parse_gift_with_warnings,
                         render=render_quiz, structure_differences=structure_differences)
