"""Course upload → preview → publish, history and rollback, download round trip, authorisation,
CSRF, and which copy wins between an upload and courses/."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import func, select

from app.authoring.models import CourseAuthor, CourseUpload
from app.content.course_zip import pack_course_folder
from app.content.models import Course, Item, ItemTranslation
from app.extensions import db
from tests.learning.test_sync_and_pages import lesson, sync, write_course


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(COURSES_DIR=str(tmp_path / "courses"), COURSE_UPLOADS_DIR=str(tmp_path / "published"))


@pytest.fixture
def folder(app, runner, tmp_path):
    """The course "demo" in courses/, synced."""
    folder = write_course(tmp_path / "courses")
    assert sync(runner, tmp_path / "courses").exit_code == 0
    return folder


def course_row(app, slug="demo"):
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        db.session.expunge_all()
        return course


def post_zip(client, data: bytes, slug: str | None = "demo", name="demo.zip"):
    url = f"/authoring/{slug}/upload" if slug else "/authoring/new"
    return client.post(url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def edited_zip(folder, tmp_path, edit) -> bytes:
    """The course folder copied, changed by ``edit(copy)``, and packed."""
    import shutil

    copy = tmp_path / "edit" / folder.name
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.copytree(folder, copy)
    edit(copy)
    return pack_course_folder(copy)


def make_author(app, factories, slug="demo", **kwargs):
    user = factories.make_user(**kwargs)
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        db.session.add(CourseAuthor(course_id=course.id, user_id=user.id))
        db.session.commit()
    return user


def test_author_fixes_a_georgian_typo_preview_then_publish(app, client, auth, factories, folder, tmp_path):
    author = make_author(app, factories)
    auth.login_as(author)
    data = edited_zip(folder, tmp_path, lambda c: (c / "01-intro.ka.md").write_text(
        lesson("პირველი გაკვეთილი", "## ნაწილი\n\nქართული ტექსტი, შესწორებული.\n"), encoding="utf-8"))
    response = post_zip(client, data)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Changed: intro" in page and "(ka)" in page
    # The preview changed nothing yet.
    with app.app_context():
        ka = db.session.scalar(select(ItemTranslation).where(ItemTranslation.lang == "ka"))
        assert "შესწორებული" not in ka.html
    upload_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert client.post(f"/authoring/demo/uploads/{upload_id}/publish").status_code == 302
    with app.app_context():
        ka = db.session.scalar(select(ItemTranslation).where(ItemTranslation.lang == "ka"))
        assert "შესწორებული" in ka.html
        upload = db.session.get(CourseUpload, upload_id)
        assert (upload.published_by_id, upload.uploaded_by_id) == (author.id, author.id)
        assert upload.published_at is not None
    assert course_row(app).upload_id == upload_id
    # Learners see it, and the media are served from the upload.
    learner = factories.make_user()
    auth.logout()
    auth.login_as(learner)
    page = client.get("/courses/demo/intro").get_data(as_text=True)
    media = re.search(r'src="(/media/demo/[^"]+)"', page)
    assert media is not None, page
    response = client.get(media.group(1))
    assert response.status_code == 200 and response.data.startswith(b"\x89PNG")
    response.close()


def test_invalid_zip_changes_nothing_and_lists_file_and_line(app, client, auth, factories, folder, tmp_path):
    auth.login_as(factories.make_admin())
    data = edited_zip(folder, tmp_path, lambda c: (c / "02-second.en.md").write_text(
        "---\nkind: lesson\ntitle: X\nminutes: 0\n---\ntext\n", encoding="utf-8"))
    response = post_zip(client, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "demo/02-second.en.md:4" in page and "Nothing was changed" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CourseUpload)) == 0


def test_summary_for_added_language_and_removed_item(app, client, auth, factories, folder, tmp_path):
    auth.login_as(factories.make_admin())

    def edit(copy):
        (copy / "02-second.en.md").unlink()
        (copy / "01-intro.en.md").write_text(lesson("Lesson intro", "Alone now."), encoding="utf-8")
        (copy / "course.yml").write_text((copy / "course.yml").read_text().replace("  - second\n", ""))
        (copy / "01-intro.ru.md").write_text(lesson("Введение", "## Часть\n\nТекст.\n"), encoding="utf-8")
    response = post_zip(client, edited_zip(folder, tmp_path, edit))
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    page = page[page.index('<ul class="changes">'):page.index("</ul>", page.index('<ul class="changes">'))]
    assert "Retired: second" in page
    assert "Languages added: ka, ru" in page  # ka: now every item has it
    assert "Changed: intro (en, ru)" in page


def test_download_then_upload_unchanged_says_nothing_changes(app, client, auth, factories, folder):
    auth.login_as(make_author(app, factories))
    download = client.get("/authoring/demo/download")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == "attachment; filename=demo.zip"
    assert zipfile.ZipFile(io.BytesIO(download.data)).namelist()[0].startswith("demo/")
    response = post_zip(client, download.data)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing changes" in page
    # Publish, download again: the same bytes.
    upload_id = int(response.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/authoring/demo/uploads/{upload_id}/publish")
    assert client.get("/authoring/demo/download").data == download.data


def test_rollback_publishes_an_earlier_upload(app, client, auth, factories, folder, tmp_path):
    auth.login_as(factories.make_admin())
    ids = []
    for text in ("first version", "second version"):
        data = edited_zip(folder, tmp_path, lambda c, t=text: (c / "01-intro.en.md").write_text(lesson("Lesson intro", t)))
        location = post_zip(client, data).headers["Location"]
        ids.append(int(location.rsplit("/", 1)[1]))
        client.post(f"/authoring/demo/uploads/{ids[-1]}/publish")
    restored = client.post(f"/authoring/demo/uploads/{ids[0]}/restore")
    new_id = int(restored.headers["Location"].rsplit("/", 1)[1])
    assert "Changed: intro" in client.get(restored.headers["Location"]).get_data(as_text=True)
    client.post(f"/authoring/demo/uploads/{new_id}/publish")
    with app.app_context():
        en = db.session.scalar(select(ItemTranslation).join(Item).where(Item.slug == "intro",
                                                                         ItemTranslation.lang == "en"))
        assert "first version" in en.html
        assert db.session.scalar(select(func.count()).select_from(CourseUpload)) == 3
    assert course_row(app).upload_id == new_id


def test_uploaded_course_wins_over_the_folder_unless_force(app, client, auth, factories, folder, runner, tmp_path):
    auth.login_as(factories.make_admin())
    data = edited_zip(folder, tmp_path, lambda c: (c / "01-intro.en.md").write_text(lesson("Lesson intro", "uploaded")))
    upload_id = int(post_zip(client, data).headers["Location"].rsplit("/", 1)[1])
    client.post(f"/authoring/demo/uploads/{upload_id}/publish")
    (folder / "01-intro.en.md").write_text(lesson("Lesson intro", "from the folder"))
    result = sync(runner, tmp_path / "courses")
    assert "skipped demo: it was published from an upload" in result.output
    assert course_row(app).upload_id == upload_id
    result = runner.invoke(args=["courses", "sync", "--force", str(tmp_path / "courses")])
    assert result.exit_code == 0, result.output
    assert course_row(app).upload_id is None
    with app.app_context():
        en = db.session.scalar(select(ItemTranslation).join(Item).where(Item.slug == "intro",
                                                                         ItemTranslation.lang == "en"))
        assert "from the folder" in en.html


def test_an_uploaded_course_is_not_retired_by_a_sync_of_courses(app, client, auth, factories, folder, runner, tmp_path):
    auth.login_as(factories.make_admin())
    other = write_course(tmp_path / "elsewhere", "other")
    response = post_zip(client, pack_course_folder(other), slug=None)
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    upload_id = int(response.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/authoring/other/uploads/{upload_id}/publish")
    sync(runner, tmp_path / "courses")
    assert course_row(app, "other").retired_at is None


def test_uploaded_markdown_goes_through_the_sanitiser(app, client, auth, factories, folder, tmp_path):
    auth.login_as(factories.make_admin())
    data = edited_zip(folder, tmp_path, lambda c: (c / "01-intro.en.md").write_text(
        lesson("Lesson intro", "<script>alert(1)</script>\n\nText <img src=\"media/dot.png\" onerror=alert(1)> <a href=\"jav&#x61;script:alert(1)\">x</a>")))
    upload_id = int(post_zip(client, data).headers["Location"].rsplit("/", 1)[1])
    client.post(f"/authoring/demo/uploads/{upload_id}/publish")
    with app.app_context():
        en = db.session.scalar(select(ItemTranslation).join(Item).where(Item.slug == "intro",
                                                                         ItemTranslation.lang == "en"))
        assert "<script" not in en.html and "javascript:" not in en.html and "onerror" not in en.html


def test_refused_zip_gives_a_translated_reason(app, client, auth, factories, folder):
    user = make_author(app, factories, locale="ka")
    auth.login_as(user)
    response = post_zip(client, b"not a zip at all")
    assert response.status_code == 422
    assert "ეს ფაილი zip არქივი არ არის" in response.get_data(as_text=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("demo/course.yml", "x")
        archive.writestr("demo/../../evil", "x")
    assert post_zip(client, buffer.getvalue()).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CourseUpload)) == 0


# Authorisation: each role against each authoring action, in the service layer via the routes.

ROLES = ["admin", "author", "other_author", "trainer", "mentor", "learner", "anonymous"]


def _who(role, app, factories, folder):
    if role == "admin":
        return factories.make_admin()
    if role == "author":
        return make_author(app, factories)
    if role == "other_author":
        return make_author(app, factories, slug="other")
    if role == "learner":
        return factories.make_user()
    return None


@pytest.fixture
def two_courses(app, runner, tmp_path):
    folder = write_course(tmp_path / "courses")
    write_course(tmp_path / "courses", "other")
    assert sync(runner, tmp_path / "courses").exit_code == 0
    return folder


@pytest.mark.parametrize("role", ROLES)
def test_authorisation_per_role(role, app, client, auth, factories, two_courses, tmp_path):
    user = _member(app, factories, role) if role in ("trainer", "mentor") else _who(role, app, factories, two_courses)
    if user is not None:
        auth.login_as(user)
    allowed = role in ("admin", "author")
    data = pack_course_folder(two_courses)
    upload = post_zip(client, data)
    download = client.get("/authoring/demo/download")
    new = post_zip(client, pack_course_folder(write_course(tmp_path / "n", "brand-new")), slug=None)
    if role == "anonymous":
        assert upload.status_code == download.status_code == new.status_code == 302
        assert "/login" in upload.headers["Location"]
    else:
        assert (upload.status_code == 302) is allowed
        assert download.status_code == (200 if allowed else 404)
        assert (new.status_code == 302) is (role == "admin")
        if not allowed:
            assert upload.status_code == 404
            assert new.status_code == 403
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(CourseUpload))
    assert stored == {"admin": 2, "author": 1}.get(role, 0)
    # An author may not publish another course's upload, nor grant authorship.
    with app.app_context():
        foreign = "demo" if role == "other_author" else "other"
        other_upload = CourseUpload(course_slug=foreign, sha256="0" * 64, source_hash="0" * 64, size=1, data=b"x")
        db.session.add(other_upload)
        db.session.commit()
        other_id = other_upload.id
    if role not in ("admin", "anonymous"):
        assert client.post(f"/authoring/{foreign}/uploads/{other_id}/publish").status_code == 404
        assert client.post("/authoring/demo/authors", data={"email": "x@example.org"}).status_code in (403, 404)


def _member(app, factories, role):
    """A trainer or a mentor of a cohort: neither holds any right over a course's files."""
    from app.cohorts.models import Cohort, Membership

    trainer = factories.make_user()
    with app.app_context():
        import datetime

        cohort = Cohort(name="C", municipality="Marneuli", language="ka", starts_on=datetime.date(2026, 1, 1),
                        ends_on=datetime.date(2026, 12, 31))
        db.session.add(cohort)
        db.session.flush()
        db.session.add(Membership(cohort_id=cohort.id, user_id=trainer.id, role=role))
        db.session.commit()
    return trainer


