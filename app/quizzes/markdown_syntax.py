"""Nergi's own quiz syntax: Markdown with ``## <type>: <question>`` headings.

The syntax is the one in docs/authoring.md, "Quizzes in Nergi's syntax".  In short:

- text before the first question is the introduction;
- ``## <type>: <question> {#id points=N}`` starts a question (id defaults to ``qN`` by
  position, points to 1); paragraphs after it add to the question text;
- options are a list, ``- [x]``, ``- [ ]`` or ``- [50%]`` followed by the option text;
  a block quote indented under an option is its feedback;
- matching lines are ``- prompt -> answer`` (``- -> answer`` adds a distractor);
- a block quote after the list is the general feedback.

Lines inside fenced code blocks never start a question or an option.
"""
from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.content.problems import Problem
from app.quizzes.checks import check_quiz
from app.quizzes.normalise import parse_authored_number
from app.quizzes.settings import validate_quiz_settings
from app.quizzes.spec import Option, Question, Quiz
from app.quizzes.types import QUESTION_TYPES

_HEADING = re.compile(r"^ {0,3}##(?!#)(.*)$")
_CLOSING_HASHES = re.compile(r"[ \t]+#+[ \t]*$")
_TYPE_AND_TEXT = re.compile(r"^([A-Za-z][\w-]*)[ \t]*:[ \t]*(.*)$", re.DOTALL)
_ATTRIBUTES = re.compile(r"^(.*?)[ \t]*\{([^{}]*)\}[ \t]*$")
_LOOKS_LIKE_ATTRIBUTES = re.compile(r"^\s*(#|points\s*=)")
_ID = re.compile(r"^[\w][\w-]{0,99}$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"^[-*+][ \t]+(.*)$")
_BOXED_ITEM = re.compile(r"^[-*+][ \t]+\[([^\]\n]*)\](?:[ \t]+(.*))?$")
_BOX_LIKE = re.compile(r"^[\sxX\d.,%+-]*$")
_WEIGHT = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*%\s*$")
_QUOTE = re.compile(r"^ {0,3}> ?(.*)$")
_INDENTED = re.compile(r"^(?: {2,}|\t)(.*)$")
_TOLERANCE = re.compile(r"^(.+?)\s*(?:±|\+-|\+/-)\s*(.+)$")
_RANGE = re.compile(r"^(.+?)\s*\.\.\s*(.+)$")

_BOX_TYPES = frozenset({"single", "multiple", "true-false", "short", "numerical"})


@dataclass
class _RawOption:
    line: int
    box: str
    text: list[str] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)


def parse_quiz_markdown(
    body: str,
    meta: dict[Any, Any],
    *,
    path: str,
    first_line: int,
    meta_line_of: Callable[[str], int] | None = None,
) -> tuple[Quiz, list[Problem]]:
    """Parse a quiz item's body (the text after the front matter) and its settings.

    ``first_line`` is the file line of the body's first line, so every problem carries a
    file line number; ``meta_line_of(key)`` gives the line of a front-matter key (line 1
    when not given).  Settings problems are included: the caller need not call
    :func:`validate_quiz_settings` again.  Returns the quiz (only ``*_md`` fields
    filled) and the problems, sorted by line.  Never raises.
    """
    settings, problems = validate_quiz_settings(
        meta, path=path, line_of=meta_line_of or (lambda key: 1)
    )
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    intro, blocks = _split(lines)
    found: list[tuple[int, str]] = []
    questions = []
    broken = []  # questions with syntax problems: the model checks would only echo them
    for number, start in enumerate(blocks, 1):
        end = blocks[number] if number < len(blocks) else len(lines)
        parser = _QuestionParser(lines, start, end, first_line, number)
        question = parser.parse()
        found.extend(parser.problems)
        if question is not None:
            questions.append(question)
            if parser.problems:
                broken.append(question)
    quiz = Quiz(settings=settings, intro_md=_join(intro), questions=questions)
    found.extend(
        check_quiz(quiz, quiz_line=max(1, first_line), unchecked=broken, some_dropped=len(questions) < len(blocks))
    )
    problems.extend(Problem(path, max(1, line), message) for line, message in found)
    problems.sort(key=lambda problem: problem.line)
    return quiz, problems


def _split(lines: list[str]) -> tuple[list[str], list[int]]:
    """The introduction's lines and the index of each question heading."""
    starts: list[int] = []
    fence: str | None = None
    for index, line in enumerate(lines):
        fence = _fence_state(line, fence)
        if fence is None and _HEADING.match(line) and not _FENCE.match(line):
            starts.append(index)
    intro = lines[: starts[0]] if starts else lines
    return intro, starts


def _fence_state(line: str, fence: str | None) -> str | None:
    """The open fence after ``line`` (None outside a fenced code block)."""
    match = _FENCE.match(line)
    if not match:
        return fence
    marker = match.group(1)
    if fence is None:
        return marker
    if marker[0] == fence[0] and len(marker) >= len(fence) and not line.strip()[len(marker):].strip():
        return None
    return fence


