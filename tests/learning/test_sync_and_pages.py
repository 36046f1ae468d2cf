"""Course sync (transactional, idempotent, retiring) and the learner's pages, with real files."""
from __future__ import annotations

import base64
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.content.models import Course, CourseMedia, Item, ItemTranslation
from app.learning.models import Progress
from app.learning.models import Enrolment
from app.extensions import db

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def lesson(title: str, body: str, required: bool = True) -> str:
    return textwrap.dedent(f"""\
        ---
        kind: lesson
        title: "{title}"
        minutes: 10
        required: {'true' if required else 'false'}
        objectives:
          - Understand {title}
        ---
        """) + body


def write_course(root: Path, slug: str = "demo", *, items=("intro", "second"), extra_ka=True,
                 title="Demo course") -> Path:
    folder = root / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "media").mkdir(exist_ok=True)
    (folder / "media" / "dot.png").write_bytes(PNG)
    listed = "\n".join(f"  - {item}" for item in items)
    (folder / "course.yml").write_text(textwrap.dedent(f"""\
        title:
          en: "{title}"
          ka: "სადემონსტრაციო კურსი"
        summary:
          en: "A short *demo*."
          ka: "მოკლე *დემო*."
        estimated_hours: 1.5
        open: true
        items:
        """) + listed + "\n", encoding="utf-8")
    for n, item in enumerate(items, 1):
        body = f"## Part {n}\n\nText of {item}. ![dot](media/dot.png)\n"
        if n < len(items):
            body += f"\nNext: [{items[n]}]({n + 1:02d}-{items[n]}.en.md)\n"
        (folder / f"{n:02d}-{item}.en.md").write_text(lesson(f"Lesson {item}", body), encoding="utf-8")
    if extra_ka:
        (folder / f"01-{items[0]}.ka.md").write_text(
            lesson("პირველი გაკვეთილი", "## ნაწილი\n\nქართული ტექსტი.\n"), encoding="utf-8")
    return folder


def sync(runner, root):
    return runner.invoke(args=["courses", "sync", str(root)])


def counts(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))
                     for m in (Course, Item, ItemTranslation, CourseMedia))


def test_sync_then_nothing_to_do(runner, app, tmp_path):
    write_course(tmp_path)
    result = sync(runner, tmp_path)
    assert result.exit_code == 0, result.output
    assert "added demo" in result.output
    assert counts(app) == (1, 2, 3, 1)
    with app.app_context():
        stamps = [t.updated_at for t in db.session.scalars(select(ItemTranslation).order_by(ItemTranslation.id))]
    again = sync(runner, tmp_path)
    assert "nothing to do" in again.output
    with app.app_context():
        assert stamps == [t.updated_at for t in db.session.scalars(select(ItemTranslation).order_by(ItemTranslation.id))]


def test_broken_tree_changes_nothing(runner, app, tmp_path):
    write_course(tmp_path)
    sync(runner, tmp_path)
    before = counts(app)
    broken = tmp_path / "demo" / "02-second.en.md"
    broken.write_text(lesson("Changed", "[bad link](09-missing.en.md)\n"), encoding="utf-8")
    result = sync(runner, tmp_path)
    assert result.exit_code == 1
    assert "demo/02-second.en.md:" in result.output and "nothing was changed" in result.output
    assert counts(app) == before
    with app.app_context():
        assert db.session.scalar(select(ItemTranslation.title).where(ItemTranslation.title == "Changed")) is None


def test_progress_survives_edits_and_retired_items_stop_counting(runner, app, tmp_path, factories, auth, client):
    write_course(tmp_path, items=("intro", "second", "third"))
    sync(runner, tmp_path)
    user = factories.make_user()
    auth.login_as(user)
    client.post("/courses/demo/second/done")
    # Rename titles and rewrite text: progress stays with the slug.
    write_course(tmp_path, items=("intro", "second", "third"), title="Renamed course")
    (tmp_path / "demo" / "02-second.en.md").write_text(lesson("New title", "New text.\n"), encoding="utf-8")
    assert "changed demo" in sync(runner, tmp_path).output
    page = client.get("/courses/demo").get_data(as_text=True)
    assert "Renamed course" in page and "1 of 3 done" in page
    # Remove "third": retired, kept in the database, no longer counted.
    (tmp_path / "demo" / "03-third.en.md").unlink()
    write_course(tmp_path, items=("intro", "second"), title="Renamed course")
    (tmp_path / "demo" / "02-second.en.md").write_text(lesson("New title", "New text.\n"), encoding="utf-8")
    sync(runner, tmp_path)
    with app.app_context():
        third = db.session.scalar(select(Item).where(Item.slug == "third"))
        assert third.retired_at is not None and not third.required
    assert "1 of 2 done" in client.get("/courses/demo").get_data(as_text=True)