def test_admin_grants_and_removes_an_author(app, client, auth, factories, folder):
    admin = factories.make_admin()
    person = factories.make_user(email="writer@example.org")
    auth.login_as(admin)
    assert client.post("/authoring/demo/authors", data={"email": "Writer@example.org"}).status_code == 302
    with app.app_context():
        row = db.session.scalar(select(CourseAuthor))
        assert (row.user_id, row.granted_by_id) == (person.id, admin.id)
    missing = client.post("/authoring/demo/authors", data={"email": "nobody@example.org"})
    assert missing.status_code == 422 and "nobody@example.org" in missing.get_data(as_text=True)
    client.post(f"/authoring/demo/authors/{person.id}/remove")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CourseAuthor)) == 0


def test_every_authoring_form_needs_a_csrf_token(make_app, tmp_path, factories, runner):
    app = make_app(WTF_CSRF_ENABLED=True, COURSES_DIR=str(tmp_path / "courses"))
    write_course(tmp_path / "courses")
    app.test_cli_runner().invoke(args=["courses", "sync", str(tmp_path / "courses")])
    admin = factories.make_admin()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = admin.get_id()
        session["_fresh"] = True
    for url in ("/authoring/new", "/authoring/demo/upload", "/authoring/demo/uploads/1/publish",
                "/authoring/demo/uploads/1/restore", "/authoring/demo/authors", "/authoring/demo/authors/1/remove"):
        assert client.post(url).status_code == 400, url


