"""An author on a phone (360 px) uploads a corrected course, reads the preview, and publishes."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from app.authoring.models import CourseAuthor
from app.auth.models import User
from app.content.course_zip import pack_course_folder
from app.content.models import Course, Item, ItemTranslation
from app.extensions import db
from tests.e2e.conftest import sign_in

SLUG = "format-tour"


@pytest.fixture
def author(live_app, tmp_path):
    """mentor1 made an author of the format tour; uploads unpack under tmp_path."""
    live_app.config["COURSE_UPLOADS_DIR"] = str(tmp_path / "published")
    with live_app.app_context():
        user = User.by_email("mentor1@example.org")
        course = db.session.scalar(select(Course).where(Course.slug == SLUG))
        db.session.add(CourseAuthor(course_id=course.id, user_id=user.id))
        db.session.commit()
    yield "mentor1@example.org"
    with live_app.app_context():
        db.session.query(CourseAuthor).delete()
        db.session.commit()


def test_author_uploads_previews_and_publishes_on_a_phone(page, live_app, author, tmp_path):
    source = Path(live_app.config["COURSES_DIR"]) / SLUG
    copy = tmp_path / "edit" / SLUG
    shutil.copytree(source, copy)
    lesson = copy / "01-welcome.ka.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nშესწორება ბრაუზერიდან.\n", encoding="utf-8")
    archive = tmp_path / f"{SLUG}.zip"
    archive.write_bytes(pack_course_folder(copy))

    sign_in(page, author)
    page.goto("/profile")
    page.click("text=The courses you author")
    page.click(f"a[href='/authoring/{SLUG}']")
    page.set_input_files("input[name=file]", str(archive))
    page.click("button.primary")
    # The preview: what would change, before anything changed.
    assert "Changed: welcome (ka)" in page.locator("ul.changes").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    with live_app.app_context():
        row = db.session.scalar(select(ItemTranslation).join(Item).join(Course).where(
            Course.slug == SLUG, Item.slug == "welcome", ItemTranslation.lang == "ka"))
        assert "შესწორება ბრაუზერიდან" not in row.html
    page.click("button.primary >> text=Publish")
    assert "Published" in page.locator("body").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    with live_app.app_context():
        row = db.session.scalar(select(ItemTranslation).join(Item).join(Course).where(
            Course.slug == SLUG, Item.slug == "welcome", ItemTranslation.lang == "ka"))
        assert "შესწორება ბრაუზერიდან" in row.html
