"""Nergi: the application factory."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config as config_module
from app.core.logs import configure_logging
from app.extensions import babel, compress, csrf, db, limiter, login_manager, migrate


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: read config, bind extensions, register blueprints and commands.

    No I/O happens here: no tables are created and no migration runs.
    """
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("NERGI_INSTANCE_PATH") or None)
    _configure(app, test_config)
    _register_extensions(app)
    _register_parts()
    _register_blueprints(app)
    _register_hooks(app)
    _register_commands(app)
    _register_jobs(app)
    _check_ready(app)
    return app


def _configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    app.config.from_object(config_module.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(config_module.from_environment())
    if test_config:
        app.config.update(test_config)
    if app.config.get("EXAMPLE_COURSES") is None:
        app.config["EXAMPLE_COURSES"] = bool(app.config.get("DEBUG") or app.config.get("TESTING"))
    instance = Path(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'nergi.db'}"
    app.config.setdefault("UPLOAD_FOLDER", str(instance / "uploads"))
    app.config.setdefault("COURSE_UPLOADS_DIR", str(instance / "course-uploads"))
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
    if not app.config.get("MAIL_DEFAULT_SENDER"):
        app.config["MAIL_DEFAULT_SENDER"] = f"Nergi <no-reply@{config_module.mail_domain(app.config['BASE_URL'])}>"
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://"
    )
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        # A Redis that does not answer costs a request one second at most, then the limiter
        # counts in memory until Redis is back (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED).
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                              {"socket_connect_timeout": 1, "socket_timeout": 1})
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        # Trust X-Forwarded-For/-Proto exactly as many hops deep as there are proxies: the
        # client address is then the one the outermost proxy saw, not one the client wrote.
        # Flask documents wrapping wsgi_app in middleware; its type declares it a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    configure_logging(app)


def _serving_from_flask_cli() -> bool:
    """True inside `flask …` commands (Flask sets this before it loads the app)."""
    return os.environ.get("FLASK_RUN_FROM_CLI") == "true"


def _check_ready(app: Flask) -> None:
    """Refuse to serve in production with an unsafe secret, missing or stale translations, or no
    certificate signing key; say so loudly everywhere else.

    A web server (gunicorn) that imports the app fails at start with every problem listed. The
    `flask` command line still runs (it is how an operator fixes them: `certificates keygen`,
    `db upgrade`, `courses check`), logs the problems, and refuses web requests until fixed.
    """
    if app.config.get("TESTING"):
        return
    log = logging.getLogger("nergi.startup")
    if app.config["RATELIMIT_STORAGE_URI"].startswith("memory://") and not app.config.get("DEBUG"):
        log.warning("REDIS_URL is not set: sign-in and reset limits are counted per worker process, "
                    "so with N workers a client gets N times the limit; set REDIS_URL to share them")
    problems = config_module.readiness_problems(app.config, translations=Path(app.root_path) / "translations")
    if not problems:
        return
    if app.config.get("DEBUG"):
        # Development uses its own secret and makes its own key on first use: only a catalogue
        # problem is worth saying there (the pages would be English).
        for problem in config_module.catalogue_problems(Path(app.root_path) / "translations"):
            log.warning(problem)
        return
    if not _serving_from_flask_cli():
        raise config_module.ConfigError("Nergi cannot start:\n- " + "\n- ".join(problems))
    for problem in problems:
        log.error(problem)

    @app.before_request
    def _refuse_until_fixed():
        raise config_module.ConfigError("Nergi is not ready:\n- " + "\n- ".join(problems))


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