def test_authors_find_the_link_on_their_profile_and_learners_do_not(app, client, auth, factories, folder):
    author = make_author(app, factories)
    auth.login_as(author)
    page = client.get("/profile").get_data(as_text=True)
    assert 'href="/authoring/"' in page
    auth.logout()
    auth.login_as(factories.make_user())
    page = client.get("/profile").get_data(as_text=True)
    assert "/authoring/" not in page
    assert client.get("/authoring/").status_code == 403


def test_a_quiz_downloads_as_gift_that_reads_back(app, client, auth, factories, tmp_path, runner):
    from app.quizzes.authoring import parse_gift_with_warnings

    folder = write_course(tmp_path / "courses", items=("intro", "check"))
    (folder / "02-check.en.md").write_text(
        "---\nkind: quiz\ntitle: Check\nminutes: 5\n---\n\n## single: Who holds the duty? {#who}\n\n"
        "- [x] The State\n- [ ] A CSO\n\n## short: Name the sea. {#sea}\n\n- [x] Black*\n", encoding="utf-8")
    assert sync(runner, tmp_path / "courses").exit_code == 0, sync(runner, tmp_path / "courses").output
    author = make_author(app, factories)
    auth.login_as(author)
    page = client.get("/authoring/demo").get_data(as_text=True)
    assert "/authoring/demo/quizzes/check.en.gift" in page
    response = client.get("/authoring/demo/quizzes/check.en.gift")
    assert response.headers["Content-Disposition"] == "attachment; filename=check.en.gift"
    meta, quiz, problems, _ = parse_gift_with_warnings(response.get_data(as_text=True), path="x.gift")
    assert problems == [] and meta["title"] == "Check"
    assert [(q.id, q.type) for q in quiz.questions] == [("who", "single"), ("sea", "short")]
    assert quiz.questions[1].options[0].text_md == "Black*"
    assert client.get("/authoring/demo/quizzes/intro.en.gift").status_code == 404
    auth.logout()
    auth.login_as(factories.make_user())
    assert client.get("/authoring/demo/quizzes/check.en.gift").status_code == 404


