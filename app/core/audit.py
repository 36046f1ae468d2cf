"""Record security-relevant events: one row per event, plus one structured log line."""
from __future__ import annotations

import logging
from typing import Any

from flask import g, has_request_context, request

from app.core import logs
from app.core.models import AuditEvent
from app.extensions import db

log = logging.getLogger("nergi.audit")


def _clean(value: Any) -> Any:
    """Strip control characters so a name or file name cannot forge a log line."""
    if isinstance(value, str):
        return "".join(ch if ch.isprintable() else "\ufffd" for ch in value)
    return value


def record(action: str, *, actor=None, target: Any = "", **detail: Any) -> AuditEvent:
    """Add an audit row to the current transaction (the caller commits) and log it."""
    ip = request.remote_addr or "" if has_request_context() else ""
    request_id = g.get("request_id", "") if has_request_context() else ""
    detail = {key: _clean(value) for key, value in detail.items()}
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        target=_clean(str(target))[:200],
        ip=ip,
        request_id=request_id,
        detail=detail,
    )
    db.session.add(event)
    logs.event(log, "audit", action=action, actor=event.actor_id, target=event.target, ip=ip,
               request_id=request_id, **{f"detail_{key}": value for key, value in detail.items()})
    return event
