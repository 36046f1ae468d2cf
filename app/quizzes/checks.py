"""Checks on the parsed model that both syntaxes share: one model, one set of rules.

The parsers check what only their syntax can get wrong (a malformed box, an unclosed
brace); whatever a well-formed question can still get wrong is checked here, on the
:class:`~app.quizzes.spec.Question`, so Nergi's syntax and GIFT refuse the same things.
"""
from __future__ import annotations

from collections.abc import Collection, Iterator

from app.quizzes.normalise import normalise_answer
from app.quizzes.spec import Question, Quiz
from app.quizzes.types import QUESTION_TYPES, Matching

#: How far the positive weights of a multiple-response question may be from 100%,
#: in percent, so that 3 × 33.33% passes.
SUM_TOLERANCE = 0.01


def percent(weight: float) -> str:
    """A weight (fraction) as the author wrote it: ``0.5`` -> ``50%``."""
    return f"{round(weight * 100, 4):g}%"


def check_quiz(
    quiz: Quiz,
    *,
    quiz_line: int = 1,
    unchecked: Collection[Question] = (),
    some_dropped: bool = False,
) -> list[tuple[int, str]]:
    """Every problem of the quiz as ``(line, message)``: each question's, duplicate ids,
    and a quiz without a graded question (reported on ``quiz_line``).

    Questions in ``unchecked`` (already reported by the parser) skip the per-question
    checks, which would only echo the parser's problem; ``some_dropped`` (the parser
    could not read some question) skips the graded-question check for the same reason."""
    problems: list[tuple[int, str]] = []
    skipped = {id(question) for question in unchecked}
    seen: dict[str, int] = {}
    for question in quiz.questions:
        if question.id in seen:
            problems.append(
                (question.line, f"duplicate question id {question.id!r} (first used on line {seen[question.id]})")
            )
        else:
            seen[question.id] = question.line
        if id(question) not in skipped:
            problems.extend(check_question(question))
    if not some_dropped and not any(
        question.type in QUESTION_TYPES and QUESTION_TYPES[question.type].is_graded
        for question in quiz.questions
    ):
        problems.append((quiz_line, "a quiz needs at least one graded question"))
    return problems


def check_question(question: Question) -> list[tuple[int, str]]:
    """The problems of one question as ``(line, message)``; an empty list if none."""
    checker = _CHECKERS.get(question.type)
    if checker is None:
        return [(question.line, f"unknown question type {question.type!r}")]
    problems = [] if question.text_md.strip() else [(question.line, "the question has no text")]
    if question.type != "description" and not question.options:
        return [*problems, (question.line, "the question has no options")]
    return problems + list(checker(question))


def _option_texts(question: Question) -> Iterator[tuple[int, str]]:
    for option in question.options:
        if not option.text_md.strip():
            yield (option.line, "an option has no text")


def _single(question: Question) -> Iterator[tuple[int, str]]:
    yield from _option_texts(question)
    full = [option for option in question.options if option.weight == 1]
    if len(full) != 1:
        yield (
            question.line,
            f"a single-choice question needs exactly one correct option ([x]), found {len(full)}",
        )
    if len(question.options) < 2:
        yield (question.line, "a single-choice question needs at least two options")


def _multiple(question: Question) -> Iterator[tuple[int, str]]:
    yield from _option_texts(question)
    if len(question.options) < 2:
        yield (question.line, "a multiple-response question needs at least two options")
    total = sum(option.weight for option in question.options if option.weight > 0)
    if abs(total * 100 - 100) > SUM_TOLERANCE + 1e-9:
        yield (
            question.line,
            f"the positive weights of a multiple-response question must add up to 100% "
            f"(they add up to {percent(total)})",
        )


def _true_false(question: Question) -> Iterator[tuple[int, str]]:
    yield from _option_texts(question)
    weights = sorted(option.weight for option in question.options)
    if weights != [0, 1]:
        yield (
            question.line,
            "a true-false question needs exactly two options, one marked [x] and one [ ]",
        )


def _typed(question: Question) -> Iterator[tuple[int, str]]:
    """Checks shared by short-answer and numerical questions."""
    catch_alls = [option for option in question.options if option.is_catch_all]
    for extra in catch_alls[1:]:
        yield (extra.line, "only one catch-all (*) answer is allowed")
    for option in catch_alls:
        if option.weight != 0:
            yield (option.line, "the catch-all (*) answer only gives feedback: mark it [ ]")
    answers = [option for option in question.options if not option.is_catch_all]
    for option in answers:
        if option.weight < 0:
            yield (option.line, f"negative weight {percent(option.weight)}: only choice questions may take points away")
    if not any(option.weight == 1 for option in answers):
        yield (question.line, "at least one answer must be correct ([x] or 100%)")


def _short(question: Question) -> Iterator[tuple[int, str]]:
    yield from _typed(question)
    seen: set[str] = set()
    for option in question.options:
        if option.is_catch_all:
            continue
        key = normalise_answer(option.text_md)
        if not key:
            yield (option.line, "an accepted answer is empty")
        elif key in seen:
            yield (
                option.line,
                f"duplicate answer {option.text_md.strip()!r} (answers are compared ignoring case and spaces)",
            )
        seen.add(key)


def _numerical(question: Question) -> Iterator[tuple[int, str]]:
    yield from _typed(question)
    for option in question.options:
        if option.is_catch_all:
            continue
        if option.low is None or option.high is None:
            yield (option.line, f"not a number, a tolerance or a range: {option.text_md.strip()!r}")
        elif option.low > option.high:
            yield (option.line, f"the range {option.text_md.strip()!r} ends below its start")


def _matching(question: Question) -> Iterator[tuple[int, str]]:
    prompts = Matching.prompts(question)
    if len(prompts) < 2:
        yield (question.line, "a matching question needs at least two pairs")
    seen_prompts: set[str] = set()
    for option in prompts:
        key = normalise_answer(option.text_md)
        if key in seen_prompts:
            yield (option.line, f"duplicate prompt {option.text_md.strip()!r}")
        seen_prompts.add(key)
    prompt_ids = {option.id for option in prompts}
    answers = {normalise_answer(option.match_md) for option in prompts}
    seen_distractors: set[str] = set()
    for option in question.options:
        key = normalise_answer(option.match_md)
        if not key:
            yield (option.line, "nothing after '->': each line needs an answer")
        elif option.id not in prompt_ids:
            if key in answers or key in seen_distractors:
                yield (option.line, f"the distractor {option.match_md.strip()!r} repeats an answer")
            seen_distractors.add(key)


def _description(question: Question) -> Iterator[tuple[int, str]]:
    if question.options:
        yield (question.line, "a description has no options")


_CHECKERS = {
    "single": _single,
    "multiple": _multiple,
    "true-false": _true_false,
    "short": _short,
    "numerical": _numerical,
    "matching": _matching,
    "description": _description,
}
