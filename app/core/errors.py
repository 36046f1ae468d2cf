"""The services' typed errors, their HTTP statuses, and the translated error pages.

Services raise a `ServiceError` subclass when a rule refuses a request; `str(error)` is the
message for the user, in their language. `STATUS` below is the one place that says which HTTP
status each kind of refusal gets: a view that shows its form again with the message (and what
the user typed) answers `status_of(error)`, and an error no view catches becomes an error page
with that status (`register_error_handlers`).
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.core import logs
from app.extensions import db


class ServiceError(Exception):
    """A service's rule refused the request. ``str(error)`` is a message for the user: pass a
    translated string or a ``lazy_gettext`` one (translated when shown)."""

    def __init__(self, message: Any = None, *args: Any):
        super().__init__(*((message, *args) if message is not None else args))

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(ServiceError):
    """What was sent breaks a rule (a missing choice, a weak password, an unknown e-mail)."""


class EmptySubmission(InvalidInput):
    """Nothing to hand in: no text and no file."""


class UploadTooLarge(InvalidInput):
    """A file, or the whole request, is over its size limit."""


class NotAllowed(ServiceError):
    """This user may not do this. With ``hide`` the answer is 404, so that the object's
    existence is not revealed."""

    hide: bool = False


class NotFound(ServiceError):
    """The thing asked for does not exist (or no longer does)."""


class Conflict(ServiceError):
    """Someone else changed the thing since the form was loaded (another mentor, another tab,
    a second click); nothing of this request was kept."""


# The one mapping of typed errors to HTTP statuses; the most specific class listed wins.
STATUS: dict[type[ServiceError], int] = {
    ServiceError: 400,
    InvalidInput: 400,
    EmptySubmission: 400,
    UploadTooLarge: 413,
    NotAllowed: 403,
    NotFound: 404,
    Conflict: 409,
}


def status_of(error: ServiceError) -> int:
    """The HTTP status for a service error: that of its most specific class in STATUS (404 for
    a refusal that hides the object)."""
    if isinstance(error, NotAllowed) and error.hide:
        return 404
    return next(STATUS[cls] for cls in type(error).__mro__ if cls in STATUS)


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

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        """A refusal no view caught: nothing of the request's work is kept; the page says why."""
        if isinstance(error, NotAllowed):
            # The audit row of the refusal is kept even though the request's work is not.
            pending_audit = [obj for obj in db.session.new if obj.__tablename__ == "audit_event"]
            db.session.rollback()
            for obj in pending_audit:
                db.session.add(obj)
            db.session.commit()
            return render_error(status_of(error))  # the page's own words: the action's name is not for users
        db.session.rollback()
        return render_error(status_of(error), error.message or None)

    @app.errorhandler(HTTPException)
    def http_error(error):
        original = getattr(error, "original_exception", None)
        if original is not None:  # an unhandled exception: into the operator's log, with the request id
            logs.event(error_log, "unhandled exception", logging.ERROR, path=logs.loggable_path(request.path),
                       error=f"{type(original).__name__}: {original}")
        return render_error(error.code or 500)
