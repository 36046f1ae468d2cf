"""YAML documents with the file line of every key, for precise problem reports.

Course files hold YAML in two places: ``course.yml`` and the front matter of item files.
:func:`parse_yaml` reads both kinds, returning the plain values *and* a :class:`YamlDoc`
that knows the line of each key and list entry, found with ``yaml.compose``.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from app.content.problems import Problem

Key = tuple[str | int, ...]

FRONT_MATTER_FENCE = re.compile(r"^---[ \t]*$")


@dataclass
class YamlDoc:
    """A parsed YAML mapping: its value, the file line of each key path, and problems."""

    path: str
    value: dict[str, Any]
    first_line: int
    lines: dict[Key, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, *key: str | int) -> int:
        """The file line of ``key`` (a path of keys and list indexes), else of its nearest parent."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.first_line

    def report(self, message: str, *key: str | int) -> None:
        """Record a problem at the line of ``key``."""
        self.problems.append(Problem(self.path, self.line(*key), message))

    def line_of(self) -> Callable[[str], int]:
        """A ``key -> line`` callable for top-level keys (what the quiz reader asks for)."""
        return lambda key: self.line(key)


def parse_yaml(text: str, *, path: str, first_line: int, what: str) -> YamlDoc:
    """Parse ``text`` (whose first line is file line ``first_line``) as a YAML mapping.

    When the text cannot be used, the returned document's ``value`` is empty and its
    ``problems`` say why: a syntax error (at the line of the error mark), anchors and aliases,
    a duplicate key, or a document that is not a mapping. ``what`` names the document in
    messages ("course.yml", "front matter"). Never raises.
    """
    doc = YamlDoc(path=path, value={}, first_line=first_line)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        value = yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 - SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = first_line + mark.line if mark is not None else first_line
        reason = error.problem or error.context or "not valid YAML"
        doc.problems.append(Problem(path, line, f"{what} is not valid YAML: {reason}"))
        return doc
    except (yaml.YAMLError, RecursionError, ValueError, TypeError, OverflowError) as error:
        doc.problems.append(Problem(path, first_line, f"{what} is not valid YAML: {error}"))
        return doc
    if node is None:
        doc.problems.append(Problem(path, first_line, f"{what} is empty"))
        return doc
    if not isinstance(node, yaml.MappingNode) or not isinstance(value, dict):
        line = first_line + node.start_mark.line
        doc.problems.append(Problem(path, line, f"{what} must be a mapping of keys to values"))
        return doc
    if _walk(node, (), doc, set()):
        doc.value = value
    return doc


def _walk(node: yaml.Node, key: Key, doc: YamlDoc, seen: set[int]) -> bool:
    """Record the line of every key and list entry under ``node``; False if aliases are used."""
    if id(node) in seen:
        doc.report(f"YAML anchors and aliases (&name, *name) are not allowed in {doc.path.rsplit('/', 1)[-1]}", *key)
        return False
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        names: set[str] = set()
        for key_node, value_node in node.value:
            name = str(key_node.value)
            line = doc.first_line + key_node.start_mark.line
            if name in names:
                doc.problems.append(Problem(doc.path, line, f"duplicate key {name!r}"))
                return False
            names.add(name)
            doc.lines[(*key, name)] = line
            if not _walk(value_node, (*key, name), doc, seen):
                return False
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            doc.lines[(*key, index)] = doc.first_line + item.start_mark.line
            if not _walk(item, (*key, index), doc, seen):
                return False
    return True


@dataclass(frozen=True)
class SplitFile:
    """An item file split into front matter and body, with the body's first file line."""

    front_matter: str
    front_matter_line: int
    body: str
    body_line: int


def split_front_matter(text: str, *, path: str) -> tuple[SplitFile | None, Problem | None]:
    """Split a Markdown item file at its ``---`` lines.

    Returns ``(split, None)``, or ``(None, problem)`` when the front matter is missing
    (the file does not start with ``---``) or not closed. Never raises.
    """
    lines = text.split("\n")
    if not lines or not FRONT_MATTER_FENCE.match(lines[0]):
        return None, Problem(path, 1, "front matter missing: the file must start with a line '---'")
    for index in range(1, len(lines)):
        if FRONT_MATTER_FENCE.match(lines[index]):
            return SplitFile(
                front_matter="\n".join(lines[1:index]),
                front_matter_line=2,
                body="\n".join(lines[index + 1:]),
                body_line=index + 2,
            ), None
    return None, Problem(path, 1, "front matter is not closed: add a line '---' after it")
