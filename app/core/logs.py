"""Logs an operator can use: one line per request and one per audit event, on standard error.

``LOG_FORMAT=json`` writes JSON lines (one object per line, for a log shipper); the default
"text" writes the same fields as ``key=value`` after the message. Secrets never reach a line:
query strings are dropped and the tokens that reset and invitation links carry in their path
are replaced by ``[redacted]``.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from flask import Flask, g, has_request_context, request

# Paths whose last segment is a secret (a reset or invitation token).
# Paths whose last part is a secret: reset and invitation links, and calendar feeds (/calendar/<token>.ics).
_SECRET_PATHS = re.compile(r"^/(reset|invitation|calendar)/(?!reset$)[^/]+")
_HANDLER_NAME = "nergi-stderr"


def loggable_path(path: str) -> str:
    """The request path without its query string and with link tokens redacted."""
    path = path.split("?", 1)[0]
    return _SECRET_PATHS.sub(lambda match: f"/{match.group(1)}/[redacted]", path)


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger message key=value …`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={_text_value(value)}" for key, value in getattr(record, "fields", {}).items())
        line = f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')}Z {record.levelname} {record.name} " \
               f"{record.getMessage()}{' ' + fields if fields else ''}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    quote = not text or not text.isprintable() or any(ch in text for ch in ' "=')
    return json.dumps(text, ensure_ascii=False) if quote else text


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # the base class assigns it; we always look it up
        pass


def configure_logging(app: Flask) -> None:
    """Send the ``nergi`` loggers to standard error in the configured format (once per process).

    Under TESTING nothing is attached: records propagate to the test runner's capture instead.
    """
    logger = logging.getLogger("nergi")
    logger.setLevel(app.config.get("LOG_LEVEL") or "INFO")
    if app.config.get("TESTING") and not app.config.get("LOG_TO_STDERR"):
        return
    formatter: logging.Formatter = (JSONFormatter() if app.config.get("LOG_FORMAT") == "json"
                                    else TextFormatter())
    formatter.converter = time.gmtime
    handler = next((h for h in logger.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = _StderrHandler()
        handler.set_name(_HANDLER_NAME)
        logger.addHandler(handler)
    handler.setFormatter(formatter)
    logger.propagate = False  # one line per event, even where something configured the root logger
    # Flask-Limiter reports storage failures and recovery on its own logger.
    limiter_logger = logging.getLogger("flask-limiter")
    if not any(h.get_name() == _HANDLER_NAME for h in limiter_logger.handlers):
        limiter_logger.addHandler(handler)
        limiter_logger.propagate = False


def event(logger: logging.Logger, message: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``message`` with structured fields (and the request id, inside a request)."""
    if has_request_context() and "request_id" not in fields:
        fields["request_id"] = g.get("request_id", "")
    logger.log(level, message, extra={"fields": fields})


request_log = logging.getLogger("nergi.request")


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _log_request(response):
    from flask_login import current_user

    started = g.get("request_started")
    elapsed = round((time.perf_counter() - started) * 1000, 1) if started else None
    user_id = current_user.id if current_user and current_user.is_authenticated else None
    event(request_log, "request", method=request.method, path=loggable_path(request.path),
          status=response.status_code, ms=elapsed, request_id=g.get("request_id", ""),
          user_id=user_id, ip=request.remote_addr or "")
    return response


def register_request_logging(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_log_request)