def _register_parts() -> None:
    """Hand lower layers what they use from higher ones (docs/architecture.md, "Layers"), here and
    not as a side effect of importing a module. Every call is idempotent: tests build many apps."""
    from app.assignments import queries as assignment_queries
    from app.assignments import routes as assignment_routes
    from app.assignments import services as assignment_services
    from app.authoring import routes as authoring_routes
    from app.authoring.services import uploaded_course_folder
    from app.certificates import services as certificate_services
    from app.certificates.completion import completion_status
    from app.cohorts import access as cohort_access
    from app.cohorts import announcements as cohort_announcements
    from app.cohorts import calendar as cohort_calendar
    from app.cohorts import routes as cohort_routes
    from app.cohorts import schedule as cohort_schedule
    from app.cohorts import services as cohort_services
    from app.content.folders import register_folder_resolver
    from app.content.quiz_format import register_quiz_format
    from app.learning.lookup import register_item_view, register_page_part
    from app.quizzes.authoring import QUIZ_FORMAT
    from app.quizzes.routes import quiz_view
    from app.reminders import services as reminder_services

    # content reads quizzes in the quizzes package's syntax, and finds uploaded courses' folders
    register_quiz_format(QUIZ_FORMAT)
    register_folder_resolver(uploaded_course_folder)
    # learning shows items of the other kinds, and their parts of the home and course pages
    register_item_view("quiz", quiz_view)
    register_item_view("assignment", assignment_routes.assignment_view)
    register_page_part("home", "is_mentor", lambda user, lang, facts: bool(facts.get("is_mentor")))
    register_page_part("home", "reviews", lambda user, lang, facts: (
        assignment_queries.review_queue(user, lang) if facts.get("is_mentor") else []))
    register_page_part("course", "completion", lambda user, course: completion_status(user.id, course))
    register_page_part("course", "certificate",
                       lambda user, course: certificate_services.active_certificate(user.id, course.id))
    # e-mail templates, header facts, cohort roles and the certificate's completion hook
    cohort_schedule.register()  # learners' schedules, for learning's locks and dates
    cohort_calendar.register()  # the learner's home: what is due this week, and overdue
    assignment_services.register()
    assignment_routes.register()
    certificate_services.register()
    reminder_services.register()
    cohort_access.register()
    cohort_services.register()
    cohort_routes.register()
    cohort_announcements.register()  # the e-mail a trainer's message goes out as
    authoring_routes.register()


def _register_blueprints(app: Flask) -> None:
    import app.models as _all_models  # noqa: F401  (every table on the metadata, for Alembic)
    from app.assignments.admin import bp as mentoring_bp
    from app.assignments.routes import bp as assignments_bp
    from app.auth.routes import bp as auth_bp
    from app.authoring.routes import bp as authoring_bp
    from app.certificates.routes import bp as certificates_bp
    from app.cohorts.feeds import bp as calendar_bp
    from app.cohorts.manage import bp as cohort_admin_bp
    from app.cohorts.routes import bp as cohorts_bp
    from app.core.converters import IdConverter
    from app.core.routes import bp as core_bp
    from app.learning.routes import bp as learning_bp
    from app.offline.routes import bp as offline_bp
    from app.quizzes.routes import bp as quizzes_bp

    app.url_map.converters["int"] = IdConverter  # before any route: an id out of range is a 404
    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(learning_bp)
    app.register_blueprint(assignments_bp)
    app.register_blueprint(mentoring_bp)
    app.register_blueprint(quizzes_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(cohorts_bp)
    app.register_blueprint(cohort_admin_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(authoring_bp)
    app.register_blueprint(offline_bp)


def _register_hooks(app: Flask) -> None:
    from app.core.errors import register_error_handlers
    from app.core.logs import register_request_logging
    from app.core.templating import register_template_helpers
    from app.core.web import register_request_hooks
    from app.database import register_transaction_modes

    register_transaction_modes(app)
    register_request_hooks(app)
    register_request_logging(app)
    register_error_handlers(app)
    register_template_helpers(app)


def _register_commands(app: Flask) -> None:
    from app.assignments.cli import assignments_cli, files_cli
    from app.auth.cli import users_cli
    from app.certificates.cli import certificates_cli
    from app.cohorts.cli import cohorts_cli
    from app.content.cli import courses_cli
    from app.core.backup import backup_command
    from app.core.worker import worker_command
    from app.demo import demo_command
    from app.notify.cli import outbox_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(assignments_cli)
    app.cli.add_command(files_cli)
    app.cli.add_command(courses_cli)
    app.cli.add_command(certificates_cli)
    app.cli.add_command(cohorts_cli)
    app.cli.add_command(worker_command)


def _register_jobs(app: Flask) -> None:
    """What the worker process (`flask --app wsgi worker`) does each round, in this order: the
    reminders and digests queue their e-mails before the outbox sends them."""
    from app.core.worker import register_job
    from app.notify.services import deliver_round
    from app.offline.services import purge_old_keys
    from app.reminders.digest import queue_due_digests
    from app.reminders.services import send_reminders

    register_job(app, "reminders", send_reminders)
    register_job(app, "digests", queue_due_digests)
    register_job(app, "outbox", deliver_round)
    register_job(app, "idempotency-keys", purge_old_keys)
