"""Where a course's files are on disk: ``COURSES_DIR/<slug>``, unless a higher layer knows better.

The authoring package publishes courses from uploaded zips into folders of its own; it registers
a resolver in create_app (:func:`register_folder_resolver`) rather than the learner's media route
importing authoring.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import current_app

from app.content.models import Course

FolderResolver = Callable[[Course], "Path | None"]
_resolvers: list[FolderResolver] = []


def register_folder_resolver(resolver: FolderResolver) -> None:
    """Ask ``resolver(course)`` first; None means "not mine"."""
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def course_folder(course: Course) -> Path:
    """The folder of the course's current files."""
    for resolver in _resolvers:
        found = resolver(course)
        if found is not None:
            return found
    return Path(current_app.config["COURSES_DIR"]) / course.slug
