"""The course-uploads migration, from the previous head with data, and back."""
from __future__ import annotations

import flask_migrate
from sqlalchemy import create_engine, inspect, text

from app import create_app
from app.config import normalise_database_url
from app.extensions import db
from tests.conftest import TEST_CONFIG, TEST_DATABASE_URL

PREVIOUS = "52669e7f23f2"
MINE = "7a3c91e0b4d2"


def _fresh_url(tmp_path):
    if not TEST_DATABASE_URL:
        return f"sqlite:///{tmp_path / 'previous.db'}", None
    base = normalise_database_url(TEST_DATABASE_URL)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS nergi_authoring_migration"))
        conn.execute(text("CREATE DATABASE nergi_authoring_migration"))
    return base.rsplit("/", 1)[0] + "/nergi_authoring_migration", admin


def test_upgrade_from_the_previous_head_keeps_courses_and_downgrade_undoes_it(tmp_path):
    url, admin = _fresh_url(tmp_path)
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade(revision=PREVIOUS)
        db.session.execute(text("INSERT INTO course (slug, source_hash, titles, summaries, audience, languages, "
                                "estimated_hours, is_open, completion, created_at, updated_at) VALUES "
                                "('demo', 'h', '{}', '{}', '{}', '[]', 1, true, '{}', CURRENT_TIMESTAMP, "
                                "CURRENT_TIMESTAMP)"))
        db.session.commit()
        flask_migrate.upgrade(revision=MINE)
        inspector = inspect(db.engine)
        assert {"course_upload", "course_author"} <= set(inspector.get_table_names())
        assert db.session.execute(text("SELECT slug, upload_id FROM course")).all() == [("demo", None)]
        db.session.execute(text("UPDATE course SET upload_id = 7"))
        db.session.commit()
        flask_migrate.downgrade(revision=PREVIOUS)
        inspector = inspect(db.engine)
        assert not {"course_upload", "course_author"} & set(inspector.get_table_names())
        assert "upload_id" not in {column["name"] for column in inspector.get_columns("course")}
        assert db.session.execute(text("SELECT slug FROM course")).scalars().all() == ["demo"]
        db.session.remove()
        db.engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE nergi_authoring_migration"))
        admin.dispose()