def _join(lines: list[str]) -> str:
    """Lines joined, without blank lines at either end."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[start:end])


def _option_id(index: int) -> str:
    """``a``, ``b``, … ``z``, ``aa``, ``ab``, … for the option at ``index`` (0-based)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


class _QuestionParser:
    """Parses the lines ``[start, end)`` of the body: one question."""

    def __init__(self, lines: list[str], start: int, end: int, first_line: int, number: int):
        self.lines = lines
        self.start = start
        self.end = end
        self.first_line = first_line
        self.number = number
        self.problems: list[tuple[int, str]] = []

    def line_no(self, index: int) -> int:
        """The file line of body line ``index``."""
        return self.first_line + index

    def report(self, index: int, message: str) -> None:
        """Record a problem on body line ``index``."""
        self.problems.append((self.line_no(index), message))

    def parse(self) -> Question | None:
        """The question, or None when its heading cannot be read; problems go to
        ``self.problems``."""
        heading = self._heading()
        if heading is None:
            return None
        qtype, text, qid, points = heading
        question = Question(
            id=qid, type=qtype, text_md=text, points=points, line=self.line_no(self.start)
        )
        if qtype == "description":
            question.points = 0.0
            body = _join(self.lines[self.start + 1 : self.end])
            question.text_md = f"{text}\n\n{body}" if body else text
            return question
        body_lines, raw_options, general = self._body(qtype)
        body = _join(body_lines)
        question.text_md = f"{text}\n\n{body}" if body else text
        question.feedback_md = _join(general)
        for position, raw in enumerate(raw_options):
            option = self._option(qtype, raw, _option_id(position))
            if option is not None:
                question.options.append(option)
        if qtype == "multiple":
            self._share_x(question, raw_options)
        return question

    def _share_x(self, question: Question, raw_options: list[_RawOption]) -> None:
        """In a multiple-response question, ``[x]`` options share 100% equally."""
        boxes = {_option_id(position): raw.box.strip() for position, raw in enumerate(raw_options)}
        ticked = [option for option in question.options if boxes[option.id] in ("x", "X")]
        percentages = [
            option for option in question.options if boxes[option.id] not in ("x", "X") and option.weight > 0
        ]
        if ticked and percentages:
            self.report(self.start, "mix of [x] and positive percentages: use one or the other for the right options")
        elif ticked:
            for option in ticked:
                option.weight = 1 / len(ticked)

    def _heading(self) -> tuple[str, str, str, float] | None:
        """Type, text, id and points from the heading line; None after a problem."""
        match = _HEADING.match(self.lines[self.start])
        content = _CLOSING_HASHES.sub("", match.group(1) if match else "").strip()
        qid, points = f"q{self.number}", 1.0
        attributes = _ATTRIBUTES.match(content)
        if attributes and _LOOKS_LIKE_ATTRIBUTES.match(attributes.group(2)):
            content = attributes.group(1).strip()
            parsed = self._attributes(attributes.group(2))
            if parsed is None:
                return None
            qid = parsed[0] or qid
            has_points = parsed[1] is not None
            points = parsed[1] if parsed[1] is not None else points
        else:
            has_points = False
        typed = _TYPE_AND_TEXT.match(content)
        names = ", ".join(QUESTION_TYPES)
        if not typed:
            self.report(self.start, f"a question heading is written '## <type>: <question>' (types: {names})")
            return None
        qtype = typed.group(1).lower()
        if qtype not in QUESTION_TYPES:
            hint = difflib.get_close_matches(qtype, list(QUESTION_TYPES), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else f" (types: {names})"
            self.report(self.start, f"unknown question type {qtype!r}{suggestion}")
            return None
        if qtype == "description" and has_points:
            self.report(self.start, "a description is not graded: remove points=")
        text = typed.group(2).strip()
        if not text:
            self.report(self.start, "the question has no text after the type")
        return qtype, text, qid, points

    def _attributes(self, source: str) -> tuple[str | None, float | None] | None:
        """``#id`` and ``points=N`` from a heading's ``{…}``; None after a problem."""
        qid: str | None = None
        points: float | None = None
        for token in re.sub(r"\s*=\s*", "=", source.strip()).split():
            if token.startswith("#") and _ID.match(token[1:]) and qid is None:
                qid = token[1:]
            elif token.startswith("points=") and points is None:
                value = parse_authored_number(token[len("points="):])
                if value is None or not 0 < value <= 1000:
                    self.report(self.start, f"points must be a number above 0 (got {token[7:]!r})")
                    return None
                points = value
            elif token.startswith("#"):
                self.report(self.start, f"bad question id {token!r}: use letters, digits, - and _")
                return None
            else:
                self.report(self.start, f"unknown attribute {token!r}: write {{#id points=N}}")
                return None
        return qid, points

    def _body(self, qtype: str) -> tuple[list[str], list[_RawOption], list[str]]:
        """Question text lines, raw options and general-feedback lines."""
        text: list[str] = []
        options: list[_RawOption] = []
        general: list[str] = []
        state = "text"
        fence: str | None = None
        for index in range(self.start + 1, self.end):
            line = self.lines[index]
            if state == "text":
                fence = _fence_state(line, fence)
                opening = fence is not None or _FENCE.match(line)
                option = None if opening else self._option_start(qtype, index)
                if option is None:
                    text.append(line)
                    continue
                options.append(option)
                state = "options"
            elif state == "options":
                state = self._options_line(qtype, index, options, general)
            else:
                self._general_line(index, general)
        return text, options, general

    def _option_start(self, qtype: str, index: int) -> _RawOption | None:
        line = self.lines[index]
        if qtype in _BOX_TYPES:
            match = _BOXED_ITEM.match(line)
            if match and _BOX_LIKE.match(match.group(1)):
                return _RawOption(index, match.group(1), [match.group(2) or ""])
            return None
        match = _LIST_ITEM.match(line)
        return _RawOption(index, "", [match.group(1)]) if match else None

    def _options_line(
        self, qtype: str, index: int, options: list[_RawOption], general: list[str]
    ) -> str:
        """Handle one line of the option list; return the next state."""
        line = self.lines[index]
        current = options[-1]
        option = self._option_start(qtype, index)
        if option is not None:
            options.append(option)
            return "options"
        if not line.strip():
            if current.feedback:
                current.feedback.append("")
            return "options"
        indented = _INDENTED.match(line)
        if indented:
            quoted = _QUOTE.match(indented.group(1))
            if quoted:
                current.feedback.append(quoted.group(1))
            elif current.feedback and current.feedback[-1]:
                current.feedback.append(indented.group(1).strip())
            else:
                current.text.append(indented.group(1).strip())
            return "options"
        quoted = _QUOTE.match(line)
        if quoted:
            general.append(quoted.group(1))
            return "general"
        if _LIST_ITEM.match(line):
            self.report(index, "an option needs a box: [x], [ ] or a weight such as [50%]")
        else:
            self.report(index, "text after the options: only a block quote (the general feedback) may follow them")
        return "options"

    def _general_line(self, index: int, general: list[str]) -> None:
        line = self.lines[index]
        quoted = _QUOTE.match(line)
        if quoted:
            general.append(quoted.group(1))
        elif not line.strip():
            general.append("")
        elif _INDENTED.match(line) and general and general[-1]:
            general.append(line.strip())
        else:
            self.report(index, "text after the general feedback: start a new question with '## <type>: …'")

    def _option(self, qtype: str, raw: _RawOption, option_id: str) -> Option | None:
        text = " ".join(part.strip() for part in raw.text if part.strip())
        option = Option(id=option_id, text_md=text, feedback_md=_join(raw.feedback), line=self.line_no(raw.line))
        if qtype == "matching":
            return self._matching_option(raw, option)
        weight = self._weight(raw)
        if weight is None:
            return None
        option.weight = weight
        if qtype in ("short", "numerical") and text == "*":
            option.is_catch_all = True
        elif qtype == "numerical":
            bounds = self._numerical(raw, text)
            if bounds is None:
                return option
            option.low, option.high = bounds
        return option

    def _weight(self, raw: _RawOption) -> float | None:
        box = raw.box.strip()
        if box in ("", "x", "X"):
            return 1.0 if box else 0.0
        match = _WEIGHT.match(box)
        value = float(match.group(1)) if match else math.nan
        if not -100 <= value <= 100:
            self.report(
                raw.line,
                f"malformed weight [{raw.box}]: write [x], [ ] or a percentage from -100% to 100% such as [50%]",
            )
            return None
        return float(Decimal(match.group(1)) / 100) if match else 0.0

    def _numerical(self, raw: _RawOption, text: str) -> tuple[float, float] | None:
        """``(low, high)`` of ``X``, ``X ± T``, ``X +- T`` or ``A..B``; None after a problem."""
        ranged = _RANGE.match(text)
        tolerance = _TOLERANCE.match(text)
        if ranged:
            low, high = parse_authored_number(ranged.group(1)), parse_authored_number(ranged.group(2))
            if low is not None and high is not None:
                return low, high
        elif tolerance:
            value, spread = parse_authored_number(tolerance.group(1)), parse_authored_number(tolerance.group(2))
            if value is not None and spread is not None:
                if spread < 0:
                    self.report(raw.line, f"the tolerance in {text!r} is negative")
                    return None
                return value - spread, value + spread
        else:
            value = parse_authored_number(text)
            if value is not None:
                return value, value
        self.report(raw.line, f"numerical answer not understood: {text!r}; write X, X ± T, X +- T or A..B")
        return None

    def _matching_option(self, raw: _RawOption, option: Option) -> Option | None:
        if "->" not in option.text_md:
            self.report(raw.line, "a matching line needs '->' between the prompt and its answer")
            return None
        prompt, answer = option.text_md.split("->", 1)
        # A line's feedback explains that pair; it is shown when the pair was answered wrongly.
        option.text_md, option.match_md = prompt.strip(), answer.strip()
        return option