def test_a_new_course_published_twice_at_once_answers_a_conflict_not_a_500(app, client, auth, factories, folder,
                                                                           tmp_path, monkeypatch):
    """On PostgreSQL two first publishes of one new course both find no row to lock, and the
    second insert of the slug fails (IntegrityError): the author is told, nothing is kept."""
    from sqlalchemy.exc import IntegrityError

    from app.authoring import services

    auth.login_as(factories.make_admin(locale="ru"))

    def rename(copy):
        text = (copy / "course.yml").read_text()
        (copy / "course.yml").write_text(text)
        copy.rename(copy.with_name("fresh"))

    import shutil

    fresh = tmp_path / "fresh-src" / "fresh"
    shutil.copytree(folder, fresh)
    response = post_zip(client, pack_course_folder(fresh), slug=None, name="fresh.zip")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    upload_id = int(response.headers["Location"].rsplit("/", 1)[1])

    def lost_the_race(*args, **kwargs):
        raise IntegrityError("INSERT INTO course", {}, Exception("duplicate key value violates unique constraint"))

    monkeypatch.setattr(services.sync_module, "sync_courses", lost_the_race)
    response = client.post(f"/authoring/fresh/uploads/{upload_id}/publish", follow_redirects=True)
    assert response.status_code == 200
    assert "Этот курс опубликовал кто-то другой в тот же момент" in response.get_data(as_text=True)
    assert course_row(app, "fresh") is None
    with app.app_context():
        assert db.session.get(CourseUpload, upload_id).published_at is None