def test_catalogue_course_and_lesson_pages(runner, tmp_path, factories, auth, client):
    write_course(tmp_path)
    sync(runner, tmp_path)
    user = factories.make_user(locale="ka")
    auth.login_as(user)
    catalogue = client.get("/courses").get_data(as_text=True)
    assert "სადემონსტრაციო კურსი" in catalogue and "<em>დემო</em>" in catalogue
    client.post("/courses/demo/enrol")
    course = client.get("/courses/demo").get_data(as_text=True)
    assert "პირველი გაკვეთილი" in course and "Lesson second" in course
    lesson_ka = client.get("/courses/demo/intro").get_data(as_text=True)
    assert "ქართული ტექსტი." in lesson_ka and "shown in English" not in lesson_ka
    lesson_en = client.get("/courses/demo/second").get_data(as_text=True)
    assert "Text of second." in lesson_en and 'lang="en"' in lesson_en
    # The fallback notice is in the reader's language (not the English sentence).
    assert "This page is not yet available in your language" not in lesson_en
    assert 'class="flash info" role="note"' in lesson_en


def test_mark_done_without_javascript_goes_to_next(runner, tmp_path, factories, auth, client, app):
    write_course(tmp_path)
    sync(runner, tmp_path)
    user = factories.make_user()
    auth.login_as(user)
    page = client.get("/courses/demo/intro").get_data(as_text=True)
    assert 'href="/courses/demo/second"' in page  # the item link was rewritten
    response = client.post("/courses/demo/intro/done")
    assert response.headers["Location"] == "/courses/demo/second"
    with app.app_context():
        assert db.session.scalar(select(func.count(Progress.id))) == 1
        assert db.session.scalar(select(func.count(Enrolment.id))) == 1
    client.post("/courses/demo/intro/done")  # twice: still one row
    with app.app_context():
        assert db.session.scalar(select(func.count(Progress.id))) == 1
    home = client.get("/").get_data(as_text=True)
    assert "Demo course" in home and "1 of 2 done" in home


def _media_url_for_signed_in_learner(app, tmp_path, factories):
    """Sync the demo course from tmp_path, sign a learner in; (client, the lesson image's URL)."""
    import re

    write_course(tmp_path)
    sync(app.test_cli_runner(), tmp_path)
    user = factories.make_user()
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    page = client.get("/courses/demo/intro").get_data(as_text=True)
    return client, re.search(r'src="(/media/demo/[0-9a-f]{12}/media/dot.png)"', page).group(1)


def test_media_served_with_hash_and_long_cache(make_app, tmp_path, factories):
    app = make_app(COURSES_DIR=str(tmp_path))  # media are served from the synced folder
    client, src = _media_url_for_signed_in_learner(app, tmp_path, factories)
    response = client.get(src)
    assert response.status_code == 200 and response.data == PNG
    assert "immutable" in response.headers["Cache-Control"]
    response.close()
    assert client.get(src.replace("/media/demo/", "/media/demo/000000000000x/")).status_code == 404
    assert client.get("/media/demo/" + src.split("/")[3] + "/../course.yml").status_code == 404


def test_closed_course_is_hidden(runner, tmp_path, factories, auth, client):
    folder = write_course(tmp_path)
    text = (folder / "course.yml").read_text().replace("open: true", "open: false")
    (folder / "course.yml").write_text(text)
    sync(runner, tmp_path)
    auth.login_as(factories.make_user())
    assert "Demo course" not in client.get("/courses").get_data(as_text=True)
    assert client.get("/courses/demo").status_code == 404
    assert client.post("/courses/demo/enrol").status_code == 404


@pytest.mark.parametrize("n_courses,n_items", [(1, 2), (4, 6)])
def test_query_counts_do_not_grow(runner, tmp_path, factories, auth, client, count_queries, n_courses, n_items):
    for c in range(n_courses):
        write_course(tmp_path, slug=f"c{c}", items=tuple(f"i{i}" for i in range(n_items)))
    result = sync(runner, tmp_path)
    assert result.exit_code == 0, result.output
    auth.login_as(factories.make_user())
    client.post("/courses/c0/enrol")
    measured = {}
    for name, path in {"home": "/", "catalogue": "/courses", "course": "/courses/c0",
                       "lesson": "/courses/c0/i1"}.items():
        with count_queries() as queries:
            assert client.get(path).status_code == 200
        measured[name] = len(queries)
    # issue 18: the header's three facts are one statement; the outline is one statement. (A
    # learner's home loads no reviews or cohorts: the header's facts say they have none.) The
    # outline looks for the learner's cohort, for the schedule (issue 14): one more statement.
    assert measured == {"home": 5, "catalogue": 5, "course": 9, "lesson": 7}, measured


def test_repository_courses_check_cleanly(runner):
    result = runner.invoke(args=["courses", "check", "courses"])
    assert result.exit_code == 0, result.output[:3000]


def test_media_are_handed_to_nginx_when_configured(make_app, tmp_path, factories):
    app = make_app(COURSES_DIR=str(tmp_path), MEDIA_ACCEL_PREFIX="/_media")
    client, src = _media_url_for_signed_in_learner(app, tmp_path, factories)
    response = client.get(src)
    assert response.status_code == 200 and response.data == b""  # nginx sends the bytes
    assert response.headers["X-Accel-Redirect"] == "/_media/demo/media/dot.png"
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    # Nobody signed in: no X-Accel-Redirect, so nginx sends nothing.
    anonymous = app.test_client().get(src)
    assert anonymous.status_code == 302 and "X-Accel-Redirect" not in anonymous.headers
