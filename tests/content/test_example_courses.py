"""The format tour is the format's worked example for authors (issue 13): `courses check` reads
it, development and tests sync it, a production sync of the tree leaves it out (and retires it
where an older sync loaded it), and naming its folder still loads it."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.certificates.keys import load_or_create_signing_key
from app.content.course_file import read_course_file
from app.content.loader import load_courses
from app.content.models import Course
from app.extensions import db
from tests.learning.test_sync_and_pages import write_course

REPO = Path(__file__).resolve().parents[2]


def make_example(root: Path, slug: str = "tour") -> Path:
    folder = write_course(root, slug)
    text = (folder / "course.yml").read_text(encoding="utf-8")
    (folder / "course.yml").write_text("example: true\n" + text, encoding="utf-8")
    return folder


def live(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(Course.slug).where(Course.retired_at.is_(None))))


def test_the_shipped_format_tour_is_the_only_example():
    examples = [folder.name for folder in sorted((REPO / "courses").iterdir())
                if (folder / "course.yml").is_file()
                and read_course_file((folder / "course.yml").read_text(encoding="utf-8"), path="course.yml").example]
    assert examples == ["format-tour"]


def test_a_tree_without_examples_leaves_them_out(tmp_path):
    write_course(tmp_path, "real")
    make_example(tmp_path)
    result = load_courses(tmp_path, examples=False)
    assert result.examples_skipped == ["tour"] and [course.slug for course in result.courses] == ["real"]
    assert [course.slug for course in load_courses(tmp_path).courses] == ["real", "tour"]


def test_development_and_tests_sync_examples(app, runner, tmp_path):
    assert app.config["EXAMPLE_COURSES"] is True  # TESTING
    write_course(tmp_path, "real")
    make_example(tmp_path)
    assert runner.invoke(args=["courses", "sync", str(tmp_path)]).exit_code == 0
    assert live(app) == ["real", "tour"]


def test_production_leaves_examples_out_and_retires_an_old_copy(make_app, tmp_path):
    write_course(tmp_path, "real")
    make_example(tmp_path)
    dev = make_app()
    assert dev.test_cli_runner().invoke(args=["courses", "sync", str(tmp_path)]).exit_code == 0
    assert live(dev) == ["real", "tour"]

    key = tmp_path / "production-key.pem"
    load_or_create_signing_key(key)  # production refuses to start without one
    production = make_app(TESTING=False, EXAMPLE_COURSES=None, SIGNING_KEY_PATH=str(key))
    assert production.config["EXAMPLE_COURSES"] is False
    result = production.test_cli_runner().invoke(args=["courses", "sync", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "left out tour: an example course for authors (EXAMPLE_COURSES is off)" in result.output
    assert "retired tour" in result.output
    assert live(production) == ["real"]

    # Naming the folder is an operator's explicit choice: it loads.
    result = production.test_cli_runner().invoke(args=["courses", "sync", str(tmp_path / "tour")])
    assert result.exit_code == 0, result.output
    assert live(production) == ["real", "tour"]


def test_check_reads_examples_too(runner, tmp_path):
    folder = make_example(tmp_path)
    (folder / "course.yml").write_text((folder / "course.yml").read_text() + "bogus: 1\n")
    result = runner.invoke(args=["courses", "check", str(tmp_path)])
    assert result.exit_code == 1 and "unknown key 'bogus'" in result.output
