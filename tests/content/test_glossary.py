"""The course translations use the glossaries' terms (issue 13).

docs/glossary/<lang>.md holds one Markdown table ``| English | <Language> | Check stem |``
(docs/glossary/README.md). For every real course (not an ``example: true`` one) and every item
with both an English file and a <lang> file: where the English prose contains the English term
(case-insensitive substring), the <lang> prose must contain the check stem (case-insensitive; in
Azerbaijani I, ı, İ and i count as one letter). Rows with an empty stem are guidance only.

"Prose" is what a learner reads in that language: the body, plus the human-readable front-matter
values (titles, objectives, rubric descriptions), without machine values (``principle:
accountability``, ``kind: quiz``, heading ids ``{#accountability}``, link targets, addresses) and
without the Sources section (source titles stay in their original language); lines are joined,
so a term broken across a line break still matches.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml

from app.content.course_file import read_course_file
from app.content.files import COURSE_FILE, ItemFile, scan_course
from app.content.spec import BASE_LANGUAGE, LANGUAGES
from app.content.yamldoc import split_front_matter

REPO = Path(__file__).resolve().parents[2]
COURSES_DIR = REPO / "courses"
GLOSSARY_DIR = REPO / "docs" / "glossary"
GLOSSARY_LANGS = sorted(p.stem for p in GLOSSARY_DIR.glob("*.md") if p.stem in LANGUAGES)
LANGUAGE_NAMES = {"ka": "Georgian", "az": "Azerbaijani", "hy": "Armenian", "ru": "Russian"}
MIN_CHECKED_TERMS = 20

# Front-matter keys whose strings a learner reads (compared), and those whose strings are
# identifiers or settings (left out). A new key must be put in one of the two sets
# (test_every_front_matter_key_is_classified).
HUMAN_KEYS = frozenset({"title", "objectives", "description"})
MACHINE_KEYS = frozenset({"kind", "id", "principle", "show_answers", "attempts", "types", "grading"})

# "## Sources" in each language: the section lists source titles in their original language.
SOURCES_HEADINGS = frozenset({"sources", "წყაროები", "mənbələr", "աղբյուրներ", "источники"})


# --- the glossaries --------------------------------------------------------------------------

@dataclass(frozen=True)
class Term:
    english: str
    target: str
    stem: str
    line: int


@dataclass(frozen=True)
class Glossary:
    lang: str
    header: tuple[str, ...]
    terms: tuple[Term, ...]
    problems: tuple[str, ...]

    @property
    def checked(self) -> list[Term]:
        return [term for term in self.terms if term.stem]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@cache
def read_glossary(lang: str) -> Glossary:
    """Parse docs/glossary/<lang>.md: its one table, with every problem found."""
    path = GLOSSARY_DIR / f"{lang}.md"
    lines = path.read_text(encoding="utf-8").splitlines()
    problems: list[str] = []
    tables: list[list[tuple[int, str]]] = []
    previous_was_table = False
    for number, line in enumerate(lines, 1):
        is_table = line.lstrip().startswith("|")
        if is_table and not previous_was_table:
            tables.append([])
        if is_table:
            tables[-1].append((number, line))
        previous_was_table = is_table
    if len(tables) != 1:
        problems.append(f"{path.name}: expected one table, found {len(tables)}")
    if not tables or len(tables[0]) < 2:
        return Glossary(lang, (), (), (*problems, f"{path.name}: no table rows"))
    table = tables[0]
    header = tuple(_cells(table[0][1]))
    if not all(re.fullmatch(r":?-{3,}:?", cell) for cell in _cells(table[1][1])) or len(_cells(table[1][1])) != 3:
        problems.append(f"{path.name}:{table[1][0]}: the second table line must be |---|---|---|")
    terms = []
    for number, line in table[2:]:
        cells = _cells(line)
        if len(cells) != 3:
            problems.append(f"{path.name}:{number}: expected 3 cells, found {len(cells)}: {line}")
            continue
        terms.append(Term(english=cells[0], target=cells[1], stem=cells[2], line=number))
    return Glossary(lang, header, tuple(terms), tuple(problems))


# --- the course files ------------------------------------------------------------------------

@cache
def course_items(slug: str) -> dict[str, dict[str, ItemFile]]:
    """The course's items: item slug -> language -> file."""
    items: dict[str, dict[str, ItemFile]] = {}
    for item in scan_course(COURSES_DIR / slug, slug).items:
        items.setdefault(item.slug, {})[item.lang] = item
    return items


