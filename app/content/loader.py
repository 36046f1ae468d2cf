"""Loading course folders into validated, rendered :class:`CourseSpec` objects.

``load_courses(root)`` reads every course under ``root`` (or ``root`` itself when it holds a
course.yml), checks everything docs/authoring.md promises to check, renders every translation
with the link resolver, and returns the courses that are usable together with every problem,
each as ``path:line: message``. It needs no database and no Flask application.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.content import sequencing
from app.content.assignment import rubric_structure
from app.content.checks import SLUG_RE, SLUG_RULE
from app.content.course_file import CourseFile, read_course_file
from app.content.files import COURSE_FILE, CourseFolder, scan_course
from app.content.items import AUTHOR_LIMITS, ReadItem, read_item
from app.content.links import CourseLinkResolver
from app.content.problems import Problem
from app.content.quiz_format import quiz_format
from app.content.render import render_markdown, renderer_version
from app.content.report import format_report
from app.content.spec import BASE_LANGUAGE, LANGUAGES, CourseSpec, ItemSpec

__all__ = ["LoadResult", "course_source_hash", "format_report", "load_course", "load_courses"]


@dataclass
class LoadResult:
    """The usable courses and every problem found (sorted by path, then line)."""

    courses: list[CourseSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: Slugs of courses skipped because ``unchanged(slug, source_hash)`` said so.
    unchanged: list[str] = field(default_factory=list)
    #: Slugs of example courses left out because ``examples=False``.
    examples_skipped: list[str] = field(default_factory=list)


def load_courses(root: Path, *, unchanged: Callable[[str, str], bool] | None = None,
                 examples: bool = True) -> LoadResult:
    """Load every course under ``root``: a folder of course folders, or one course folder.

    With ``unchanged``, each course folder is first only read and hashed; when
    ``unchanged(slug, source_hash)`` is true (sync: the database has that hash), the course is
    neither parsed nor rendered (nor warned about) and its slug goes to ``result.unchanged``.
    Problem paths are posix and relative to the parent of the course folders
    (``rba/01-intro.en.md``). A course with any problem is left out of ``courses``.
    With ``examples=False``, a course whose course.yml says ``example: true`` is left out (its
    slug goes to ``result.examples_skipped``), as a sync does where EXAMPLE_COURSES is off.
    Raises FileNotFoundError when ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no such folder: {root}")
    if (root / COURSE_FILE).exists() or (root / COURSE_FILE).is_symlink():
        directories = [root]
    else:
        directories = sorted(path for path in root.iterdir() if path.is_dir() or path.is_symlink())
    result = LoadResult()
    for directory in directories:
        if directory.name.startswith("."):
            continue
        scanned = None
        if (unchanged is not None or not examples) and not directory.is_symlink():
            scanned = scan_course(directory, directory.name)
            if not examples and _is_example(scanned):
                result.examples_skipped.append(scanned.slug)
                continue
        if unchanged is not None and scanned is not None:
            if (not scanned.problems and scanned.course_yml is not None
                    and unchanged(scanned.slug, course_source_hash(scanned))):
                result.unchanged.append(scanned.slug)
                continue
        course, problems = load_course(directory, scanned=scanned)
        result.problems.extend(problems)
        if course is not None:
            result.courses.append(course)
            result.warnings.extend(course.warnings)
    result.problems.sort(key=lambda problem: (problem.path, problem.line, problem.message))
    return result


def _is_example(folder: CourseFolder) -> bool:
    """Whether a scanned course folder's course.yml says ``example: true`` (a broken course.yml
    is not an example: loading it reports its problems)."""
    if folder.course_yml is None:
        return False
    course_file = read_course_file(folder.course_yml.text, path=folder.course_yml.path)
    return not course_file.problems and course_file.example


