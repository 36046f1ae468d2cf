"""Reading one item file (lesson, quiz or assignment) into a :class:`TranslationSpec`."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from app.content import checks
from app.content.assignment import ASSIGNMENT_KEYS, Rubric, read_assignment
from app.content.files import ItemFile
from app.content.links import CourseLinkResolver, find_line
from app.content.problems import Problem
from app.content.quiz_format import quiz_format
from app.content.render import render_markdown, rendered_hash
from app.content.render_guard import DEFAULT_LIMITS, complexity_problem
from app.content.spec import ITEM_KINDS, TranslationSpec
from app.content.yamldoc import YamlDoc, parse_yaml, split_front_matter

COMMON_KEYS = ("kind", "title", "minutes", "required", "objectives")
REQUIRED_KEYS = ("kind", "title", "minutes")
ADMONITION_TYPES = ("note", "tip", "warning")
#: Authored files are rendered once, at sync time, so they may be larger than learners' text.
AUTHOR_LIMITS = DEFAULT_LIMITS.scaled(20)
_ADMONITION = re.compile(r"^[ \t]*!!![ \t]*([^\s\"]*)", re.MULTILINE)
_GIFT_KEY = re.compile(r"^//[ \t]*([A-Za-z_][\w-]*)[ \t]*:")


@dataclass
class ReadItem:
    """The outcome of reading one item file: the spec (None if unusable) and the problems."""

    file: ItemFile
    doc: YamlDoc
    kind: str | None = None
    required: bool = True
    translation: TranslationSpec | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def read_item(item: ItemFile, resolver: CourseLinkResolver) -> ReadItem:
    """Read, check and render one item file. Never raises."""
    if item.ext == "gift":
        return _read_gift(item, resolver)
    path = item.file.path
    split, problem = split_front_matter(item.file.text, path=path)
    if split is None:
        assert problem is not None
        return ReadItem(item, YamlDoc(path, {}, 1), problems=[problem])
    doc = parse_yaml(split.front_matter, path=path, first_line=split.front_matter_line, what="front matter")
    result = ReadItem(item, doc)
    if doc.problems:
        result.problems = doc.problems
        return result
    meta = doc.value
    kind = _common(doc, meta, item)
    result.kind, result.required = kind, checks.boolean(doc, meta, "required", True)
    renderer = _Renderer(resolver, path, split.body, split.body_line, item.lang)
    renderer.check_body(split.body, split.body_line)
    quiz: Any = None
    rubric: Rubric | None = None
    extra: dict[str, Any] = {}
    if kind == "quiz":
        quiz, quiz_problems = _parse_quiz_md(split.body, meta, path, split.body_line, doc)
        doc.problems.extend(quiz_problems)
        if quiz is not None:
            quiz = renderer.quiz(quiz)
        extra = {key: value for key, value in meta.items() if key not in COMMON_KEYS}
        html = quiz.intro_html if quiz is not None else ""
    else:
        if kind == "assignment":
            extra, rubric = read_assignment(doc, meta)
        html = renderer.block(split.body)
    result.problems = doc.problems + renderer.problems
    result.translation = _translation(item, doc, meta, split.body, html, extra, quiz, rubric)
    return result


def _common(doc: YamlDoc, meta: dict[str, Any], item: ItemFile) -> str | None:
    """Check the keys every item shares; return the kind (None if missing or wrong)."""
    kind = meta.get("kind")
    if "kind" in meta and kind not in ITEM_KINDS:
        doc.report(f"kind must be one of {', '.join(ITEM_KINDS)}", "kind")
        kind = None
    if item.ext == "gift" and kind not in (None, "quiz"):
        doc.report("a .gift file is a quiz: kind must be quiz", "kind")
        kind = None
    allowed = {"lesson": COMMON_KEYS, "assignment": (*COMMON_KEYS, *ASSIGNMENT_KEYS)}.get(str(kind))
    if allowed is not None:
        checks.check_keys(doc, meta, at=(), allowed=allowed, required=REQUIRED_KEYS, what="front-matter key")
    else:  # quiz settings (and their unknown keys) are checked by the quiz reader
        checks.check_keys(doc, meta, at=(), allowed=tuple(meta), required=REQUIRED_KEYS, what="front-matter key")
    checks.text(doc, meta, "title")
    checks.positive_whole(doc, meta, "minutes")
    checks.text_list(doc, meta, "objectives")
    return str(kind) if kind else None


def _translation(item: ItemFile, doc: YamlDoc, meta: dict[str, Any], body: str, html: str,
                 extra: dict[str, Any], quiz: Any, rubric: Rubric | None) -> TranslationSpec | None:
    title = meta.get("title")
    minutes = meta.get("minutes")
    if doc.problems or not isinstance(title, str) or not checks.is_whole(minutes):
        return None
    return TranslationSpec(
        lang=item.lang, path=item.file.path, title=title.strip(), minutes=int(minutes),
        objectives=[str(entry).strip() for entry in meta.get("objectives") or []],
        body_md=body, html=html, source_hash=rendered_hash(item.file.sha256), meta=extra, quiz=quiz, rubric=rubric,
    )


class _Renderer:
    """Renders an item's Markdown with the course's link resolver and reports broken links."""

    def __init__(self, resolver: CourseLinkResolver, path: str, source: str, first_line: int,
                 lang: str | None = None) -> None:
        self.lang = lang
        self.resolver = CourseLinkResolver(resolver.course_slug, resolver.item_files, resolver.media)
        self.path, self.source, self.first_line = path, source, first_line
        self.problems: list[Problem] = []
        self._seen: dict[str, int] = {}

    def __call__(self, source: str, inline: bool = False) -> Markup:
        html = render_markdown(source, link_resolver=self.resolver, inline=inline, limits=AUTHOR_LIMITS,
                               lang=self.lang)
        for url, reason in self.resolver.broken:
            occurrence = self._seen.get(url, 0)
            self._seen[url] = occurrence + 1
            line = find_line(self.source, url, self.first_line, occurrence)
            self.problems.append(Problem(self.path, line, reason))
        self.resolver.broken.clear()
        return html

    def block(self, source: str) -> str:
        return str(self(source))

    def quiz(self, quiz: Any) -> Any:
        return quiz_format().render(quiz, self)

    def check_body(self, body: str, first_line: int) -> None:
        """Report admonition types outside note/tip/warning and text too complex to render."""
        for match in _ADMONITION.finditer(body):
            if match.group(1) not in ADMONITION_TYPES:
                line = first_line + body.count("\n", 0, match.start())
                self.problems.append(Problem(self.path, line, f"admonition type {match.group(1)!r} must be "
                                                              f"one of {', '.join(ADMONITION_TYPES)}"))
        reason = complexity_problem(body, AUTHOR_LIMITS)
        if reason is not None:
            self.problems.append(Problem(self.path, first_line, f"the text is too large or complex to render "
                                                                f"({reason}); it would be shown as plain text"))


def _parse_quiz_md(body: str, meta: dict[str, Any], path: str, first_line: int,
                   doc: YamlDoc) -> tuple[Any, list[Problem]]:
    return quiz_format().parse_markdown(body, meta, path=path, first_line=first_line, meta_line_of=doc.line_of())


def _read_gift(item: ItemFile, resolver: CourseLinkResolver) -> ReadItem:
    text, path = item.file.text, item.file.path
    meta, quiz, problems, warnings = quiz_format().parse_gift(text, path=path)
    if not meta:
        # A GIFT file as Moodle exports it: no settings lines, so the defaults of
        # docs/authoring.md ("GIFT files from Moodle").
        meta = gift_defaults(text, item, len(quiz.questions))
    doc = YamlDoc(path, dict(meta), 1, problems=list(problems))
    for number, line in enumerate(text.split("\n"), 1):
        if not line.startswith("//"):
            break
        key = _GIFT_KEY.match(line)
        if key and (key.group(1),) not in doc.lines:
            doc.lines[(key.group(1),)] = number
    result = ReadItem(item, doc, warnings=list(warnings))
    result.kind = _common(doc, doc.value, item)
    result.required = checks.boolean(doc, doc.value, "required", True)
    renderer = _Renderer(resolver, path, text, 1, item.lang)
    quiz = renderer.quiz(quiz)
    extra = {key: value for key, value in doc.value.items() if key not in COMMON_KEYS}
    result.problems = doc.problems + renderer.problems
    result.translation = _translation(item, doc, doc.value, text, quiz.intro_html, extra, quiz, None)
    return result


_CATEGORY = re.compile(r"^\s*\$CATEGORY:\s*(.*?)\s*$", re.MULTILINE)


def gift_defaults(text: str, item: ItemFile, questions: int) -> dict[str, Any]:
    """Settings for a GIFT file without ``//`` settings lines: a quiz titled after the last
    part of its first ``$CATEGORY:`` (``$course$/top/Capitals`` gives "Capitals"), else after
    its file name (``03-final-check`` gives "Final check"); one minute per question, at least 5."""
    category = _CATEGORY.search(text)
    title = ""
    if category:
        title = category.group(1).rstrip("/").rsplit("/", 1)[-1].strip()
        title = "" if title.startswith("$") else title
    if not title:
        title = item.slug.replace("-", " ").capitalize()
    return {"kind": "quiz", "title": title, "minutes": max(5, questions)}