def _is_example(directory: Path) -> bool:
    text = (directory / COURSE_FILE).read_text(encoding="utf-8")
    return read_course_file(text, path=f"{directory.name}/{COURSE_FILE}").example


REAL_COURSES = sorted(p.name for p in COURSES_DIR.iterdir()
                      if (p / COURSE_FILE).is_file() and not _is_example(p))


def fold(text: str, lang: str) -> str:
    """Text as the check compares it: NFC, lower case, one kind of apostrophe and hyphen,
    single spaces; in Azerbaijani I/ı/İ/i are one letter."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u2019", "'").replace("\u2010", "-").replace("\u2011", "-").replace("\u00ad", "")
    if lang == "az":
        text = text.replace("İ", "i").replace("I", "i").replace("ı", "i")
    text = text.lower()
    return re.sub(r"\s+", " ", text).strip()


def _front_matter_strings(value, key: str | None, human: list[str], unknown: set[str]) -> None:
    if isinstance(value, dict):
        for child_key, child in value.items():
            _front_matter_strings(child, str(child_key), human, unknown)
    elif isinstance(value, list):
        for child in value:
            _front_matter_strings(child, key, human, unknown)
    elif isinstance(value, str):
        if key in HUMAN_KEYS:
            human.append(value)
        elif key not in MACHINE_KEYS:
            unknown.add(str(key))


def _without_sources(body: str) -> str:
    kept, skipping = [], False
    for line in body.splitlines():
        heading = re.match(r"^(#{1,2})\s+(.*?)\s*$", line)
        if heading:
            skipping = heading.group(1) == "##" and heading.group(2).strip().lower() in SOURCES_HEADINGS
        if not skipping:
            kept.append(line)
    return "\n".join(kept)


def _strip_markup(body: str) -> str:
    body = re.sub(r"<!--.*?-->", " ", body, flags=re.DOTALL)
    body = re.sub(r"\{[#.][^}\n]*\}", " ", body)              # heading / question ids {#id points=2}
    body = re.sub(r"\]\([^)\s]*(?:\s+\"[^\"]*\")?\)", "]", body)  # link and image targets
    body = re.sub(r"<(?:https?|mailto):[^>\s]+>", " ", body)   # autolinks
    body = re.sub(r"https?://\S+", " ", body)                  # bare addresses
    body = re.sub(r"^[ \t]*(?:>[ \t]?)+", "", body, flags=re.MULTILINE)  # blockquote / feedback markers
    return body


def prose_parts(item: ItemFile) -> tuple[str, set[str]]:
    """The item's learner-facing text (not yet folded) and the unclassified front-matter keys."""
    text = item.file.text
    human: list[str] = []
    unknown: set[str] = set()
    if item.ext == "md":
        split, problem = split_front_matter(text, path=item.file.path)
        assert split is not None, problem
        _front_matter_strings(yaml.safe_load(split.front_matter) or {}, None, human, unknown)
        body = split.body
    else:  # GIFT: no front matter; // lines are comments
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
    return "\n".join([*human, _strip_markup(_without_sources(body))]), unknown


@cache
def prose(slug: str, item_slug: str, lang: str) -> str:
    return fold(prose_parts(course_items(slug)[item_slug][lang])[0], lang)


def glossary_failures(slug: str, lang: str) -> list[str]:
    """One line per term missing from a <lang> file where the English file has it."""
    terms = [(fold(term.english, BASE_LANGUAGE), fold(term.stem, lang), term)
             for term in read_glossary(lang).checked]
    failures = []
    for item_slug, files in course_items(slug).items():
        if BASE_LANGUAGE not in files or lang not in files:
            continue
        english, translated = prose(slug, item_slug, BASE_LANGUAGE), prose(slug, item_slug, lang)
        for english_term, stem, term in terms:
            if english_term in english and stem not in translated:
                failures.append(f"courses/{slug}/{files[lang].file.name}: English has {term.english!r}, "
                                f"expected the stem {term.stem!r}")
    return sorted(failures)


# --- the tests -------------------------------------------------------------------------------