def load_course(directory: Path, *, scanned: CourseFolder | None = None) -> tuple[CourseSpec | None, list[Problem]]:
    """Load one course folder; return the course (None if it has problems) and the problems.

    ``scanned`` is the folder as scan_course() already read it, if it was."""
    prefix = directory.name
    if directory.is_symlink():
        return None, [Problem(prefix, 0, "symbolic links are refused")]
    folder = scanned if scanned is not None else scan_course(directory, prefix)
    problems = folder.problems
    if not SLUG_RE.match(folder.slug):
        problems.append(Problem(prefix, 0, f"course folder name {folder.slug!r} must be {SLUG_RULE}"))
    if folder.course_yml is None:
        if not any(p.path == f"{prefix}/{COURSE_FILE}" for p in problems):
            problems.append(Problem(f"{prefix}/{COURSE_FILE}", 0, "course.yml is missing"))
        return None, _unique(problems)
    course_file = read_course_file(folder.course_yml.text, path=folder.course_yml.path)
    problems.extend(course_file.problems)
    resolver = CourseLinkResolver(folder.slug, {i.file.name: i.slug for i in folder.items}, folder.media)
    read = [read_item(item, resolver) for item in folder.items]
    for item in read:
        problems.extend(item.problems)
    items = _assemble_items(folder, course_file, read, problems)
    items = _sequence(course_file, items, problems)
    summaries_html = _render_summaries(course_file, resolver, problems)
    if problems:
        return None, _unique(problems)
    warnings = tuple(_unique([warning for item in read for warning in item.warnings]))
    return dataclasses.replace(_course_spec(folder, course_file, items, summaries_html), warnings=warnings), []


def _assemble_items(folder: CourseFolder, course_file: CourseFile, read: list[ReadItem],
                    problems: list[Problem]) -> list[ItemSpec]:
    """Group files by item slug, check bases, translations, duplicates and the items list."""
    by_slug: dict[str, dict[str, ReadItem]] = {}
    for item in read:
        group = by_slug.setdefault(item.file.slug, {})
        other = group.get(item.file.lang)
        if other is not None:
            problems.append(Problem(item.file.file.path, 0, f"duplicate item slug {item.file.slug!r}: "
                                                            f"{other.file.file.name} has the same slug and language"))
            continue
        group[item.file.lang] = item
    listed = dict(course_file.items)
    for slug, group in by_slug.items():
        base = group.get(BASE_LANGUAGE)
        for lang, item in group.items():
            if base is None:
                problems.append(Problem(item.file.file.path, 0, f"translation without base file: "
                                                                f"add {item.file.number}-{slug}.en.{item.file.ext}"))
            elif lang != BASE_LANGUAGE:
                _compare_translation(base, item, problems)
        if slug not in listed and course_file.items and base is not None:
            for item in group.values():
                problems.append(Problem(item.file.file.path, 0, f"item {slug!r} is not listed in course.yml items"))
    for slug, line in course_file.items:
        if slug not in by_slug:
            problems.append(Problem(course_file.path, line, f"item {slug!r} has no file (expected NN-{slug}.en.md)"))
    items: list[ItemSpec] = []
    for position, (slug, _line) in enumerate(course_file.items, 1):
        group = by_slug.get(slug, {})
        base = group.get(BASE_LANGUAGE)
        translations = {lang: r.translation for lang, r in group.items() if r.translation is not None}
        if base is None or base.kind is None or BASE_LANGUAGE not in translations:
            continue
        items.append(ItemSpec(slug=slug, kind=base.kind, position=position, required=base.required,
                              translations=translations, base_path=base.file.file.path))
    return items


def _sequence(course_file: CourseFile, items: list[ItemSpec], problems: list[Problem]) -> list[ItemSpec]:
    """Expand and check course.yml's ``requires`` and ``pacing``; give each item its values."""
    if course_file.requires is None and course_file.pacing is None:
        return items
    kinds = {item.slug: item.kind for item in items}
    found = sequencing.expand(course_file.requires, course_file.pacing,
                              [(slug, kinds.get(slug, "")) for slug, _line in course_file.items],
                              path=course_file.path,
                              line=lambda *key: _line_of(course_file.lines, key),
                              optional=frozenset(item.slug for item in items if not item.required))
    problems.extend(found.problems)
    return [dataclasses.replace(item, requires=found.requires.get(item.slug, ()),
                                pacing=dict(found.pacing.get(item.slug, {}))) for item in items]


