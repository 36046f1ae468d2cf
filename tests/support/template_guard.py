"""Templates never query (issue 17): a statement that runs while Flask renders a template fails
the test.

Views load what a page shows — eager-loading the relations its template follows — and the
context processors compute the header's facts before rendering starts; a lazy load of
`review.submission` or a `current_user.is_admin`-style call that reaches the database from a
template is one query per row, which the page-count tests would only catch for the rows they
make. Flask sends `before_render_template` after the context processors have run and
`template_rendered` when the template is done; between the two, a `before_cursor_execute`
listener on every engine records each statement with the template's name. The autouse fixture
in tests/conftest.py fails the test at teardown with the list.

Opt-out: `@pytest.mark.templates_may_query("why")` on a test whose template must query; the
reason is required and shows in the failure report if it is misused (none are needed today).
"""
from __future__ import annotations

import threading

from flask import (
    before_render_template,
    got_request_exception,
    request_started,
    template_rendered,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine

_IGNORED = ("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")


class _Rendering(threading.local):
    """The templates rendering in this thread (a live server's threads render too)."""

    def __init__(self) -> None:
        self.templates: list[str] = []


RENDERING = _Rendering()
#: (template, SQL) from every thread of the process; list.append is atomic.
FOUND: list[tuple[str, str]] = []


def reset() -> None:
    RENDERING.templates = []
    FOUND.clear()


def statements_while_rendering() -> list[tuple[str, str]]:
    """(template, SQL) for each statement run while a template rendered, since `reset()`."""
    return list(FOUND)


def _before_render(sender, template, context, **extra):
    RENDERING.templates.append(template.name or "<string>")


def _rendered(sender, template, context, **extra):
    if RENDERING.templates:
        RENDERING.templates.pop()


def _afresh(sender, **extra):
    # A template that raised never sends template_rendered: the error page, and any later
    # request in this thread, start with nothing rendering.
    RENDERING.templates = []


def _statement(conn, cursor, statement, parameters, context, executemany):
    if RENDERING.templates and not statement.lstrip().upper().startswith(_IGNORED):
        FOUND.append((RENDERING.templates[-1], " ".join(statement.split())))


def install() -> None:
    """Connect the listeners (once per process; they cost nothing when no template renders)."""
    if event.contains(Engine, "before_cursor_execute", _statement):
        return
    event.listen(Engine, "before_cursor_execute", _statement)
    before_render_template.connect(_before_render)
    template_rendered.connect(_rendered)
    got_request_exception.connect(_afresh)
    request_started.connect(_afresh)
