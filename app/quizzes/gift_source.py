"""Reading a GIFT file's text: front matter, blocks, escapes and line numbers.

:mod:`app.quizzes.gift` builds questions on top of this.  A question's text is held
as two strings of equal length: ``text``, with escapes resolved (``\\{`` is ``{``), and
``struct``, where every escaped character is replaced by a neutral one, so that the
parser can search ``struct`` for the unescaped ``{ } ~ = # :`` and slice ``text``.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

import yaml

# GIFT escapes (Moodle's docs): \~ \= \# \{ \} \: and \n for a new line, \\ for "\".
_ESCAPE = re.compile(r"\\([~=#{}:n\\])")
_RESOLVED = {"n": "\n"}
NEUTRAL = "\x01"  # what an escaped character looks like to the parser

_FRONT_MATTER_LINE = re.compile(r"^\s*//\s?(.*)$")
_KIND_LINE = re.compile(r"^\s*kind\s*:")


class Source:
    """One block of GIFT text with escapes resolved and a file line for every position."""

    def __init__(self, lines: list[tuple[int, str]]):
        texts: list[str] = []
        structs: list[str] = []
        self._starts: list[int] = []
        self._lines: list[int] = []
        offset = 0
        for number, raw in lines:
            text, struct = _unescape(raw)
            self._starts.append(offset)
            self._lines.append(number)
            texts.append(text)
            structs.append(struct)
            offset += len(text) + 1
        self.text = "\n".join(texts)
        self.struct = "\n".join(structs)

    def line_at(self, position: int) -> int:
        """The file line of ``position`` (positions count in the resolved text)."""
        index = bisect.bisect_right(self._starts, position) - 1
        return self._lines[max(0, index)] if self._lines else 1

    def span(self) -> Span:
        """The whole block as a span."""
        return Span(self, 0, len(self.text))


@dataclass(frozen=True)
class Span:
    """A slice ``[start, end)`` of a :class:`Source`."""

    source: Source
    start: int
    end: int

    @property
    def text(self) -> str:
        """The slice with escapes resolved."""
        return self.source.text[self.start : self.end]

    @property
    def struct(self) -> str:
        """The slice with escaped characters neutralised."""
        return self.source.struct[self.start : self.end]

    @property
    def line(self) -> int:
        """The file line where the slice starts (after leading white space)."""
        stripped = self.strip()
        return self.source.line_at(stripped.start if stripped.start < stripped.end else self.start)

    def __bool__(self) -> bool:
        return bool(self.struct.strip())

    def find(self, needle: str, start: int | None = None) -> int:
        """Absolute position of the first unescaped ``needle`` at or after ``start``; -1."""
        return self.source.struct.find(needle, self.start if start is None else start, self.end)

    def rfind(self, needle: str) -> int:
        """Absolute position of the last unescaped ``needle``; -1."""
        return self.source.struct.rfind(needle, self.start, self.end)

    def cut(self, start: int, end: int | None = None) -> Span:
        """The sub-span between absolute positions ``start`` and ``end``."""
        end = self.end if end is None else end
        return Span(self.source, max(self.start, start), min(self.end, max(start, end)))

    def strip(self) -> Span:
        """The span without white space at either end."""
        struct = self.struct
        left = len(struct) - len(struct.lstrip())
        right = len(struct.rstrip())
        return Span(self.source, self.start + left, self.start + max(left, right))

    def split(self, separators: str) -> list[tuple[str, Span]]:
        """Split at every unescaped character of ``separators``.

        Returns ``(separator, piece)`` pairs; the first piece's separator is "".
        """
        pieces: list[tuple[str, Span]] = []
        marker, begin = "", self.start
        pattern = re.compile(f"[{re.escape(separators)}]")
        for match in pattern.finditer(self.source.struct, self.start, self.end):
            pieces.append((marker, self.cut(begin, match.start())))
            marker, begin = match.group(), match.end()
        pieces.append((marker, self.cut(begin, self.end)))
        return pieces

    def partition(self, separator: str) -> tuple[Span, Span | None]:
        """The part before the first unescaped ``separator`` and the part after (or None)."""
        position = self.find(separator)
        if position < 0:
            return self, None
        return self.cut(self.start, position), self.cut(position + len(separator))


def _unescape(raw: str) -> tuple[str, str]:
    """``raw`` with GIFT escapes resolved, and the same with them neutralised."""
    texts: list[str] = []
    structs: list[str] = []
    last = 0
    for match in _ESCAPE.finditer(raw):
        texts.append(raw[last : match.start()])
        structs.append(raw[last : match.start()])
        char = match.group(1)
        texts.append(_RESOLVED.get(char, char))
        structs.append(NEUTRAL)
        last = match.end()
    texts.append(raw[last:])
    structs.append(raw[last:])
    return "".join(texts), "".join(structs)


def is_comment(line: str) -> bool:
    """Whether a line is a GIFT comment (``//`` first, after any white space)."""
    return line.lstrip().startswith("//")


def is_category(line: str) -> bool:
    """Whether a line is a ``$CATEGORY:`` line (ignored: courses have no categories)."""
    return line.lstrip().startswith("$CATEGORY:")


def blocks(lines: list[str]) -> list[list[tuple[int, str]]]:
    """The question blocks: runs of lines between blank lines, as ``(file line, text)``,
    without comment and ``$CATEGORY:`` lines.  Blocks left empty are dropped."""
    result: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            if current:
                result.append(current)
            current = []
        elif not is_comment(line) and not is_category(line):
            current.append((number, line))
    if current:
        result.append(current)
    return result


@dataclass
class FrontMatter:
    """The settings written as ``// key: value`` lines at the top of a GIFT file."""

    meta: dict[Any, Any]
    key_lines: dict[str, int]
    first_line: int
    problem: tuple[int, str] | None = None

    def line_of(self, key: str) -> int:
        """The file line of ``key`` (the first front-matter line if unknown)."""
        return self.key_lines.get(key, self.first_line)


def front_matter(lines: list[str]) -> FrontMatter:
    """Read the leading run of ``//`` lines as YAML front matter.

    The run counts as front matter when it reads as a YAML mapping; a run that does
    not (an ordinary comment, or Moodle's ``// question: 0  name: …`` export header) is
    left as a comment, unless it has a ``kind:`` line, in which case the YAML error is
    reported.  Never raises.
    """
    first = next((index for index, line in enumerate(lines) if line.strip()), len(lines))
    end = first
    while end < len(lines) and is_comment(lines[end]):
        end += 1
    content = []
    for line in lines[first:end]:
        match = _FRONT_MATTER_LINE.match(line)
        content.append(match.group(1) if match else "")
    result = FrontMatter({}, {}, first + 1)
    if not content:
        return result
    try:
        loaded = yaml.safe_load("\n".join(content))
    except (yaml.YAMLError, RecursionError, ValueError, TypeError, OverflowError) as error:
        if any(_KIND_LINE.match(item) for item in content):
            mark = getattr(error, "problem_mark", None)
            offset = mark.line if mark is not None else 0
            reason = getattr(error, "problem", None) or "not valid YAML"
            result.problem = (
                first + 1 + offset,
                f"front matter (the // lines at the top): {reason}; put quotes around a value "
                "that contains ': ' or ' #'",
            )
        return result
    if not isinstance(loaded, dict):
        return result
    result.meta = loaded
    for key in loaded:
        pattern = re.compile(rf"^\s*{re.escape(str(key))}\s*:")
        for offset, item in enumerate(content):
            if pattern.match(item):
                result.key_lines[str(key)] = first + 1 + offset
                break
    return result
