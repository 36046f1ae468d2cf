"""What the site header shows about the signed-in person, read in one query per request.

Features register a fact as a function of the user's id that returns a SQL expression (a
scalar subquery or EXISTS); `header_facts()` selects all of them in one statement and keeps
the answer on `g` for the rest of the request, so the header costs one query on every page
however many templates ask (issue 18).

Features also register navigation flags: a function of the user and the facts (no query).
The context processor `navigation()` computes them once per rendered page, before the
template renders, as `nav` — templates read `nav.may_see_cohorts`, never call a function
that queries (issue 17; docs/architecture.md, "Templates never query").
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db

_facts: dict[str, Callable[[int], Any]] = {}
_flags: dict[str, Callable[[Any, dict[str, Any]], Any]] = {}


def register_header_fact(name: str, expression: Callable[[int], Any]) -> None:
    """Add a fact: `expression(user_id)` returns a SQL expression with one value."""
    _facts[name] = expression


def register_nav_flag(name: str, compute: Callable[[Any, dict[str, Any]], Any]) -> None:
    """Add `nav.<name>` for templates: `compute(user, facts)`, from the user row and the header
    facts only — it must not query."""
    _flags[name] = compute


def header_facts(user) -> dict[str, Any]:
    """The registered facts for the user, from one query, once per request."""
    cached = g.get("header_facts")
    if cached is not None and cached[0] == user.id:
        return cached[1]
    names = sorted(_facts)
    row = db.session.execute(select(*[_facts[name](user.id).label(name) for name in names])).one()
    facts = dict(zip(names, row, strict=True))
    g.header_facts = (user.id, facts)
    return facts


def forget_header_facts() -> None:
    """Drop the cached facts (after a change to them within the same request)."""
    g.pop("header_facts", None)


def navigation() -> dict[str, Any]:
    """Context processor: `nav`, the header's flags for the signed-in person (empty otherwise).
    Computed before the template renders, from one statement (the facts)."""
    if not has_request_context() or not getattr(current_user, "is_authenticated", False):
        return {"nav": {}}
    facts = header_facts(current_user)
    return {"nav": {name: compute(current_user, facts) for name, compute in _flags.items()}}
