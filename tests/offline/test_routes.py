"""The service worker, manifest, strings and course bundles as served; the store's name; sign-out
clearing the browser's storage; and the migration from the previous head."""
from __future__ import annotations

from pathlib import Path

import flask_migrate
from sqlalchemy import text

from app import create_app
from app.content.models import Course
from app.extensions import db
from tests.conftest import TEST_CONFIG, TEST_DATABASE_URL

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"


def test_service_worker_is_served_from_the_root_with_the_sites_csp(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"  # updates reach phones at once
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe-inline" not in csp
    assert b"addEventListener(\"fetch\"" in response.data


def test_manifest_names_icons_that_exist(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    body = response.json
    assert body["start_url"] == "/" and body["scope"] == "/" and body["display"] == "standalone"
    assert {icon["sizes"] for icon in body["icons"]} == {"any", "192x192", "512x512"}
    for icon in body["icons"]:
        assert (STATIC / icon["src"].removeprefix("/static/")).is_file(), icon["src"]
        response = client.get(icon["src"])
        assert response.status_code == 200 and response.data[:4] in (b"\x89PNG", b"<svg")
        response.close()


def test_script_strings_come_from_the_catalogue_in_the_learners_language(client, auth, factories):
    auth.login_as(factories.make_user(locale="hy"))
    strings = client.get("/offline/strings.json").json
    assert strings["lang"] == "hy"
    assert strings["copy"] == "Անցանց պատճեն, պահված՝ {date}։"
    assert "{num}" in strings["waiting"] and "{size}" in strings["keep_confirm"]
    page = client.get("/offline").get_data(as_text=True)
    assert "Դուք անցանց եք" in page and "<script>" not in page


def test_pages_carry_the_script_and_name_the_store_only_when_signed_in(client, auth, factories):
    anonymous = client.get("/login")
    assert "X-Nergi-User" not in anonymous.headers
    assert "offline.js" not in anonymous.get_data(as_text=True)  # no request added where not needed
    tags = []
    for user in (factories.make_user(), factories.make_user()):
        auth.login_as(user)
        home = client.get("/")
        page = home.get_data(as_text=True)
        tag = home.headers["X-Nergi-User"]
        assert f'data-user="{tag}"' in page and 'rel="manifest"' in page
        assert str(user.id) != tag and len(tag) == 20
        assert "X-Nergi-User" not in client.get("/offline/strings.json").headers
        tags.append(tag)
        auth.logout()
    assert tags[0] != tags[1]


def test_pages_that_do_not_need_it_load_no_offline_script(client, auth, factories):
    auth.login_as(factories.make_user())
    for path in ("/profile", "/notices", "/certificates"):
        page = client.get(path).get_data(as_text=True)
        assert "offline.js" not in page and 'rel="manifest"' not in page, path


def test_sign_out_clears_the_browsers_storage(client, auth, factories):
    auth.login_as(factories.make_user())
    response = auth.logout()
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_course_bundle_lists_every_page_and_changes_with_the_course(client, auth, factories, app):
    course = factories.make_course(items=("lesson", "quiz", "assignment"), languages=("en", "ka"))
    auth.login_as(factories.make_user(locale="ka"))
    bundle = client.get(f"/offline/courses/{course.slug}.json").json
    assert bundle["pages"] == [f"/courses/{course.slug}"] + [f"/courses/{course.slug}/item{n}" for n in (1, 2, 3)]
    assert bundle["title"] == course.titles["ka"] and bundle["bytes"] > 3000
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert f'data-hash="{bundle["hash"]}"' in page
    with app.app_context():
        db.session.get(Course, course.id).source_hash = "changed"
        db.session.commit()
    assert client.get(f"/offline/courses/{course.slug}.json").json["hash"] != bundle["hash"]


def test_closed_course_bundle_is_hidden(client, auth, factories):
    course = factories.make_course(is_open=False)
    auth.login_as(factories.make_user())
    assert client.get(f"/offline/courses/{course.slug}.json").status_code == 404


def test_migration_from_the_previous_head_and_back(tmp_path):
    if TEST_DATABASE_URL:
        from sqlalchemy import create_engine

        from app.config import normalise_database_url

        base = normalise_database_url(TEST_DATABASE_URL)
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS nergi_offline_migration"))
            conn.execute(text("CREATE DATABASE nergi_offline_migration"))
        url = base.rsplit("/", 1)[0] + "/nergi_offline_migration"
    else:
        url = f"sqlite:///{tmp_path / 'previous.db'}"
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade(revision="c0f0f179b391")
        db.session.execute(text("INSERT INTO \"user\" (email, name, password_hash, locale, municipality, organisation, "
                                "is_admin, is_active_account, session_version, created_at) VALUES "
                                "('kept@example.org', 'Kept', 'x', 'en', '', '', false, true, 1, CURRENT_TIMESTAMP)"))
        db.session.commit()
        flask_migrate.upgrade()
        assert "idempotency_key" in db.inspect(db.engine).get_table_names()
        flask_migrate.downgrade(revision="c0f0f179b391")
        assert "idempotency_key" not in db.inspect(db.engine).get_table_names()
        flask_migrate.upgrade()
        flask_migrate.check()
        assert db.session.execute(text("SELECT email FROM \"user\"")).scalar() == "kept@example.org"
        db.session.remove()
        db.engine.dispose()
    if TEST_DATABASE_URL:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE nergi_offline_migration"))
        admin.dispose()
