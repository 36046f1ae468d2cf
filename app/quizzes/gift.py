"""Quizzes written in Moodle's GIFT format, read into the same model as Nergi's syntax.

What is read, and how it maps (see docs/authoring.md, "Quizzes in GIFT"):

- questions are separated by blank lines (as in Moodle); ``//`` lines are comments,
  so ``[id:…]`` and ``[tag:…]`` in them are ignored; ``$CATEGORY:`` lines are ignored;
- ``::name::`` becomes the question id (lower-cased, runs of other characters than
  letters, digits, ``-`` and ``_`` become ``-``); without a name the id is ``qN``;
- ``{=a ~b ~c}`` with exactly one ``=`` answer is *single*; ``{~%50%a ~%50%b ~%-100%c}``
  without ``=`` is *multiple*; ``{=a =b =%50%c}`` is *short*; ``{T}``/``{FALSE}`` (also
  ``{TRUE#wrong#right}``) is *true-false*; ``{#…}`` is *numerical*; ``{=a -> 1 …}``
  is *matching* (``= -> x`` is a distractor); text with no braces is a *description*;
  ``{}`` (an essay) is skipped with a warning: essays are assignments;
- two questions with the same ``::name::`` are allowed, as in Moodle: the first keeps the id,
  the next ones get ``-2``, ``-3`` … in file order (the first free one), with a warning;
- a ``*`` in an accepted short answer is Moodle's wildcard (any characters, none included;
  ``\\*`` is a literal asterisk); an answer that is only ``*`` with 0% is the catch-all;
- answers in the middle of the text make a missing-word question: the text keeps a
  blank (:data:`~app.quizzes.spec.BLANK_MD`) where the answers were;
- ``[markdown]`` and ``[moodle]`` text is kept as Markdown; ``[html]`` text is kept as
  it is and, like all author text, goes through ``render_markdown``'s sanitiser when
  the quiz is rendered; ``[plain]`` text is escaped so that it shows literally.  An
  answer or feedback without a marker takes the question text's format.  Accepted
  short answers and matching answers are plain strings and are kept as written.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from app.content.problems import Problem
from app.quizzes.checks import check_quiz
from app.quizzes.gift_source import Source, Span, blocks, front_matter
from app.quizzes.normalise import parse_authored_number
from app.quizzes.settings import validate_quiz_settings
from app.quizzes.spec import BLANK_MD, Option, Question, Quiz

_FORMAT = re.compile(r"^\s*\[(markdown|html|plain|moodle)\]", re.IGNORECASE)
_WEIGHT = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
_TRUE_FALSE = {"t": True, "true": True, "f": False, "false": False}
#: The two options of a GIFT true/false question, in the file's language (``NN-item.<lang>.gift``):
#: GIFT itself has no words for them. Georgian uses one pair everywhere (issue 13).
TRUE_FALSE_WORDS = {
    "en": ("True", "False"),
    "ka": ("მართალია", "მცდარია"),
    "az": ("Doğru", "Yanlış"),
    "hy": ("Ճիշտ է", "Սխալ է"),
    "ru": ("Верно", "Неверно"),
}


def _file_lang(path: str) -> str:
    """The language part of ``01-item.ka.gift`` ("ka"), or "en"."""
    parts = path.replace("\\", "/").rsplit("/", 1)[-1].split(".")
    return parts[-2] if len(parts) >= 3 and parts[-2] in TRUE_FALSE_WORDS else "en"
_NOT_ID = re.compile(r"[^\w-]+")
_MARKDOWN_SPECIALS = re.compile(r"[\\`*_{}\[\]()<>#+\-.!|=~:^&]")


class GiftError(Exception):
    """A problem in one GIFT question: ``line`` and ``message``."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class SkippedQuestion(GiftError):
    """A question Moodle has and Nergi does not (an essay): left out with a warning."""


ESSAY_WARNING = "essay question ({}) left out: essays are not quiz questions; write it as an assignment item"


