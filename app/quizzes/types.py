"""The question types: a registry of classes, each with pure grading.

Every type offers three class methods:

- ``parse_answer(question, raw, choice_order=None)`` turns submitted form values into
  the type's answer; garbage gives the empty answer, never an exception;
- ``grade(question, answer)`` returns a :class:`Grade`; pure, never raises, and treats
  an answer of the wrong shape as empty;
- ``public_view(question, option_order=None, choice_order=None)`` returns what the
  learner's browser may see before the attempt is submitted.  It is a positive list:
  ``id``, ``type``, ``points``, ``text_html`` and, for choice types, ``options`` as
  ``[{id, text_html}]``; for matching, ``prompts`` and ``choices``.  Never a weight,
  a feedback or anything that tells right from wrong.

Answers by type: single / true-false ``str | None`` (an option id); multiple
``list[str]`` (option ids in authored order); short / numerical ``str`` (as typed);
matching ``dict[str, str]`` (prompt option id -> id of the option line that owns the
chosen answer); description ``None``.

Matching choices are shown to the browser under per-attempt tokens (``c1``, ``c2``, …
by position in ``choice_order``), not under option ids: the line that owns an answer is
the line of its prompt, so its id would give the pair away.  ``parse_answer`` maps the
tokens back with the same ``choice_order``.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from app.quizzes.normalise import normalise_answer, parse_learner_number
from app.quizzes.spec import Option, Question

Answer = str | list[str] | dict[str, str] | None
RawAnswer = list[str] | dict[str, Any] | str | None

#: Longest typed answer we read; anything longer is treated as no answer.
MAX_TYPED_ANSWER = 1000
_EPSILON = 1e-9


@dataclass(frozen=True)
class Grade:
    """The grade of one answer: a fraction in [0, 1] of the question's points, the
    feedback of what the learner chose (Markdown and HTML), and whether it is fully right."""

    fraction: float
    feedback_md: str = ""
    feedback_html: str = ""
    is_correct: bool = False


NO_CREDIT = Grade(0.0)


def _grade(fraction: float, options: Sequence[Option]) -> Grade:
    fraction = min(1.0, max(0.0, fraction))
    if fraction > 1.0 - _EPSILON:
        fraction = 1.0
    return Grade(
        fraction=fraction,
        feedback_md="\n\n".join(o.feedback_md for o in options if o.feedback_md),
        feedback_html="\n".join(o.feedback_html for o in options if o.feedback_html),
        is_correct=fraction == 1.0,
    )


def _values(raw: RawAnswer) -> list[str]:
    """The string values of a form field (a list of strings, or one string)."""
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, (list, tuple)):
        return [value for value in raw if isinstance(value, str)]
    return []


def _ordered(question: Question, order: Sequence[str] | None) -> list[Option]:
    """The question's options in ``order``; unknown ids are skipped, missing ones appended."""
    by_id = {option.id: option for option in question.options}
    result: list[Option] = []
    for option_id in order or ():
        option = by_id.pop(option_id, None) if isinstance(option_id, str) else None
        if option is not None:
            result.append(option)
    result.extend(option for option in question.options if option.id in by_id)
    return result


def _base_view(question: Question) -> dict[str, Any]:
    return {
        "id": question.id,
        "type": question.type,
        "points": question.points,
        "text_html": question.text_html,
    }


