"""Resolving the relative links of course files: item links and media (docs/authoring.md).

``[the quiz](02-introduction-quiz.en.md#q2)`` becomes ``/courses/<course>/introduction-quiz#q2``;
``![diagram](media/aaaq.png)`` becomes ``/media/<course>/<first 12 hex of sha256>/media/aaaq.png``,
so a changed picture gets a new URL and can be cached for ever. A :class:`CourseLinkResolver`
is handed to ``render_markdown`` and records every broken link with the reason.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

ITEM_FILE_RE = re.compile(
    r"^(?P<number>\d{2})-(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)\.(?P<lang>en|ka|az|hy|ru)\.(?P<ext>md|gift)$")
MEDIA_TYPES = ("png", "jpg", "jpeg", "gif", "webp", "pdf")


def media_type_allowed(relpath: str) -> bool:
    """True when the file's extension is one of :data:`MEDIA_TYPES` (case-insensitive)."""
    return posixpath.splitext(relpath)[1].lower().lstrip(".") in MEDIA_TYPES


@dataclass
class CourseLinkResolver:
    """A ``link_resolver`` for ``render_markdown`` bound to one course's files.

    ``item_files`` maps every item file name of the course (``01-intro.en.md``) to its item
    slug; ``media`` maps media paths relative to the course folder to their sha256. After
    rendering, ``broken`` holds ``(url, reason)`` for each link that could not be resolved.
    """

    course_slug: str
    item_files: dict[str, str]
    media: dict[str, str]
    broken: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, url: str) -> str | None:
        """Return the site URL for a course-relative ``url``, or None (recorded) if broken."""
        target, reason = self.resolve(url)
        if target is None:
            self.broken.append((url, reason))
        return target

    def resolve(self, url: str) -> tuple[str | None, str]:
        """Return ``(site URL, "")`` or ``(None, reason)``. Never raises."""
        rest, _, fragment = url.partition("#")
        path = unquote(rest.partition("?")[0]).strip()
        anchor = f"#{fragment}" if fragment else ""
        if "\\" in path:
            return None, f"link {url!r}: use '/' between folders, not '\\'"
        if path.startswith("/"):
            return None, f"link {url!r} is an absolute path: write it relative to the course folder"
        normal = posixpath.normpath(path)
        if normal == ".." or normal.startswith("../"):
            return None, f"link {url!r} leaves the course folder"
        if ITEM_FILE_RE.match(normal):
            slug = self.item_files.get(normal)
            if slug is None:
                return None, f"link to {normal}: no such item file in this course"
            return f"/courses/{self.course_slug}/{slug}{anchor}", ""
        if not media_type_allowed(normal):
            kind = posixpath.splitext(normal)[1] or "without an extension"
            return None, (f"link to {normal}: files of type {kind} cannot be linked "
                          f"(allowed: {' '.join(MEDIA_TYPES)}, or an item file NN-<item>.<lang>.md)")
        digest = self.media.get(normal)
        if digest is None:
            return None, f"link to {normal}: no such file in this course"
        return f"/media/{self.course_slug}/{digest[:12]}/{quote(normal)}{anchor}", ""


def find_line(text: str, url: str, first_line: int = 1, occurrence: int = 0) -> int:
    """The file line where ``url`` is written as a link target in ``text`` (``first_line`` if not found).

    ``text`` starts at file line ``first_line``; ``occurrence`` picks the n-th (0-based) place.
    Looks for the URL after ``(``, ``<``, ``]:``, a quote or ``=``, as Markdown links, reference
    definitions and raw HTML write it; failing that, anywhere in the text.
    """
    pattern = re.compile(r"(?:\(|<|\]:[ \t]*|[\"'=])[ \t]*" + re.escape(url))
    starts = [match.start() for match in pattern.finditer(text)]
    if not starts:
        starts = [match.start() for match in re.finditer(re.escape(url), text)]
    if not starts:
        return first_line
    index = starts[min(occurrence, len(starts) - 1)]
    return first_line + text.count("\n", 0, index)