def _line_of(lines: dict[tuple[str | int, ...], int], key: tuple[str | int, ...]) -> int:
    while key:
        if key in lines:
            return lines[key]
        key = key[:-1]
    return 1


def _compare_translation(base: ReadItem, item: ReadItem, problems: list[Problem]) -> None:
    """Report where a translation's structure differs from its base file."""
    path, base_name = item.file.file.path, base.file.file.name
    if base.file.number != item.file.number:
        problems.append(Problem(path, 0, f"duplicate item slug {item.file.slug!r}: the base file is {base_name}; "
                                         f"use the same number {base.file.number}"))
    if base.kind and item.kind and base.kind != item.kind:
        problems.append(Problem(path, item.doc.line("kind"), f"kind is {item.kind!r} but {base.kind!r} in {base_name}"))
    if base.kind and item.kind and base.required != item.required:
        problems.append(Problem(path, item.doc.line("required"),
                                f"required is {str(item.required).lower()} "
                                f"but {str(base.required).lower()} in {base_name}"))
    mine, theirs = base.translation, item.translation
    if mine is None or theirs is None:
        return
    if mine.quiz is not None and theirs.quiz is not None:
        for line, message in quiz_format().structure_differences(mine.quiz, theirs.quiz):
            problems.append(Problem(path, line, f"{message} ({base_name})"))
    if mine.rubric is not None and theirs.rubric is not None:
        base_rubric, rubric = rubric_structure(mine.rubric), rubric_structure(theirs.rubric)
        if base_rubric != rubric:
            index = next((i for i, (a, b) in enumerate(zip(base_rubric, rubric, strict=False)) if a != b),
                         min(len(base_rubric), len(rubric)))
            problems.append(Problem(path, item.doc.line("rubric", index),
                                    f"rubric criteria differ from {base_name}: the same criterion ids, level "
                                    f"points and required levels are needed, in the same order"))


def _render_summaries(course_file: CourseFile, resolver: CourseLinkResolver,
                      problems: list[Problem]) -> dict[str, str]:
    summaries: dict[str, str] = {}
    for lang, source in course_file.summaries_md.items():
        local = CourseLinkResolver(resolver.course_slug, resolver.item_files, resolver.media)
        summaries[lang] = str(render_markdown(source, link_resolver=local, inline=True, limits=AUTHOR_LIMITS))
        for _url, reason in local.broken:
            problems.append(Problem(course_file.path, course_file.lines.get(("summary", lang), 1),
                                    f"summary.{lang}: {reason}"))
    return summaries


def _course_spec(folder: CourseFolder, course_file: CourseFile, items: list[ItemSpec],
                 summaries_html: dict[str, str]) -> CourseSpec:
    translated = [lang for lang in LANGUAGES[1:] if items and all(lang in item.translations for item in items)]
    return CourseSpec(
        slug=folder.slug, path=folder.directory, titles=course_file.titles,
        summaries_md=course_file.summaries_md, summaries_html=summaries_html, audience=course_file.audience,
        estimated_hours=course_file.estimated_hours, open=course_file.open,
        languages=[BASE_LANGUAGE, *translated], items=items, completion=course_file.completion,
        media=dict(sorted(folder.media.items())), source_hash=course_source_hash(folder),
    )


def course_source_hash(folder: CourseFolder) -> str:
    """The hash of everything a course's stored form is made from: every file's hash, and the
    renderer's version (so a new renderer or sanitiser policy renders the course again)."""
    digest = hashlib.sha256()
    for name, file_hash in sorted(folder.hashes.items()):
        digest.update(f"{name}\0{file_hash}\n".encode())
    digest.update(f"renderer\0{renderer_version()}\n".encode())
    return digest.hexdigest()


def _unique(problems: list[Problem]) -> list[Problem]:
    return sorted(set(problems), key=lambda problem: (problem.path, problem.line, problem.message))

