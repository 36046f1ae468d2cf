"""The one error type that every course-file reader reports."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """A problem found in a course file.

    ``path`` is the file's path as the author would type it (posix, relative to the
    folder that was checked); ``line`` is 1-based, or 0 when the problem concerns the
    file as a whole.
    """

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"
