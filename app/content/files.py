"""Finding and reading the files of one course folder, with the file-level checks.

Symbolic links, files over 1 MB, non-UTF-8 text, badly named files and files of types that
are not allowed are reported here; what remains is read into memory with its sha256.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.content.checks import SLUG_RE, SLUG_RULE
from app.content.links import ITEM_FILE_RE, MEDIA_TYPES, media_type_allowed
from app.content.problems import Problem
from app.content.spec import LANGUAGES

MAX_FILE_BYTES = 1024 * 1024
COURSE_FILE = "course.yml"
_ITEM_LIKE = re.compile(r"^(?P<stem>.+)\.(?P<ext>md|gift)$")
_NUMBER_AND_SLUG = re.compile(r"^(?P<number>[^-]*)-(?P<slug>.*)$")


@dataclass(frozen=True)
class TextFile:
    """A text file of the course: its display path, name inside the course, text and hash."""

    path: str
    name: str
    text: str
    sha256: str


@dataclass(frozen=True)
class ItemFile:
    """An item file whose name is valid: ``NN-<slug>.<lang>.<ext>``."""

    file: TextFile
    number: str
    slug: str
    lang: str
    ext: str


@dataclass
class CourseFolder:
    """Everything found in one course folder."""

    slug: str
    directory: Path
    prefix: str
    course_yml: TextFile | None = None
    items: list[ItemFile] = field(default_factory=list)
    media: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def scan_course(directory: Path, prefix: str) -> CourseFolder:
    """Read the course folder ``directory``; ``prefix`` is its display path (``rba``).

    Never raises for problems in the files; OSError from the file system propagates.
    """
    folder = CourseFolder(slug=directory.name, directory=directory, prefix=prefix)
    for current, dirnames, filenames in os.walk(directory, followlinks=False):
        here = Path(current)
        inside = here.relative_to(directory).as_posix()
        for name in sorted(dirnames):
            if (here / name).is_symlink():
                folder.problems.append(Problem(_display(prefix, inside, name), 0, "symbolic links are refused"))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (here / d).is_symlink())
        for name in sorted(filenames):
            if not name.startswith("."):
                _add_file(folder, here / name, "" if inside == "." else inside, name)
    return folder


def _display(prefix: str, inside: str, name: str) -> str:
    parts = [part for part in (prefix, "" if inside == "." else inside, name) if part]
    return "/".join(parts)


def _add_file(folder: CourseFolder, path: Path, inside: str, name: str) -> None:
    relative = f"{inside}/{name}" if inside else name
    display = _display(folder.prefix, inside, name)
    report = folder.problems.append
    if path.is_symlink():
        report(Problem(display, 0, "symbolic links are refused"))
        return
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        report(Problem(display, 0, f"the file is larger than 1 MB ({size} bytes)"))
        return
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    folder.hashes[relative] = digest
    if not inside and name == COURSE_FILE:
        folder.course_yml = _text_file(folder, display, relative, data, digest)
        return
    if _ITEM_LIKE.match(name):
        if inside:
            report(Problem(display, 0, "item files must be at the top of the course folder"))
            return
        item = _item_name(display, name, report)
        text = _text_file(folder, display, relative, data, digest)
        if item is not None and text is not None:
            number, slug, lang, ext = item
            folder.items.append(ItemFile(text, number, slug, lang, ext))
        return
    if media_type_allowed(name):
        folder.media[relative] = digest
        return
    kind = Path(name).suffix or "without an extension"
    report(Problem(display, 0, f"unexpected file: files of type {kind} are not allowed here "
                               f"(item files are NN-<item>.<lang>.md or .gift; media: {' '.join(MEDIA_TYPES)})"))


def _item_name(display: str, name: str, report: Callable[[Problem], None]) -> tuple[str, str, str, str] | None:
    """Split a valid item file name, or report what is wrong with it."""
    full = ITEM_FILE_RE.match(name)
    if full:
        return full["number"], full["slug"], full["lang"], full["ext"]
    match = _ITEM_LIKE.match(name)
    assert match is not None
    stem, _, lang = match["stem"].rpartition(".")
    example = "e.g. 01-introduction.en.md"
    if not stem:
        report(Problem(display, 0, f"file name must be NN-<item>.<lang>.{match['ext']}, {example}"))
    elif lang not in LANGUAGES:
        report(Problem(display, 0, f"language code {lang!r} is not one of {', '.join(LANGUAGES)}"))
    else:
        parts = _NUMBER_AND_SLUG.match(stem)
        if parts is None or not re.fullmatch(r"\d{2}", parts["number"]):
            report(Problem(display, 0, f"file name must start with two digits and a hyphen, {example}"))
        elif not SLUG_RE.match(parts["slug"]):
            report(Problem(display, 0, f"item slug {parts['slug']!r} must be {SLUG_RULE}"))
    return None


def _text_file(folder: CourseFolder, display: str, relative: str, data: bytes, digest: str) -> TextFile | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        folder.problems.append(Problem(display, line, f"the file is not UTF-8 (byte 0x{data[error.start]:02x} "
                                                      "on this line); save it as UTF-8"))
        return None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return TextFile(display, relative, text, digest)
