"""What the views of every feature above learning share: finding a course or an item the current
user may see, and the places where higher layers plug into the learner's pages.

Learning sits below quizzes, assignments and certificates in the layers (docs/architecture.md): it
does not import them. They register what they add in create_app:

- :func:`register_item_view`: the page of an item of their kind (quiz, assignment);
- :func:`register_page_part`: a part of the learner's home or course page (the mentor's reviews,
  the course's completion and certificate), computed by the feature and given to the template by
  name.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from app.content.models import Course, Item
from app.core.authz import require
from app.extensions import db

ItemView = Callable[..., Any]
PagePart = Callable[..., Any]

_item_views: dict[str, ItemView] = {}
_page_parts: dict[str, dict[str, PagePart]] = {"home": {}, "course": {}}


def register_item_view(kind: str, view: ItemView) -> None:
    """Show items of ``kind`` with ``view(course=, item=, translation=, outline=, lang=)``."""
    _item_views[kind] = view


def item_view(kind: str) -> ItemView | None:
    return _item_views.get(kind)


def register_page_part(page: str, name: str, part: PagePart) -> None:
    """Add ``name`` to the context of ``page`` ("home": ``part(user, lang, facts)``; "course":
    ``part(user, course)``)."""
    _page_parts[page][name] = part


def page_parts(page: str, *args: Any) -> dict[str, Any]:
    """Every part registered for ``page``, computed now, by name."""
    return {name: part(*args) for name, part in _page_parts[page].items()}


def load_course(slug: str, action: str = "course.view") -> Course:
    """The course with this slug, if the current user may do ``action`` on it; else 404."""
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        abort(404)
    require(current_user, action, course, hide=True)
    return course


def load_item(course: Course, item_slug: str) -> Item:
    """The course's live item with this slug; else 404."""
    item = db.session.scalar(select(Item).where(Item.course_id == course.id, Item.slug == item_slug,
                                                Item.retired_at.is_(None)))
    if item is None:
        abort(404)
    return item
