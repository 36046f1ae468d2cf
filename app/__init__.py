"""Nergi: the application factory."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask

from app import config as config_module
from app.extensions import babel, compress, csrf, db, limiter, login_manager, migrate


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: read config, bind extensions, register blueprints and commands.

    No I/O happens here: no tables are created and no migration runs.
    """
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("NERGI_INSTANCE_PATH") or None)
    _configure(app, test_config)
    _register_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    _register_commands(app)
    return app


def _configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    app.config.from_object(config_module.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(config_module.from_environment())
    if test_config:
        app.config.update(test_config)
    instance = Path(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'nergi.db'}"
    app.config.setdefault("UPLOAD_FOLDER", str(instance / "uploads"))
    app.config.setdefault("SIGNING_KEY_PATH", str(instance / "signing-key.pem"))
    app.config.setdefault("CERTIFICATE_CACHE", str(instance / "certificates"))
    secure = app.config["BASE_URL"].startswith("https://")
    # A __Host- cookie is bound to this exact host and path, and needs Secure.
    for key, value in {"SESSION_COOKIE_SECURE": secure, "REMEMBER_COOKIE_SECURE": secure,
                       "SESSION_COOKIE_NAME": "__Host-nergi" if secure else "nergi_session",
                       "REMEMBER_COOKIE_NAME": "__Host-nergi_remember" if secure else "nergi_remember",
                       }.items():
        if app.config.get(key) is None:
            app.config[key] = value
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://"
    )
    config_module.check_config(app.config)
    logging.getLogger("nergi").setLevel(logging.INFO)


def _register_extensions(app: Flask) -> None:
    from app.core.web import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    compress.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.needs_refresh_message = _l("Please sign in again to confirm it is you.")
    login_manager.refresh_view = "auth.login"


def _register_blueprints(app: Flask) -> None:
    import app.models as _all_models  # noqa: F401  (every table on the metadata, for Alembic)
    from app.auth.routes import bp as auth_bp
    from app.core.routes import bp as core_bp
    from app.assignments.admin import bp as mentoring_bp
    from app.assignments.routes import bp as assignments_bp
    from app.certificates.routes import bp as certificates_bp
    from app.cohorts.manage import bp as cohort_admin_bp
    from app.cohorts.routes import bp as cohorts_bp
    from app.learning.routes import bp as learning_bp
    from app.quizzes.routes import bp as quizzes_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(learning_bp)
    app.register_blueprint(assignments_bp)
    app.register_blueprint(mentoring_bp)
    app.register_blueprint(quizzes_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(cohorts_bp)
    app.register_blueprint(cohort_admin_bp)


def _register_hooks(app: Flask) -> None:
    import app.database as _sqlite_settings  # noqa: F401
    from app.core.errors import register_error_handlers
    from app.core.templating import register_template_helpers
    from app.core.web import register_request_hooks

    register_request_hooks(app)
    register_error_handlers(app)
    register_template_helpers(app)


def _register_commands(app: Flask) -> None:
    from app.assignments.cli import assignments_cli
    from app.certificates.cli import certificates_cli
    from app.cohorts.cli import cohorts_cli
    from app.content.cli import courses_cli
    from app.auth.cli import users_cli
    from app.core.backup import backup_command
    from app.core.cli import demo_command
    from app.notify.cli import outbox_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(assignments_cli)
    app.cli.add_command(courses_cli)
    app.cli.add_command(certificates_cli)
    app.cli.add_command(cohorts_cli)
