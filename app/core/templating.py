"""What every template may use: languages, programme texts, formatting helpers."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, has_request_context, request, url_for
from flask_babel import format_decimal, get_locale
from markupsafe import Markup

from app.config import LANGUAGE_NAMES
from app.core.dates import show_date, show_datetime
from app.core.header import navigation, register_nav_flag
from app.core.texts import setting_text


def register_template_helpers(app: Flask) -> None:
    digests: dict[str, str] = {}
    if app.static_folder is None:  # Flask's default (app/static) is never switched off here
        raise RuntimeError("static_url needs the app's static folder")
    static_folder = Path(app.static_folder)

    def static_url(filename: str) -> str:
        """The static file's URL with a hash of its content, so it can be cached for a year."""
        if filename not in digests:
            path = static_folder / filename
            digests[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return url_for("static", filename=filename, v=digests[filename])

    app.jinja_env.globals["static_url"] = static_url
    # The header's flags (`nav`), computed once per page before the template renders.
    app.context_processor(navigation)
    register_nav_flag("may_administer", lambda user, facts: bool(user.is_admin))

    @app.context_processor
    def inject_globals():
        return {
            "languages": LANGUAGE_NAMES,
            "current_locale": str(get_locale() or "en"),
            "programme_name": setting_text("PROGRAMME_NAME", str(get_locale() or "en")),
            "funder_notice": setting_text("FUNDER_NOTICE", str(get_locale() or "en")),
            "current_path": request.full_path.rstrip("?") if has_request_context() else "/",
        }

    # Marks HTML as safe to insert; sanitises nothing. Only for HTML that render_markdown produced
    # (it sanitises) and that was stored: course text at sync, previews (docs/security.md, "Output").
    app.jinja_env.filters["stored_html"] = Markup
    # Dates in the programme's time zone, in formats that name the month (app/core/dates.py).
    app.jinja_env.filters["date"] = lambda value, fmt="medium": show_date(value, fmt, str(get_locale() or "en"))
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": show_datetime(value, fmt, str(get_locale() or "en"))
    app.jinja_env.filters["number"] = lambda value: format_decimal(value)
