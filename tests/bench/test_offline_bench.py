"""Benchmark: the bytes of keeping each course of courses/ on a phone, in English and Georgian.

Not part of the default test run. Run it with

    .venv/bin/pytest tests/bench/test_offline_bench.py -s -o addopts=''

It syncs courses/ into an empty SQLite database, signs in a learner per language, asks for each
course's bundle (/offline/courses/<slug>.json, what "Keep this course on this phone" downloads)
and GETs every address in it as the service worker does, with Accept-Encoding: gzip. It prints
the bundle's estimate and the bytes measured: bodies as sent (gzip where the server compresses)
plus response headers. The stylesheet, offline.js, the offline page and the strings are counted
once per phone, not per course, and are printed apart. Figures go into docs/performance.md.
"""
from __future__ import annotations

import flask_migrate

from app import create_app
from app.auth import services as auth_services
from app.content.models import Course
from app.extensions import db

PASSWORD = "correct horse battery"


def wire(response) -> int:
    head = sum(len(k) + len(v) + 4 for k, v in response.headers.items()) + 17
    return head + len(response.get_data())


def test_bytes_of_keeping_each_course(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "bench-secret-key-long-enough-for-this-xx",
                      "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bench.db'}",
                      "SIGNING_KEY_PATH": str(tmp_path / "key.pem"), "RATELIMIT_ENABLED": False})
    with app.app_context():
        flask_migrate.upgrade()
    assert app.test_cli_runner().invoke(args=["courses", "sync"]).exit_code == 0
    with app.app_context():
        slugs = db.session.scalars(db.select(Course.slug).order_by(Course.slug)).all()
        for lang in ("en", "ka"):
            auth_services.create_user(f"bench-{lang}@example.org", name="Bench", password=PASSWORD, locale=lang)
        db.session.commit()
    gzip = {"Accept-Encoding": "gzip"}
    print("\n| course | language | pages | pictures | estimate | measured |")
    print("|---|---|---:|---:|---:|---:|")
    for lang in ("en", "ka"):
        client = app.test_client()
        assert client.post("/login", data={"email": f"bench-{lang}@example.org",
                                           "password": PASSWORD}).status_code == 302
        for slug in slugs:
            bundle = client.get(f"/offline/courses/{slug}.json").json
            measured = 0
            for url in bundle["pages"] + bundle["media"]:
                response = client.get(url, headers=gzip)
                assert response.status_code == 200, url
                measured += wire(response)
                response.close()
            print(f"| {slug} | {lang} | {len(bundle['pages'])} | {len(bundle['media'])} | "
                  f"{bundle['bytes'] / 1024:.0f} KB | {measured / 1024:.0f} KB |")
        once = {}
        for url in ("/offline", "/offline/strings.json", "/sw.js", "/static/offline.js", "/static/nergi.css"):
            response = client.get(url, headers=gzip)
            once[url] = wire(response)
            response.close()
        print(f"once per phone ({lang}): {once}, together {sum(once.values()) / 1024:.1f} KB")
    with app.app_context():
        db.engine.dispose()
