"""`courses sync` hashes the files before it parses anything (issue 18): an unchanged course is
neither read as Markdown nor rendered; a changed file, or a new renderer version, renders its
course again."""
from __future__ import annotations

from sqlalchemy import select

import app.content.loader as loader
import app.content.render as render
from app.content.models import Course, ItemTranslation
from app.extensions import db
from tests.learning.test_sync_and_pages import write_course


def sync(runner, root):
    result = runner.invoke(args=["courses", "sync", str(root)])
    assert result.exit_code == 0, result.output
    return result.output


def count_item_reads(monkeypatch) -> list[str]:
    read: list[str] = []
    real = loader.read_item

    def spy(item, resolver):
        read.append(item.file.path)
        return real(item, resolver)

    monkeypatch.setattr(loader, "read_item", spy)
    return read


def test_an_unchanged_sync_parses_and_renders_nothing(app, runner, tmp_path, monkeypatch):
    write_course(tmp_path, "first")
    write_course(tmp_path, "second", items=("alpha", "beta", "gamma"))
    assert "added first" in sync(runner, tmp_path)
    read = count_item_reads(monkeypatch)
    renders: list[str] = []
    real_render = loader.render_markdown
    monkeypatch.setattr(loader, "render_markdown", lambda *a, **k: renders.append("x") or real_render(*a, **k))
    output = sync(runner, tmp_path)
    assert "nothing to do: 2 course(s) unchanged" in output
    assert read == [] and renders == []


def test_a_changed_file_reads_its_course_only_and_stores_the_new_text(app, runner, tmp_path, monkeypatch):
    write_course(tmp_path, "first")
    write_course(tmp_path, "second")
    sync(runner, tmp_path)
    page = tmp_path / "second" / "02-second.en.md"
    page.write_text(page.read_text(encoding="utf-8").replace("Text of second", "Rewritten text"),
                    encoding="utf-8")
    read = count_item_reads(monkeypatch)
    output = sync(runner, tmp_path)
    assert "changed second" in output and "1 course(s) unchanged" in output
    assert read and all(path.startswith("second/") for path in read)
    with app.app_context():
        html = db.session.scalars(select(ItemTranslation.html).where(ItemTranslation.lang == "en")).all()
    assert any("Rewritten text" in text for text in html)


def test_a_removed_course_is_still_retired_when_the_rest_is_skipped(app, runner, tmp_path):
    write_course(tmp_path, "first")
    folder = write_course(tmp_path, "second")
    sync(runner, tmp_path)
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    folder.rmdir()
    output = sync(runner, tmp_path)
    assert "retired second" in output and "1 course(s) unchanged" in output
    with app.app_context():
        live = db.session.scalars(select(Course.slug).where(Course.retired_at.is_(None))).all()
    assert live == ["first"]


def test_a_new_renderer_version_renders_every_course_again(app, runner, tmp_path, monkeypatch):
    write_course(tmp_path, "first")
    sync(runner, tmp_path)
    monkeypatch.setattr(render, "RENDER_VERSION", render.RENDER_VERSION + 1)
    read = count_item_reads(monkeypatch)
    assert "changed first" in sync(runner, tmp_path)
    assert read
    assert "nothing to do" in sync(runner, tmp_path)


def test_the_renderer_version_names_the_libraries():
    version = render.renderer_version()
    assert f"render={render.RENDER_VERSION}" in version
    assert "markdown=" in version and "bleach=" in version
