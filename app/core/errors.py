"""Translated error pages, and the mapping of our typed errors to HTTP answers."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.core import logs
from app.core.authz import AccessDenied
from app.extensions import db

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"),
          _l("There is no page at this address. Check the link, or start again from the home page.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("Too large"),
          _l("What you sent is larger than the limit. Make the file smaller and try again; "
             "your text is kept when the form is shown again.")),
    429: (_l("Too many attempts"), _l("Too many attempts in a short time. Wait a few minutes and try again.")),
    500: (_l("Something went wrong"),
          _l("An error occurred on our side and has been logged. Please try again in a moment.")),
}
error_log = logging.getLogger("nergi.errors")
CSRF_MESSAGE = _l("This form has expired or was sent from another site. Reload the page and send it again.")


def render_error(code: int, message=None):
    title, default = MESSAGES.get(code, MESSAGES[500])
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=str(title)), code
    return render_template("errors/error.html", code=code, title=title,
                           message=message or default), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(AccessDenied)
    def access_denied(error):
        # The audit row of the refusal is kept even though the request's work is not.
        pending_audit = [obj for obj in db.session.new if obj.__tablename__ == "audit_event"]
        db.session.rollback()
        for obj in pending_audit:
            db.session.add(obj)
        db.session.commit()
        if error.hide:
            return render_error(404)
        return render_error(403)

    @app.errorhandler(HTTPException)
    def http_error(error):
        original = getattr(error, "original_exception", None)
        if original is not None:  # an unhandled exception: into the operator's log, with the request id
            logs.event(error_log, "unhandled exception", logging.ERROR, path=logs.loggable_path(request.path),
                       error=f"{type(original).__name__}: {original}")
        return render_error(error.code or 500)