def parse_gift_bytes(data: bytes, *, path: str) -> tuple[dict[Any, Any], Quiz, list[Problem]]:
    """Decode a ``.gift`` file and parse it with :func:`parse_gift`.

    A file that is not UTF-8 gets one problem at the line of the first bad byte and an
    empty quiz.  A UTF-8 byte-order mark is skipped.  Never raises.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        message = (
            f"the file is not UTF-8 (byte 0x{data[error.start]:02x} on this line); "
            "save it as UTF-8 in your editor"
        )
        return {}, Quiz(), [Problem(path, line, message)]
    return parse_gift(text, path=path)


def parse_gift(text: str, *, path: str) -> tuple[dict[Any, Any], Quiz, list[Problem]]:
    """Parse the text of a ``.gift`` file.

    Returns the front matter (the leading ``// key: value`` lines, as a dict), the quiz
    (settings from that front matter; only ``*_md`` fields filled) and the problems,
    sorted by line, each with a file line >= 1.  Never raises.
    """
    meta, quiz, problems, _warnings = parse_gift_with_warnings(text, path=path)
    return meta, quiz, problems


def parse_gift_with_warnings(text: str, *, path: str) -> tuple[dict[Any, Any], Quiz, list[Problem], list[Problem]]:
    """:func:`parse_gift`, plus the warnings: questions left out (essays) and renamed
    duplicate names.  Never raises."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    header = front_matter(lines)
    settings, problems = validate_quiz_settings(header.meta, path=path, line_of=header.line_of)
    found: list[tuple[int, str]] = [header.problem] if header.problem else []
    warned: list[tuple[int, str]] = []
    questions: list[Question] = []
    for number, block in enumerate(blocks(lines), 1):
        try:
            questions.append(_question(Source(block), number))
        except SkippedQuestion as skipped:
            warned.append((skipped.line, skipped.message))
        except GiftError as error:
            found.append((error.line, error.message))
    warned.extend(_distinct_ids(questions))
    true_word, false_word = TRUE_FALSE_WORDS[_file_lang(path)]
    for question in questions:
        if question.type == "true-false":
            question.options[0].text_md, question.options[1].text_md = true_word, false_word
    quiz = Quiz(settings=settings, questions=questions)
    dropped = len(found) > (1 if header.problem else 0)
    found.extend(check_quiz(quiz, quiz_line=header.first_line if header.meta else 1, some_dropped=dropped))
    problems.extend(Problem(path, max(1, line), message) for line, message in found)
    problems.sort(key=lambda problem: problem.line)
    warnings = sorted(Problem(path, max(1, line), message) for line, message in warned)
    return header.meta, quiz, problems, warnings


def _distinct_ids(questions: list[Question]) -> list[tuple[int, str]]:
    """Give questions that share a ``::name::`` distinct ids: the first keeps it, each next
    one takes ``<id>-2``, ``<id>-3`` … (the first not taken), in file order."""
    taken = {question.id for question in questions}
    seen: set[str] = set()
    warnings = []
    for question in questions:
        if question.id not in seen:
            seen.add(question.id)
            continue
        counter = 2
        while f"{question.id}-{counter}" in taken:
            counter += 1
        new_id = f"{question.id}-{counter}"
        warnings.append((question.line,
                         f"question name {question.id!r} is used before: this question's id is {new_id!r}"))
        taken.add(new_id)
        seen.add(new_id)
        question.id = new_id
    return warnings


def _question(source: Source, number: int) -> Question:
    """One question from one block.  Raises GiftError."""
    whole = source.span().strip()
    line = whole.line
    qid, rest = _name(whole, number)
    opening, closing = rest.find("{"), rest.find("}")
    if opening < 0 and closing < 0:
        fmt, body = _format(rest, "moodle")
        return Question(id=qid, type="description", text_md=_to_md(body.text, fmt).strip(), points=0.0, line=line)
    if opening < 0 or closing < opening:
        raise GiftError(
            line, "unbalanced braces: the answers go between { and } (write \\{ or \\} for a brace in the text)"
        )
    after = rest.cut(closing + 1)
    if after.find("{") >= 0 or after.find("}") >= 0:
        raise GiftError(after.line, "a second answer block {…}: separate questions with a blank line")
    fmt, before = _format(rest.cut(rest.start, opening), "moodle")
    if after:
        text_md = _to_md(before.text, fmt) + BLANK_MD + _to_md(after.text, fmt)
    else:
        text_md = _to_md(before.text, fmt)
    question = Question(id=qid, type="", text_md=text_md.strip(), line=line)
    answers = rest.cut(opening + 1, closing)
    general = answers.rfind("####")
    if general >= 0:
        question.feedback_md = _text(answers.cut(general + 4), fmt)
        answers = answers.cut(answers.start, general)
    answers = answers.strip()
    if not answers:
        raise SkippedQuestion(line, ESSAY_WARNING)
    _ANSWERS[_kind(answers)](question, answers, fmt)
    return question


def _name(span: Span, number: int) -> tuple[str, Span]:
    """The question id and the rest of the block."""
    default = f"q{number}"
    if not span.struct.startswith("::"):
        return default, span
    closing = span.find("::", span.start + 2)
    if closing < 0:
        raise GiftError(span.line, "the question name is not closed: write ::name::")
    name = _NOT_ID.sub("-", span.cut(span.start + 2, closing).text.strip()).strip("-_").lower()
    return (name[:100] or default), span.cut(closing + 2).strip()


def _kind(answers: Span) -> str:
    """The question type of an answer block, decided as Moodle decides it."""
    struct = answers.struct
    if struct.startswith("#"):
        return "numerical"
    if "~" in struct:
        return "choice"
    if "=" in struct and "->" in struct:
        return "matching"
    head, _ = answers.partition("#")
    if head.text.strip().lower() in _TRUE_FALSE:
        return "true-false"
    return "short"


def _format(span: Span, default: str) -> tuple[str, Span]:
    """The text format marker at the start of ``span`` (or ``default``) and the rest."""
    match = _FORMAT.match(span.struct)
    if not match:
        return default, span
    return match.group(1).lower(), span.cut(span.start + match.end())


def _to_md(text: str, fmt: str) -> str:
    """Text of a GIFT format as Markdown source: ``[plain]`` is escaped, the others kept."""
    if fmt != "plain":
        return text
    escaped = _MARKDOWN_SPECIALS.sub(lambda match: f"&#{ord(match.group())};", text)
    return "  \n".join(line.strip() for line in escaped.split("\n"))


def _text(span: Span, default: str) -> str:
    """The Markdown of a piece of text that may start with its own format marker."""
    fmt, rest = _format(span, default)
    return _to_md(rest.text, fmt).strip()


def _weight(span: Span, default: float) -> tuple[float, Span]:
    """A leading ``%n%`` weight as a fraction (or ``default``) and the rest."""
    stripped = span.strip()
    match = _WEIGHT.match(stripped.struct)
    if match:
        value = float(match.group(1))
        if not -100 <= value <= 100:
            raise GiftError(stripped.line, f"weight %{match.group(1)}% is outside -100%..100%")
        return float(Decimal(match.group(1)) / 100), stripped.cut(stripped.start + match.end())
    if stripped.struct.startswith("%"):
        raise GiftError(stripped.line, "malformed weight: write %50%, %-25% or %33.333%")
    return default, stripped


def _answer_and_feedback(span: Span, fmt: str) -> tuple[Span, str]:
    """Split ``answer#feedback``; the feedback as Markdown."""
    answer, feedback = span.partition("#")
    return answer.strip(), (_text(feedback, fmt) if feedback is not None else "")


def _letters(index: int) -> str:
    letters, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _leading_text(pieces: list[tuple[str, Span]], what: str) -> list[tuple[str, Span]]:
    """Drop the (empty) piece before the first answer marker; text there is an error."""
    if pieces and pieces[0][0] == "":
        if pieces[0][1]:
            raise GiftError(pieces[0][1].line, f"text before the first answer: start each {what} with the marker")
        pieces = pieces[1:]
    return pieces


def _choice(question: Question, answers: Span, fmt: str) -> None:
    """``{=right ~wrong ~%50%half}``: single with one ``=``, multiple without."""
    pieces = _leading_text(answers.split("=~"), "answer with = or ~")
    question.type = "single" if any(marker == "=" for marker, _ in pieces) else "multiple"
    for index, (marker, piece) in enumerate(pieces):
        weight, rest = _weight(piece, 1.0 if marker == "=" else 0.0)
        answer, feedback = _answer_and_feedback(rest, fmt)
        question.options.append(
            Option(id=_letters(index), text_md=_text(answer, fmt), weight=weight, feedback_md=feedback, line=piece.line)
        )


def _matching(question: Question, answers: Span, fmt: str) -> None:
    """``{=prompt -> answer …}``; ``= -> answer`` adds a distractor."""
    question.type = "matching"
    pieces = _leading_text(answers.split("="), "pair with =")
    for index, (_, piece) in enumerate(pieces):
        prompt, answer = piece.partition("->")
        if answer is None:
            raise GiftError(piece.line, "a matching pair needs '->' between the prompt and its answer")
        question.options.append(
            Option(id=_letters(index), text_md=_text(prompt, fmt), match_md=answer.text.strip(), line=piece.line)
        )


def _true_false(question: Question, answers: Span, fmt: str) -> None:
    """``{T}``, ``{FALSE}``, ``{TRUE#feedback if wrong#feedback if right}``."""
    question.type = "true-false"
    value, rest = answers.partition("#")
    wrong, right = ("", "") if rest is None else _two_feedbacks(rest, fmt)
    is_true = _TRUE_FALSE[value.text.strip().lower()]
    line = answers.line
    question.options = [
        Option(id="a", text_md="True", weight=float(is_true), feedback_md=right if is_true else wrong, line=line),
        Option(id="b", text_md="False", weight=float(not is_true), feedback_md=wrong if is_true else right, line=line),
    ]


def _two_feedbacks(span: Span, fmt: str) -> tuple[str, str]:
    wrong, right = span.partition("#")
    return _text(wrong, fmt), ("" if right is None else _text(right, fmt))


def _short(question: Question, answers: Span, fmt: str) -> None:
    """``{=answer =other =%50%half#feedback}``; a bare ``{answer}`` also counts."""
    question.type = "short"
    pieces = answers.split("=")
    if pieces and pieces[0][0] == "" and not pieces[0][1]:
        pieces = pieces[1:]
    for index, (_, piece) in enumerate(pieces):
        weight, rest = _weight(piece, 1.0)
        answer, feedback = _answer_and_feedback(rest, fmt)
        text = answer.text.strip()
        question.options.append(
            Option(
                id=_letters(index), text_md=text, weight=weight, feedback_md=feedback, line=piece.line,
                # Moodle: an answer that is only "*" matches anything; at 0% it is the
                # feedback for every other answer, which is Nergi's catch-all.
                is_catch_all=bool(re.fullmatch(r"\*+", text)) and weight == 0,
            )
        )


def _numerical(question: Question, answers: Span, fmt: str) -> None:
    """``{#x}``, ``{#x:tolerance}``, ``{#min..max}``, ``{# =%50%… ~#catch-all}``."""
    question.type = "numerical"
    body = answers.cut(answers.start + 1)
    body, catch_all = body.partition("~")
    pieces = body.split("=")
    if pieces and pieces[0][0] == "" and not pieces[0][1]:
        pieces = pieces[1:]
    if not pieces:
        raise GiftError(answers.line, "a numerical question needs at least one answer after #")
    for index, (_, piece) in enumerate(pieces):
        weight, rest = _weight(piece, 1.0)
        value, feedback = _answer_and_feedback(rest, fmt)
        low, high = _bounds(value)
        question.options.append(
            Option(id=_letters(index), text_md=value.text.strip(), weight=weight, feedback_md=feedback,
                   low=low, high=high, line=piece.line)
        )
    if catch_all is not None:
        if catch_all.find("~") >= 0:
            raise GiftError(catch_all.line, "only one ~ catch-all feedback is allowed")
        head, other = catch_all.partition("#")
        weight, head = _weight(head, 0.0)
        if head or weight != 0:
            raise GiftError(catch_all.line, "the catch-all is written ~#feedback")
        question.options.append(
            Option(id=_letters(len(pieces)), text_md="*", is_catch_all=True,
                   feedback_md="" if other is None else _text(other, fmt), line=catch_all.line)
        )


def _bounds(value: Span) -> tuple[float, float]:
    """``(low, high)`` of ``x``, ``x:tolerance`` or ``min..max``.  Raises GiftError."""
    text, struct = value.text, value.struct  # value is stripped: positions agree
    dots, colon = text.find("..", 1), struct.find(":", 1)
    if dots > 0:
        low, high = parse_authored_number(text[:dots]), parse_authored_number(text[dots + 2:])
    elif colon > 0:
        centre, spread = parse_authored_number(text[:colon]), parse_authored_number(text[colon + 1:])
        if centre is not None and spread is not None and spread < 0:
            raise GiftError(value.line, f"negative tolerance in {text!r}")
        low, high = (None, None) if centre is None or spread is None else (centre - spread, centre + spread)
    else:
        low = high = parse_authored_number(text)
    if low is None or high is None:
        raise GiftError(value.line, f"numerical answer not understood: {text!r}; write x, x:tolerance or min..max")
    return low, high


_ANSWERS = {
    "numerical": _numerical,
    "choice": _choice,
    "matching": _matching,
    "true-false": _true_false,
    "short": _short,
}
