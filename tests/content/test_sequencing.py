"""course.yml's ``requires`` and ``pacing`` (issue 14): expanded into slugs, checked with path:line,
written by sync, and changed by the next sync when course.yml changes."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.content.loader import load_courses
from app.content.models import Course, Item
from app.content.sequencing import find_cycle
from app.extensions import db
from tests.content.test_loader import ASSIGNMENT, COURSE_YML, LESSON, QUIZ, make_course, problems

# intro (lesson), check (quiz), more (lesson), more-check (quiz), task (assignment)
FIVE = COURSE_YML + "  - more\n  - more-check\n  - task\n"
FILES = {"03-more.en.md": LESSON, "04-more-check.en.md": QUIZ, "05-task.en.md": ASSIGNMENT}


def five(tmp_path: Path, extra: str) -> Path:
    return make_course(tmp_path, {"course.yml": FIVE + extra, **FILES})


def items_of(tmp_path: Path) -> dict[str, tuple[tuple[str, ...], dict[str, int]]]:
    result = load_courses(tmp_path)
    assert result.problems == []
    (course,) = result.courses
    return {item.slug: (item.requires, item.pacing) for item in course.items}


def test_words_expand_into_slugs_in_course_order(tmp_path: Path) -> None:
    five(tmp_path, "requires:\n  task: [lessons, quizzes]\n  more: [previous]\n  more-check: [intro, more]\n")
    found = items_of(tmp_path)
    assert found["task"][0] == ("intro", "check", "more", "more-check")
    assert found["more"][0] == ("intro", "check")  # the module before: intro and its quiz
    assert found["more-check"][0] == ("intro", "more")
    assert found["intro"][0] == () and found["check"][0] == ()


def test_words_leave_out_optional_items(tmp_path: Path) -> None:
    optional = LESSON.replace("minutes: 5\n", "minutes: 5\nrequired: false\n")
    make_course(tmp_path, {"course.yml": FIVE + "requires:\n  task: [lessons]\n", **FILES,
                           "03-more.en.md": optional})
    assert items_of(tmp_path)["task"][0] == ("intro",)


def test_pacing_weekly_is_one_module_a_week(tmp_path: Path) -> None:
    five(tmp_path, "pacing: weekly\n")
    found = items_of(tmp_path)
    assert {slug: pacing for slug, (_r, pacing) in found.items()} == {
        "intro": {"opens": 0, "due": 1}, "check": {"opens": 0, "due": 1},
        "more": {"opens": 1, "due": 2}, "more-check": {"opens": 1, "due": 2},
        "task": {"opens": 2, "due": 3}}


def test_pacing_by_item(tmp_path: Path) -> None:
    five(tmp_path, "pacing:\n  task: {opens: 2, due: 4}\n  intro: {due: 1}\n")
    found = items_of(tmp_path)
    assert found["task"][1] == {"opens": 2, "due": 4}
    assert found["intro"][1] == {"due": 1}
    assert found["check"][1] == {}


@pytest.mark.parametrize(("extra", "expected"), [
    ("requires:\n  nothing: [intro]\n", "demo/course.yml:15: requires: unknown item 'nothing' (not in items)"),
    ("requires:\n  task: [intro, gone]\n",
     "demo/course.yml:15: requires.task: unknown item or word 'gone' (an item slug, or one of lessons, quizzes, previous)"),
    ("requires:\n  task:\n    - intro\n    - everything\n",
     "demo/course.yml:17: requires.task: unknown item or word 'everything' (an item slug, or one of lessons, quizzes, previous)"),
    ("requires:\n  task: [task]\n", "demo/course.yml:15: requires.task: an item cannot require itself"),
    ("requires:\n  intro: [check]\n  check: [intro]\n", "demo/course.yml:15: requires makes a cycle: intro → check → intro"),
    ("requires:\n  intro: [task]\n  task: [lessons]\n",
     "demo/course.yml:15: requires makes a cycle: intro → task → intro"),
    ("requires:\n  intro: [previous]\n",
     "demo/course.yml:15: requires.intro: 'previous' names the module before, but 'intro' is in the first module"),
    ("requires: [intro]\n", "demo/course.yml:14: requires must map item slugs to lists of what must be finished "
                            "first, e.g. 'requires: {final-essay: [lessons, quizzes]}'"),
    ("requires:\n  task: []\n",
     "demo/course.yml:15: requires.task must be a list of item slugs and the words lessons, quizzes, previous"),
    ("pacing: monthly\n", "demo/course.yml:14: pacing must be 'weekly' or map item slugs to {opens: weeks, due: weeks}"),
    ("pacing:\n  nothing: {opens: 1}\n", "demo/course.yml:15: pacing: unknown item 'nothing' (not in items)"),
    ("pacing:\n  task:\n    opens: -1\n", "demo/course.yml:16: pacing.task.opens must be a whole number of weeks from 0 to 520"),
    ("pacing:\n  task:\n    due: 0\n", "demo/course.yml:16: pacing.task.due must be a whole number of weeks from 1 to 520"),
    ("pacing:\n  task:\n    due: 1.5\n", "demo/course.yml:16: pacing.task.due must be a whole number of weeks from 1 to 520"),
    ("pacing:\n  task:\n    opens: 2\n    due: 2\n",
     "demo/course.yml:17: pacing.task: due (2) must be greater than opens (2): 'due: n' is the end of the n-th week, "
     "the day before 'opens: n'"),
    ("pacing:\n  task:\n    close: 2\n", "demo/course.yml:16: pacing.task: unknown key 'close' (opens, due)"),
    ("pacing:\n  task: 3\n",
     "demo/course.yml:15: pacing.task must be a mapping such as {opens: 1, due: 2} (weeks after the start)"),
])
def test_problems_carry_path_and_line(tmp_path: Path, extra: str, expected: str) -> None:
    five(tmp_path, extra)
    assert problems(tmp_path) == [expected]


def test_find_cycle_names_the_cycle_and_ignores_chains() -> None:
    assert find_cycle({"a": ("b",), "b": ("c",)}, ["a", "b", "c"]) == []
    assert find_cycle({"a": ("b",), "b": ("c",), "c": ("a",)}, ["a", "b", "c"]) == ["a", "b", "c", "a"]
    assert find_cycle({"b": ("c",), "c": ("b",)}, ["a", "b", "c"]) == ["b", "c", "b"]


def test_courses_check_reports_and_fails(tmp_path: Path, runner) -> None:
    five(tmp_path, "requires:\n  intro: [check]\n  check: [intro]\n")
    result = runner.invoke(args=["courses", "check", str(tmp_path)])
    assert result.exit_code != 0
    assert "demo/course.yml:15: requires makes a cycle: intro → check → intro" in result.output


def sync(runner, root: Path) -> str:
    result = runner.invoke(args=["courses", "sync", str(root)])
    assert result.exit_code == 0, result.output
    return result.output


def stored(app, slug: str = "demo") -> dict[str, tuple[list[str], dict[str, int]]]:
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        return {item.slug: (item.requires, item.pacing) for item in db.session.scalars(
            select(Item).where(Item.course_id == course.id))}


def course_hash(app) -> str | None:
    with app.app_context():
        return db.session.scalar(select(Course.source_hash).where(Course.slug == "demo"))


def test_sync_writes_and_updates_requires_and_pacing(app, runner, tmp_path: Path) -> None:
    five(tmp_path, "requires:\n  task: [lessons, quizzes]\npacing: weekly\n")
    assert "added demo" in sync(runner, tmp_path)
    first = stored(app)
    assert first["task"] == (["intro", "check", "more", "more-check"], {"opens": 2, "due": 3})
    assert first["intro"] == ([], {"opens": 0, "due": 1})
    old_hash = course_hash(app)
    five(tmp_path, "requires:\n  task: [more]\npacing:\n  task: {opens: 1, due: 5}\n")
    assert "changed demo" in sync(runner, tmp_path)
    second = stored(app)
    assert second["task"] == (["more"], {"opens": 1, "due": 5})
    assert second["intro"] == ([], {})
    assert course_hash(app) != old_hash


def test_sync_refuses_a_course_with_a_cycle(app, runner, tmp_path: Path) -> None:
    five(tmp_path, "requires:\n  intro: [check]\n  check: [intro]\n")
    result = runner.invoke(args=["courses", "sync", str(tmp_path)])
    assert result.exit_code != 0
    assert "requires makes a cycle: intro → check → intro" in result.output
    assert course_hash(app) is None


def test_shipped_final_assignments_need_every_lesson_and_quiz() -> None:
    root = Path(__file__).resolve().parents[2] / "courses"
    result = load_courses(root)
    assert result.problems == []
    finals = {"rba-five-principles": "apply-the-principles", "local-participation": "participation-plan",
              "media-literacy": "verify-a-claim", "ypp-leading-a-cso": "capstone"}
    for course in result.courses:
        if course.slug not in finals:
            continue
        by_slug = {item.slug: item for item in course.items}
        final = by_slug[finals[course.slug]]
        assert set(final.requires) == {item.slug for item in course.items
                                       if item.kind in ("lesson", "quiz") and item.required}
        assert all(item.pacing for item in course.items)
