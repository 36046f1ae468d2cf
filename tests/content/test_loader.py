"""load_courses: one small course tree per problem class, each with its exact ``path:line: message``."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.content.loader import format_report, load_courses

REPO = Path(__file__).resolve().parents[2]

COURSE_YML = """\
title:
  en: Demo
  ka: დემო
summary:
  en: "A *demo*"
  ka: "*დემო*"
estimated_hours: 1
items:
  - intro
  - check
"""
LESSON = """\
---
kind: lesson
title: Intro
minutes: 5
---

## Start

See [the check](02-check.en.md#q1) and ![seedling](media/a.png).
"""
QUIZ = """\
---
kind: quiz
title: Check
minutes: 5
---

## single: Who? {#who}

- [x] Me
- [ ] You
"""
BASE = {"course.yml": COURSE_YML, "01-intro.en.md": LESSON, "02-check.en.md": QUIZ, "media/a.png": b"\x89PNG\r\n"}
ASSIGNMENT = """\
---
kind: assignment
title: Task
minutes: 30
rubric:
  - id: depth
    title: Depth
    levels:
      - points: 0
        title: Missing
      - points: 2
        title: Strong
---

Do it.
"""


def make_course(root: Path, changes: dict[str, str | bytes | None], slug: str = "demo") -> Path:
    """Write the valid BASE course under ``root/slug`` with ``changes`` (None deletes a file)."""
    files: dict[str, str | bytes | None] = {**BASE, **changes}
    for name, content in files.items():
        if content is None:
            continue
        path = root / slug / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root / slug


def problems(root: Path) -> list[str]:
    return [str(problem) for problem in load_courses(root).problems]


def test_base_course_loads_with_resolved_links(tmp_path: Path) -> None:
    make_course(tmp_path, {})
    result = load_courses(tmp_path)
    assert result.problems == []
    (course,) = result.courses
    assert [item.slug for item in course.items] == ["intro", "check"]
    assert course.languages == ["en"]
    html = course.items[0].base.html
    assert '<a href="/courses/demo/check#q1">the check</a>' in html
    digest = course.media["media/a.png"]
    assert f'src="/media/demo/{digest[:12]}/media/a.png"' in html
    assert course.summaries_html == {"en": "A <em>demo</em>", "ka": "<em>დემო</em>"}
    assert format_report(result) == (0, ["demo: 2 items (1 lesson, 1 quiz), languages en"])


def test_one_course_folder_gives_the_same_paths(tmp_path: Path) -> None:
    course = make_course(tmp_path, {"03-stray.en.md": LESSON})
    assert problems(course) == problems(tmp_path) == ["demo/03-stray.en.md:0: item 'stray' is not listed in course.yml items"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"course.yml": COURSE_YML + "items: [a\n"}, "demo/course.yml:12: course.yml is not valid YAML: expected ',' or ']', but got '<stream end>'"),
        ({"course.yml": COURSE_YML + "Open: true\n"}, "demo/course.yml:11: unknown key 'Open' (did you mean 'open'?)"),
        ({"course.yml": COURSE_YML.replace("estimated_hours: 1\n", "")}, "demo/course.yml:1: missing required key 'estimated_hours'"),
        ({"course.yml": COURSE_YML.replace("estimated_hours: 1", "estimated_hours: soon")},
         "demo/course.yml:7: estimated_hours must be a number greater than 0"),
        ({"course.yml": COURSE_YML + "audience:\n  de: Leute\n"},
         "demo/course.yml:12: language code 'de' in audience is not one of en, ka, az, hy, ru"),
        ({"course.yml": COURSE_YML.replace('  ka: "*დემო*"\n', "")}, "demo/course.yml:4: summary has no 'ka' text, but title has"),
        ({"course.yml": COURSE_YML + "  - Check_Quiz\n"},
         "demo/course.yml:11: item slug 'Check_Quiz' must be lower-case letters, digits and single hyphens, e.g. 'five-principles'"),
        ({"course.yml": COURSE_YML + "  - missing\n"}, "demo/course.yml:11: item 'missing' has no file (expected NN-missing.en.md)"),
        ({"course.yml": COURSE_YML + "title: again\n"}, "demo/course.yml:11: duplicate key 'title'"),
        ({"course.yml": COURSE_YML + "completion:\n  lessons: optional\n"},
         "demo/course.yml:12: completion.lessons must be 'required'"),
    ],
)
def test_course_yml_problems(tmp_path: Path, changes: dict[str, str], expected: str) -> None:
    make_course(tmp_path, changes)
    assert problems(tmp_path) == [expected]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"01-intro.en.md": LESSON.replace("minutes: 5\n", "minutes: 5\nrequried: true\n")},
         "demo/01-intro.en.md:5: unknown front-matter key 'requried' (did you mean 'required'?)"),
        ({"01-intro.en.md": LESSON.replace("title: Intro\n", "")}, "demo/01-intro.en.md:2: missing required front-matter key 'title'"),
        ({"01-intro.en.md": LESSON.replace("minutes: 5", "minutes: five")},
         "demo/01-intro.en.md:4: minutes must be a whole number greater than 0"),
        ({"01-intro.en.md": LESSON.replace("kind: lesson", "kind: lecture")},
         "demo/01-intro.en.md:2: kind must be one of lesson, quiz, assignment"),
        ({"01-intro.en.md": LESSON.replace("title: Intro", "title: [Intro")},
         "demo/01-intro.en.md:4: front matter is not valid YAML: expected ',' or ']', but got ':'"),
        ({"01-intro.en.md": LESSON.replace("---\nkind", "kind", 1)},
         "demo/01-intro.en.md:1: front matter missing: the file must start with a line '---'"),
        ({"01-intro.en.md": "---\nkind: lesson\ntitle: Intro\nminutes: 5\n\nNo end.\n"},
         "demo/01-intro.en.md:1: front matter is not closed: add a line '---' after it"),
        ({"01-intro.en.md": LESSON + "\n!!! danger\n    Boom.\n"},
         "demo/01-intro.en.md:11: admonition type 'danger' must be one of note, tip, warning"),
    ],
)
def test_front_matter_problems(tmp_path: Path, changes: dict[str, str], expected: str) -> None:
    make_course(tmp_path, changes)
    assert problems(tmp_path) == [expected]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("\nText.\n\nSee [x](05-nothing.en.md).\n", "demo/01-intro.en.md:9: link to 05-nothing.en.md: no such item file in this course"),
        ("\n![x](media/none.png)\n", "demo/01-intro.en.md:7: link to media/none.png: no such file in this course"),
        ("\n[up](../other/media/a.png)\n", "demo/01-intro.en.md:7: link '../other/media/a.png' leaves the course folder"),
        ("\n![abs](/etc/a.png)\n", "demo/01-intro.en.md:7: link '/etc/a.png' is an absolute path: write it relative to the course folder"),
        ("\n[bad][r]\n\n[r]: media/a.svg\n", "demo/01-intro.en.md:9: link to media/a.svg: files of type .svg cannot be linked "
         "(allowed: png jpg jpeg gif webp pdf, or an item file NN-<item>.<lang>.md)"),
    ],
)
def test_link_problems_carry_the_line_of_the_link(tmp_path: Path, body: str, expected: str) -> None:
    make_course(tmp_path, {"01-intro.en.md": LESSON.split("## Start")[0].rstrip("\n") + "\n" + body})
    assert problems(tmp_path) == [expected]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"03-intro.ka.md": LESSON}, "demo/03-intro.ka.md:0: duplicate item slug 'intro': the base file is 01-intro.en.md; use the same number 01"),
        ({"03-intro.en.gift": "// kind: quiz\n// title: T\n// minutes: 1\n\n::a:: Q {T}\n"},
         "demo/03-intro.en.gift:0: duplicate item slug 'intro': 01-intro.en.md has the same slug and language"),
        ({"03-extra.ka.md": LESSON}, "demo/03-extra.ka.md:0: translation without base file: add 03-extra.en.md"),
        ({"01-intro.de.md": LESSON}, "demo/01-intro.de.md:0: language code 'de' is not one of en, ka, az, hy, ru"),
        ({"1-intro.ka.md": LESSON}, "demo/1-intro.ka.md:0: file name must start with two digits and a hyphen, e.g. 01-introduction.en.md"),
        ({"04-Big_Slug.en.md": LESSON}, "demo/04-Big_Slug.en.md:0: item slug 'Big_Slug' must be lower-case letters, digits and single hyphens, e.g. 'five-principles'"),
        ({"notes.txt": "x"}, "demo/notes.txt:0: unexpected file: files of type .txt are not allowed here "
         "(item files are NN-<item>.<lang>.md or .gift; media: png jpg jpeg gif webp pdf)"),
        ({"01-intro.ka.md": LESSON.replace("kind: lesson", "kind: lesson\nrequired: false")},
         "demo/01-intro.ka.md:3: required is false but true in 01-intro.en.md"),
        ({"01-intro.ka.md": b"---\nkind: lesson\ntitle: \xff\n"}, "demo/01-intro.ka.md:3: the file is not UTF-8 (byte 0xff on this line); save it as UTF-8"),
        ({"01-intro.ka.md": "x" * (1024 * 1024 + 1)}, "demo/01-intro.ka.md:0: the file is larger than 1 MB (1048577 bytes)"),
        ({"course.yml": None}, "demo/course.yml:0: course.yml is missing"),
    ],
)
def test_file_problems(tmp_path: Path, changes: dict[str, str | bytes | None], expected: str) -> None:
    make_course(tmp_path, changes)
    assert problems(tmp_path) == [expected]


def test_translation_of_other_kind(tmp_path: Path) -> None:
    make_course(tmp_path, {"02-check.ka.md": LESSON})
    assert problems(tmp_path) == ["demo/02-check.ka.md:2: kind is 'lesson' but 'quiz' in 02-check.en.md"]


def test_symbolic_links_are_refused(tmp_path: Path) -> None:
    course = make_course(tmp_path, {})
    os.symlink(course / "01-intro.en.md", course / "03-link.en.md")
    os.symlink(course / "media", course / "pictures")
    assert problems(tmp_path) == ["demo/03-link.en.md:0: symbolic links are refused", "demo/pictures:0: symbolic links are refused"]


def test_course_folder_name_must_be_a_slug(tmp_path: Path) -> None:
    make_course(tmp_path, {}, slug="Demo_Course")
    assert problems(tmp_path) == [
        "Demo_Course:0: course folder name 'Demo_Course' must be lower-case letters, digits and single hyphens, e.g. 'five-principles'"
    ]


@pytest.mark.parametrize(
    ("rubric_change", "expected"),
    [
        (("principle: x", ""), None),
        (("    title: Depth\n", "    title: Depth\n    principle: speed\n"),
         "demo/03-task.en.md:8: principle 'speed' is not one of all-rights, participation, non-discrimination, accountability, transparency"),
        (("      - points: 2\n", "      - points: 0\n"), "demo/03-task.en.md:11: level points must be distinct and ascending (0 after 0)"),
        (("rubric:\n", "files:\n  types: [exe]\nrubric:\n"),
         "demo/03-task.en.md:6: file type 'exe' is not allowed (allowed: pdf docx odt xlsx ods pptx jpg jpeg png txt)"),
    ],
)
def test_assignment_problems(tmp_path: Path, rubric_change: tuple[str, str], expected: str | None) -> None:
    old, new = rubric_change
    make_course(tmp_path, {"course.yml": COURSE_YML + "  - task\n", "03-task.en.md": ASSIGNMENT.replace(old, new)})
    assert problems(tmp_path) == ([expected] if expected else [])


def test_assignment_without_rubric(tmp_path: Path) -> None:
    text = ASSIGNMENT.split("rubric:")[0] + "---\n\nDo it.\n"
    make_course(tmp_path, {"course.yml": COURSE_YML + "  - task\n", "03-task.en.md": text})
    assert problems(tmp_path) == [
        "demo/03-task.en.md:2: missing required front-matter key 'rubric' (an assignment needs at least one criterion)"
    ]


def test_rubric_translation_must_keep_its_structure(tmp_path: Path) -> None:
    changed = ASSIGNMENT.replace("      - points: 2", "      - points: 3")
    make_course(tmp_path, {"course.yml": COURSE_YML + "  - task\n", "03-task.en.md": ASSIGNMENT, "03-task.ka.md": changed})
    assert problems(tmp_path) == [
        "demo/03-task.ka.md:6: rubric criteria differ from 03-task.en.md: the same criterion ids, level points "
        "and required levels are needed, in the same order"
    ]


@pytest.mark.parametrize(("value", "expected"), [
    ("2", None),
    ("1", "demo/03-task.en.md:8: required_level must be the points of one of the criterion's levels above the lowest (2)"),
    ("0", "demo/03-task.en.md:8: required_level must be the points of one of the criterion's levels above the lowest (2)"),
    ("strong", "demo/03-task.en.md:8: required_level must be the points of one of the criterion's levels above the lowest (2)"),
])
def test_required_level_names_a_level_above_the_lowest(tmp_path: Path, value: str, expected: str | None) -> None:
    gated = ASSIGNMENT.replace("    title: Depth\n", f"    title: Depth\n    required_level: {value}\n")
    make_course(tmp_path, {"course.yml": COURSE_YML + "  - task\n", "03-task.en.md": gated})
    assert problems(tmp_path) == ([expected] if expected else [])
    if expected is None:
        rubric = load_courses(tmp_path).courses[0].items[-1].translations["en"].rubric
        assert rubric.criteria[0].required_level == 2.0
        assert rubric.to_dict()["criteria"][0]["required_level"] == 2.0


def test_a_rubric_without_gates_is_stored_as_before(tmp_path: Path) -> None:
    make_course(tmp_path, {"course.yml": COURSE_YML + "  - task\n", "03-task.en.md": ASSIGNMENT})
    rubric = load_courses(tmp_path).courses[0].items[-1].translations["en"].rubric
    assert "required_level" not in rubric.to_dict()["criteria"][0]


def test_a_translation_keeps_the_gates_of_its_base(tmp_path: Path) -> None:
    gated = ASSIGNMENT.replace("    title: Depth\n", "    title: Depth\n    required_level: 2\n")
    make_course(tmp_path, {"course.yml": COURSE_YML + "  - task\n", "03-task.en.md": gated, "03-task.ka.md": ASSIGNMENT})
    assert problems(tmp_path) == [
        "demo/03-task.ka.md:6: rubric criteria differ from 03-task.en.md: the same criterion ids, level points "
        "and required levels are needed, in the same order"
    ]


def test_quiz_problems_come_from_the_quiz_reader(tmp_path: Path) -> None:
    pytest.importorskip("app.quizzes.authoring")
    translation = QUIZ.replace("- [x] Me\n- [ ] You", "- [ ] Me\n- [x] You")
    make_course(tmp_path, {"02-check.ka.md": translation})
    assert problems(tmp_path) == [
        "demo/02-check.ka.md:7: question 'who': the options differ from the base (their number, order or "
        "correctness) (02-check.en.md)"
    ]
    make_course(tmp_path, {"02-check.en.md": QUIZ.replace("minutes: 5", "minutes: 5\npass_mark: 300")}, slug="other")
    assert "other/02-check.en.md:5: pass_mark must be a percentage from 0 to 100" in problems(tmp_path)


def test_gift_quiz_loads_with_or_without_front_matter(tmp_path: Path) -> None:
    pytest.importorskip("app.quizzes.authoring")
    gift = "// kind: quiz\n// title: GIFT\n// minutes: 2\n\n::who:: Who? {=Me ~You}\n"
    lesson = LESSON.replace("02-check.en.md", "02-check.en.gift")
    make_course(tmp_path, {"02-check.en.md": None, "02-check.en.gift": gift, "01-intro.en.md": lesson})
    (course,) = load_courses(tmp_path).courses
    assert course.items[1].base.quiz.questions[0].id == "who"
    make_course(tmp_path, {"02-check.en.md": None, "02-check.en.gift": "::who:: Who? {=Me ~You}\n",
                           "01-intro.en.md": lesson}, slug="other")
    assert problems(tmp_path) == []
    other = next(c for c in load_courses(tmp_path).courses if c.slug == "other")
    base = other.items[1].base
    assert (base.title, base.minutes, other.items[1].kind) == ("Check", 5, "quiz")


def test_report_lists_problems_sorted(tmp_path: Path) -> None:
    make_course(tmp_path, {"notes.txt": "x", "01-intro.en.md": LESSON.replace("minutes: 5", "minutes: 0")})
    code, lines = format_report(load_courses(tmp_path))
    assert code == 1
    assert lines == [
        "demo/01-intro.en.md:4: minutes must be a whole number greater than 0",
        "demo/notes.txt:0: unexpected file: files of type .txt are not allowed here "
        "(item files are NN-<item>.<lang>.md or .gift; media: png jpg jpeg gif webp pdf)",
    ]


def test_format_tour_loads_cleanly() -> None:
    pytest.importorskip("app.quizzes.authoring")
    result = load_courses(REPO / "courses" / "format-tour")
    assert [str(problem) for problem in result.problems] == []
    (course,) = result.courses
    assert course.languages == ["en", "ka"]
    assert format_report(result) == (0, ["format-tour: 5 items (2 lessons, 2 quizzes, 1 assignment), languages en ka"])
    assert course.titles["ka"] == "ნერგის ფორმატის გზამკვლევი"


def test_repository_courses_load_without_problems() -> None:
    pytest.importorskip("app.quizzes.authoring")
    result = load_courses(REPO / "courses")
    assert [str(problem) for problem in result.problems] == []


def test_yaml_aliases_and_wrong_types_are_refused(tmp_path: Path) -> None:
    make_course(tmp_path, {"course.yml": COURSE_YML + "audience: &a\n  en: x\nextra: *a\n"})
    assert problems(tmp_path) == [
        "demo/course.yml:13: YAML anchors and aliases (&name, *name) are not allowed in course.yml"
    ]
    make_course(tmp_path, {"01-intro.en.md": LESSON.replace("minutes: 5", "minutes: 5\nobjectives: learn")}, slug="other")
    assert problems(tmp_path)[-1] == "other/01-intro.en.md:5: objectives must be a list"