class QuestionType:
    """Base of the question types; see the module docstring for the contract."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    is_graded: ClassVar[bool] = True

    @classmethod
    def empty_answer(cls) -> Answer:
        """The answer of a learner who answered nothing."""
        return None

    @classmethod
    def parse_answer(
        cls, question: Question, raw: RawAnswer, choice_order: Sequence[str] | None = None
    ) -> Answer:
        """Turn submitted form values into an answer; never raises."""
        return cls.empty_answer()

    @classmethod
    def grade(cls, question: Question, answer: Answer) -> Grade:
        """Grade ``answer``; never raises."""
        return NO_CREDIT

    @classmethod
    def public_view(
        cls,
        question: Question,
        option_order: Sequence[str] | None = None,
        choice_order: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """What the browser may see before submission (positive list)."""
        return _base_view(question)


class SingleChoice(QuestionType):
    """One option to pick; the option's weight is the score (negative counts as 0)."""

    name = "single"
    label = "single choice"

    @classmethod
    def parse_answer(
        cls, question: Question, raw: RawAnswer, choice_order: Sequence[str] | None = None
    ) -> Answer:
        """The chosen option id; None unless exactly one known id was sent."""
        chosen = {value for value in _values(raw) if question.option(value) is not None}
        return chosen.pop() if len(chosen) == 1 else None

    @classmethod
    def grade(cls, question: Question, answer: Answer) -> Grade:
        """The chosen option's weight (floored at 0) and its feedback."""
        option = question.option(answer) if isinstance(answer, str) else None
        if option is None:
            return NO_CREDIT
        return _grade(option.weight, [option])

    @classmethod
    def public_view(
        cls,
        question: Question,
        option_order: Sequence[str] | None = None,
        choice_order: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """id, type, points, text_html and options [{id, text_html}] in ``option_order``."""
        view = _base_view(question)
        view["options"] = [
            {"id": option.id, "text_html": option.text_html}
            for option in _ordered(question, option_order)
        ]
        return view


class TrueFalse(SingleChoice):
    """Two options, true and false; each carries the feedback for choosing it."""

    name = "true-false"
    label = "true/false"


class MultipleResponse(SingleChoice):
    """Any number of options to tick; the score is the sum of their weights, floored at 0."""

    name = "multiple"
    label = "multiple response"

    @classmethod
    def empty_answer(cls) -> Answer:
        """No option ticked."""
        return []

    @classmethod
    def parse_answer(
        cls, question: Question, raw: RawAnswer, choice_order: Sequence[str] | None = None
    ) -> Answer:
        """The ticked option ids, known ones only, once each, in authored order."""
        values = set(_values(raw))
        return [option.id for option in question.options if option.id in values]

    @classmethod
    def grade(cls, question: Question, answer: Answer) -> Grade:
        """Sum of the ticked weights in [0, 1]; exactly the positive options earn 1."""
        ids = {i for i in answer if isinstance(i, str)} if isinstance(answer, list) else set()
        chosen = [option for option in question.options if option.id in ids]
        if not chosen:
            return NO_CREDIT
        positive = {option.id for option in question.options if option.weight > 0}
        if {option.id for option in chosen} == positive:
            # 3 × 33.333% must give full marks.
            return _grade(1.0, chosen)
        return _grade(sum(option.weight for option in chosen), chosen)


class ShortAnswer(QuestionType):
    """A typed answer compared with the accepted ones after normalisation."""

    name = "short"
    label = "short answer"

    @classmethod
    def empty_answer(cls) -> Answer:
        """Nothing typed."""
        return ""

    @classmethod
    def parse_answer(
        cls, question: Question, raw: RawAnswer, choice_order: Sequence[str] | None = None
    ) -> Answer:
        """The first submitted value, trimmed; "" when missing or too long."""
        values = _values(raw)
        if not values or len(values[0]) > MAX_TYPED_ANSWER:
            return ""
        return values[0].strip()

    @classmethod
    def matches(cls, option: Option, answer: str) -> bool:
        """Whether the typed ``answer`` equals this accepted answer after normalisation.

        As in Moodle, ``*`` in an accepted answer stands for any characters (none
        included; a run of them is one) and ``\\*`` is a literal asterisk."""
        if "*" not in option.text_md:
            return normalise_answer(option.text_md) == normalise_answer(answer)
        return wildcard_pattern(option.text_md).fullmatch(normalise_answer(answer)) is not None

    @classmethod
    def grade(cls, question: Question, answer: Answer) -> Grade:
        """The best-weighted matching answer; otherwise the catch-all's feedback."""
        if not isinstance(answer, str) or not answer.strip():
            return NO_CREDIT
        matching = [
            option
            for option in question.options
            if not option.is_catch_all and cls.matches(option, answer)
        ]
        return _best(question, matching)

    @classmethod
    def public_view(
        cls,
        question: Question,
        option_order: Sequence[str] | None = None,
        choice_order: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """id, type, points and text_html: the accepted answers stay on the server."""
        return _base_view(question)


_WILDCARD = "\ue000"  # a private-use character: normalisation leaves it alone


@functools.lru_cache(maxsize=1024)
def wildcard_pattern(accepted: str) -> re.Pattern[str]:
    """The regular expression of an accepted short answer with Moodle's ``*`` wildcard."""
    marked = re.sub(r"(?<!\\)\*+", _WILDCARD, accepted).replace("\\*", "*")
    pieces = normalise_answer(marked).split(_WILDCARD)
    return re.compile(".*".join(re.escape(piece) for piece in pieces), re.DOTALL)


def _best(question: Question, matching: list[Option]) -> Grade:
    """Grade by the highest-weighted of ``matching`` (the first on a tie), else by the
    catch-all option, else no credit."""
    if matching:
        best = max(matching, key=lambda option: option.weight)
        return _grade(best.weight, [best])
    catch_all = [option for option in question.options if option.is_catch_all]
    if catch_all:
        return _grade(catch_all[0].weight, catch_all[:1])
    return NO_CREDIT


class Numerical(ShortAnswer):
    """A typed number matched against exact values, tolerances and ranges."""

    name = "numerical"
    label = "numerical"

    @classmethod
    def matches(cls, option: Option, answer: str) -> bool:
        """Whether the typed number lies in the option's [low, high] (with float slack)."""
        value = parse_learner_number(answer)
        if value is None or option.low is None or option.high is None:
            return False
        slack = _EPSILON * max(1.0, abs(option.low), abs(option.high))
        return option.low - slack <= value <= option.high + slack


class Matching(QuestionType):
    """Prompts each paired with one answer; each right pair earns its share."""

    name = "matching"
    label = "matching"

    @classmethod
    def empty_answer(cls) -> Answer:
        """No pair chosen."""
        return {}

    @staticmethod
    def prompts(question: Question) -> list[Option]:
        """The option lines that have a prompt (the others are distractors)."""
        return [option for option in question.options if option.text_md.strip()]

    @staticmethod
    def choices(question: Question) -> list[Option]:
        """One option line per distinct answer: the first line that carries it."""
        seen: set[str] = set()
        result = []
        for option in question.options:
            key = normalise_answer(option.match_md)
            if key not in seen:
                seen.add(key)
                result.append(option)
        return result

    @classmethod
    def correct_choice(cls, question: Question, prompt: Option) -> str:
        """The id of the choice that answers ``prompt``."""
        key = normalise_answer(prompt.match_md)
        for choice in cls.choices(question):
            if normalise_answer(choice.match_md) == key:
                return choice.id
        return prompt.id

    @classmethod
    def default_choice_order(cls, question: Question) -> list[str]:
        """Choices sorted by their text: an order that says nothing about the pairs."""
        choices = sorted(
            cls.choices(question), key=lambda o: (normalise_answer(o.match_md), o.id)
        )
        return [choice.id for choice in choices]

    @classmethod
    def _choice_order(cls, question: Question, order: Sequence[str] | None) -> list[Option]:
        choice_ids = {choice.id for choice in cls.choices(question)}
        given = [i for i in (order or ()) if isinstance(i, str) and i in choice_ids]
        if len(set(given)) != len(choice_ids) or len(given) != len(choice_ids):
            given = cls.default_choice_order(question)
        by_id = {option.id: option for option in question.options}
        return [by_id[choice_id] for choice_id in given]

    @classmethod
    def parse_answer(
        cls, question: Question, raw: RawAnswer, choice_order: Sequence[str] | None = None
    ) -> Answer:
        """Map ``{prompt id: choice token}`` back to ``{prompt id: choice id}``.

        Unknown prompts and tokens are dropped; a non-mapping gives ``{}``.
        """
        if not isinstance(raw, dict):
            return {}
        choices = cls._choice_order(question, choice_order)
        tokens = {f"c{index}": choice.id for index, choice in enumerate(choices, 1)}
        prompt_ids = {prompt.id for prompt in cls.prompts(question)}
        answer: dict[str, str] = {}
        for prompt_id, value in raw.items():
            values = _values(value)
            if prompt_id in prompt_ids and values and values[0] in tokens:
                answer[prompt_id] = tokens[values[0]]
        return answer

    @classmethod
    def grade(cls, question: Question, answer: Answer) -> Grade:
        """The share of prompts paired with their right answer."""
        prompts = cls.prompts(question)
        if not isinstance(answer, dict) or not prompts:
            return NO_CREDIT
        wrong = [prompt for prompt in prompts if answer.get(prompt.id) != cls.correct_choice(question, prompt)]
        chosen = {value for value in answer.values() if isinstance(value, str)}
        distractors = [o for o in question.options if not o.text_md.strip() and o.id in chosen]
        return _grade((len(prompts) - len(wrong)) / len(prompts), wrong + distractors)

    @classmethod
    def public_view(
        cls,
        question: Question,
        option_order: Sequence[str] | None = None,
        choice_order: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """id, type, points, text_html, prompts [{id, text_html}] in ``option_order``
        and choices [{id: token, text_html}] in ``choice_order``."""
        view = _base_view(question)
        prompt_ids = {prompt.id for prompt in cls.prompts(question)}
        view["prompts"] = [
            {"id": option.id, "text_html": option.text_html}
            for option in _ordered(question, option_order)
            if option.id in prompt_ids
        ]
        view["choices"] = [
            {"id": f"c{index}", "text_html": choice.match_html}
            for index, choice in enumerate(cls._choice_order(question, choice_order), 1)
        ]
        return view


class Description(QuestionType):
    """Text only: no answer, no grade, no points."""

    name = "description"
    label = "description"
    is_graded = False


QUESTION_TYPES: dict[str, type[QuestionType]] = {
    cls.name: cls
    for cls in (SingleChoice, MultipleResponse, TrueFalse, ShortAnswer, Numerical, Matching, Description)
}

