"""Attachments shown in the page, and all of a submission's files as one zip.

The zip is written as it is sent: each file is read in 64 KB pieces and each compressed piece
goes out at once, so a worker holds a few hundred KB whatever the files' sizes. Names in it are
the display names (no folders, control or direction characters), one folder per version, and
a name met twice in a folder gets " (2)", " (3)"… (compared without case, as Windows does).
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from app.assignments import files as file_store
from app.assignments.models import Attachment, Revision, Submission
from app.core.authz import AccessDenied, require
from app.extensions import db

CHUNK = 64 * 1024
#: What a browser may show in the page, by the content type stored when the file passed its
#: content check (never the extension alone): "image" in an <img>, "pdf" in an <iframe>.
VIEWABLE = {"application/pdf": "pdf", "image/png": "image", "image/jpeg": "image"}


def viewable_kind(attachment: Attachment) -> str | None:
    return VIEWABLE.get(attachment.content_type)


def files_to_zip(user, submission: Submission) -> list[tuple[str, Attachment]]:
    """The submitted files of every version, with the name each gets in the zip. Raises
    AccessDenied (answered 404) unless the user may see the submission and it has files."""
    require(user, "submission.view", submission, hide=True)
    rows = db.session.execute(
        select(Revision.number, Attachment).join(Revision, Revision.id == Attachment.revision_id)
        .where(Attachment.submission_id == submission.id).order_by(Revision.number, Attachment.id)).all()
    if not rows:
        raise AccessDenied("submission.view", submission, hide=True)
    return list(zip(zip_names((f"v{number}", attachment.original_name) for number, attachment in rows),
                    (attachment for _number, attachment in rows), strict=True))


def zip_names(entries: Iterable[tuple[str, str]]) -> list[str]:
    """A unique, safe name inside the zip for each (folder, original name)."""
    taken: set[str] = set()
    names = []
    for folder, original in entries:
        name = file_store.display_name(original)
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        candidate, n = name, 1
        while f"{folder}/{candidate}".casefold() in taken:
            n += 1
            candidate = f"{stem} ({n}){dot}{ext}"
        taken.add(f"{folder}/{candidate}".casefold())
        names.append(f"{folder}/{candidate}")
    return names


class _Pipe(io.RawIOBase):
    """A write-only, unseekable stream whose bytes are taken out as they come (zipfile then
    writes sizes after each file's data instead of seeking back)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def stream_zip(entries: list[tuple[str, Path, int, datetime]]) -> Iterator[bytes]:
    """The zip of (name in the zip, path, size, time) entries, piece by piece."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, path, size, at in entries:
            info = zipfile.ZipInfo(name, date_time=max(at.timetuple()[:6], (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.file_size = size  # lets zipfile choose ZIP64 for large files up front
            with open(path, "rb") as source, archive.open(info, "w") as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    if data := pipe.take():
                        yield data
            yield pipe.take()
    yield pipe.take()