def test_the_glossaries_and_real_courses_are_found():
    assert {"ka", "az", "hy", "ru"} <= set(GLOSSARY_LANGS)
    assert {"rba-five-principles", "local-participation", "media-literacy", "ypp-leading-a-cso"} <= set(REAL_COURSES)
    assert "format-tour" not in REAL_COURSES


@pytest.mark.parametrize("lang", GLOSSARY_LANGS)
def test_glossary_parses(lang):
    glossary = read_glossary(lang)
    assert not glossary.problems, "\n".join(glossary.problems)
    assert glossary.header == ("English", LANGUAGE_NAMES[lang], "Check stem"), glossary.header
    assert len(glossary.checked) >= MIN_CHECKED_TERMS, f"{lang}.md has only {len(glossary.checked)} checked terms"
    problems = []
    seen: dict[str, int] = {}
    for term in glossary.terms:
        where = f"{lang}.md:{term.line}"
        if not term.english or not term.target:
            problems.append(f"{where}: the English and {LANGUAGE_NAMES[lang]} cells must not be empty")
        if term.stem and term.english != " ".join(term.english.lower().split()):
            problems.append(f"{where}: the checked English term {term.english!r} must be lower case, on single spaces")
        if term.stem and term.stem != " ".join(term.stem.lower().split()):
            problems.append(f"{where}: the stem {term.stem!r} must be lower case, on single spaces")
        key = fold(term.english, BASE_LANGUAGE)
        if key in seen:
            problems.append(f"{where}: {term.english!r} is already on line {seen[key]}")
        seen.setdefault(key, term.line)
    assert not problems, "\n".join(problems)


def test_every_front_matter_key_is_classified():
    """A new front-matter key with text must be declared human-readable or machine."""
    unknown: dict[str, str] = {}
    for slug in REAL_COURSES:
        for files in course_items(slug).values():
            for item in files.values():
                for key in prose_parts(item)[1]:
                    unknown.setdefault(key, item.file.path)
    assert not unknown, f"add these keys to HUMAN_KEYS or MACHINE_KEYS: {unknown}"


def test_prose_leaves_out_ids_links_and_sources():
    item = course_items("rba-five-principles")["accountability"]
    english = prose("rba-five-principles", "accountability", "en")
    assert "principle 4: accountability and rule of law for all" in english  # the title
    assert "explain what makes a duty-bearer accountable" in english          # an objective
    assert "kind:" not in english and "capacity4dev" not in english           # front matter, Sources
    assert "accountability-quiz" not in english                                # a link target
    assert "istanbul cso development effectiveness principles" not in english
    assert "\n" not in english and "  " not in english
    assert "{#" not in prose("rba-five-principles", "accountability-quiz", "en")
    rubric = prose("rba-five-principles", "apply-the-principles", "en")
    assert "all-rights" not in rubric and "rights-holders and duty-bearers are named" in rubric
    assert item["en"].file.name == "09-accountability.en.md"
    assert fold("İŞTİRAK Iı", "az") == "iştirak ii"


PAIRS = [pytest.param(slug, lang, id=f"{slug}-{lang}") for slug in REAL_COURSES for lang in GLOSSARY_LANGS]


@pytest.mark.parametrize(("slug", "lang"), PAIRS)
def test_translations_use_the_glossary_terms(slug, lang):
    if not any(lang in files for files in course_items(slug).values()):
        pytest.skip(f"{slug} has no {lang} files yet")
    failures = glossary_failures(slug, lang)
    assert not failures, f"{len(failures)} glossary terms missing:\n" + "\n".join(failures)


def test_every_item_of_every_real_course_exists_in_all_five_languages():
    missing = []
    for slug in REAL_COURSES:
        for item_slug, files in course_items(slug).items():
            absent = [lang for lang in LANGUAGES if lang not in files]
            if absent:
                number = next(iter(files.values())).number
                missing.append(f"courses/{slug}/{number}-{item_slug}: no {', '.join(absent)}")
        course = yaml.safe_load((COURSES_DIR / slug / COURSE_FILE).read_text(encoding="utf-8"))
        for key in ("title", "summary", "audience"):
            absent = [lang for lang in LANGUAGES if lang not in (course.get(key) or {})]
            if absent:
                missing.append(f"courses/{slug}/{COURSE_FILE}: {key} has no {', '.join(absent)}")
    assert not missing, f"{len(missing)} items or course texts missing a language:\n" + "\n".join(missing)
