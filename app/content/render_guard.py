"""A cheap pre-scan that keeps pathological Markdown away from Python-Markdown and bleach.

Python-Markdown and html5lib (inside bleach) are pure Python, and several inputs make them
slow or super-linear. Measured on this stack: 50 KB of ``[a `` took 75 s (each unclosed opener
is rescanned to the end of its paragraph), 12,500 headings 5.5 s (unique heading ids are found
in quadratic time), 4,000 nested ``<div>`` 0.5 s (html5lib's scope checks), and every output
element costs the sanitiser 20-40 microseconds. Rather than racing the parser,
:func:`complexity_problem` estimates the work with a few regular-expression passes and names the
first limit exceeded; the renderer then shows the text escaped instead of rendering it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# One "unit" is roughly one output element, about 20 microseconds of rendering and cleaning.
_BLOCK_START = re.compile(
    r"^(?:[ \t]*>[ \t]?)*[ \t]*(?:[-*+]|\d{1,9}[.)]|#{1,6}|:|!!!|\[\^[^\]]*\]:)(?:[ \t]|$)",
    re.MULTILINE,
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_FOOTNOTE_DEF = re.compile(r"^[ ]{0,3}\[\^[^\]\n]+\]:", re.MULTILINE)
_HEADING = re.compile(r"^[ ]{0,3}#{1,6}(?:[ \t]|$)|^[ ]{0,3}(?:=+|-+)[ \t]*$", re.MULTILINE)
_DEEP_QUOTE_CANDIDATE = re.compile(r"^[ \t]*(?:>[ \t]*){13,}", re.MULTILINE)
_WIDE_INDENT_CANDIDATE = re.compile(r"^(?:[ \t]*>)*[ \t]{13,}", re.MULTILINE)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                        "wbr"})
_BRACKETS = re.compile(r"[\[\]()<>]")
_CLOSER_TO_OPENER = {"]": "[", ")": "(", ">": "<"}


@dataclass(frozen=True)
class RenderLimits:
    """Upper bounds on a Markdown source that is rendered; beyond them it is shown escaped.

    The defaults keep one render of learner-written text well under 50 ms on this stack;
    authored course files, rendered once at sync time, may pass larger limits.
    """

    max_chars: int = 60_000
    max_units: int = 2_000
    max_quote_depth: int = 12
    max_indent: int = 48
    max_html_depth: int = 48
    max_headings: int = 300
    max_footnotes: int = 100
    max_opener_work: int = 150_000

    def scaled(self, factor: int) -> RenderLimits:
        """Return limits ``factor`` times larger in size and work (nesting limits unchanged)."""
        return RenderLimits(
            max_chars=self.max_chars * factor,
            max_units=self.max_units * factor,
            max_quote_depth=self.max_quote_depth,
            max_indent=self.max_indent,
            max_html_depth=self.max_html_depth,
            max_headings=self.max_headings * factor,
            max_footnotes=self.max_footnotes * factor,
            max_opener_work=self.max_opener_work * factor,
        )


DEFAULT_LIMITS = RenderLimits()


def work_units(text: str) -> int:
    """Estimate the rendering work of ``text`` in units of about one output element."""
    return (
        2 * len(_BLOCK_START.findall(text))
        + 2 * len(_BLANK_LINE.findall(text))
        + 10 * len(_FOOTNOTE_DEF.findall(text))
        + 2 * (text.count("<") + text.count("|"))
        + text.count("&")
        + sum(text.count(char) for char in "*_`~[")
    )


def complexity_problem(text: str, limits: RenderLimits = DEFAULT_LIMITS) -> str | None:
    """Return why ``text`` is too large or too complex to render, or None when it may be.

    Cheap checks come first, so the whole scan stays within a few milliseconds for any input.
    Never raises.
    """
    if len(text) > limits.max_chars:
        return f"longer than {limits.max_chars} characters"
    if work_units(text) > limits.max_units:
        return f"more than about {limits.max_units} elements"
    if len(_HEADING.findall(text)) > limits.max_headings:
        return f"more than {limits.max_headings} headings"
    if len(_FOOTNOTE_DEF.findall(text)) > limits.max_footnotes:
        return f"more than {limits.max_footnotes} footnotes"
    for match in _DEEP_QUOTE_CANDIDATE.finditer(text):
        if match.group(0).count(">") > limits.max_quote_depth:
            return f"block quotes nested more than {limits.max_quote_depth} deep"
    for match in _WIDE_INDENT_CANDIDATE.finditer(text):
        indent = match.group(0).rsplit(">", 1)[-1]
        if len(indent.expandtabs(4)) > limits.max_indent:
            return f"lines indented more than {limits.max_indent} columns"
    if _html_depth(text) > limits.max_html_depth:
        return f"HTML tags nested more than {limits.max_html_depth} deep"
    for block in _BLANK_LINE.split(text):
        if _unmatched_opener_work(block) > limits.max_opener_work:
            return "a paragraph with too many unclosed brackets"
    return None


def _html_depth(text: str) -> int:
    """Upper estimate of raw-HTML nesting: opening tags minus closing tags, at the deepest."""
    depth = deepest = 0
    for match in _TAG.finditer(text):
        if match.group(2).lower() in _VOID_TAGS:
            continue
        depth = max(depth - 1, 0) if match.group(1) else depth + 1
        deepest = max(deepest, depth)
    return deepest


def _unmatched_opener_work(block: str) -> int:
    """Estimate Python-Markdown's rescanning: each unclosed opener costs the rest of the block.

    Closed pairs, found with one stack per bracket kind, are cheap for the parser.
    """
    stacks: dict[str, list[int]] = {"[": [], "(": [], "<": []}
    for match in _BRACKETS.finditer(block):
        char = match.group(0)
        if char in stacks:
            stacks[char].append(match.start())
        elif stacks[_CLOSER_TO_OPENER[char]]:
            stacks[_CLOSER_TO_OPENER[char]].pop()
    size = len(block)
    return sum(size - position for stack in stacks.values() for position in stack)
