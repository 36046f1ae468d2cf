"""A course folder packed as a zip: reading an upload safely, and packing a folder.

The reader never trusts the archive's own directory: it checks every member's name and
type before reading a byte, refuses links, absolute paths and ``..``, and counts what it
decompresses while it reads (a member can lie about its size), so memory and disk stay
bounded by the limits below whatever the archive claims.  Nothing is written outside the
folder it is given.

This is a separate reader from the assignment-attachment check in app/assignments/files.py
(which only inspects OOXML/ODF structure); both need the same member-name and ratio rules,
and could share a small "safe members" helper later (see docs/architecture.md).
"""
from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.content.checks import SLUG_RE
from app.core import zipcheck

#: Limits of one course upload.  The curriculum's largest course is under 1 MB unpacked.
MAX_MEMBERS = 500
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_MEMBER_BYTES = 10 * 1024 * 1024
MAX_RATIO = 100
_CHUNK = 64 * 1024
# A fixed time for every member, so the same folder always packs to the same bytes.
_PACK_TIME = (2020, 1, 1, 0, 0, 0)


class CourseZipError(Exception):
    """The archive is refused as a whole; ``code`` names the reason, ``detail`` the member."""

    def __init__(self, code: str, detail: str = "", **values: int):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.values = values


# A directory entry is 46 bytes and a name; 500 members with long paths stay far below this.
MAX_DIRECTORY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    members: int = MAX_MEMBERS
    total_bytes: int = MAX_TOTAL_BYTES
    member_bytes: int = MAX_MEMBER_BYTES
    ratio: int = MAX_RATIO


def extract_course_zip(data: bytes | io.BufferedIOBase, destination: Path, *,
                       expected_slug: str | None = None, limits: ZipLimits = ZipLimits()) -> Path:
    """Unpack a zip of one course folder into ``destination`` and return the course folder.

    The archive holds either ``<slug>/…`` (what the download gives) or the course's files
    at its top; then the folder is named ``expected_slug``.  ``destination`` must exist and
    be empty.  Raises CourseZipError for anything unsafe or not a course folder; whatever
    was written by then stays inside ``destination`` (the caller removes it).
    """
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    # Bound the central directory before zipfile reads it whole (one object per entry).
    stream.seek(0, io.SEEK_END)
    try:
        entries, directory_bytes = zipcheck.directory_size(stream, stream.tell())
    except zipcheck.NotAZip:
        raise CourseZipError("not_zip") from None
    if entries > limits.members or directory_bytes > MAX_DIRECTORY_BYTES:
        raise CourseZipError("too_many", limit=limits.members)
    stream.seek(0)
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise CourseZipError("not_zip") from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.members:
            raise CourseZipError("too_many", limit=limits.members)
        names = [_checked_name(member) for member in members]
        files = [(member, name) for member, name in zip(members, names, strict=True) if not member.is_dir()]
        prefix, slug = _layout([name for _member, name in files], expected_slug)
        folder = destination / slug
        folder.mkdir()
        budget = [limits.total_bytes]
        for member, name in files:
            relative = name.relative_to(prefix) if prefix else name
            if any(part.startswith(".") or part == "__MACOSX" for part in name.parts):
                continue  # editors' and archivers' hidden files are not part of the course
            target = folder.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            _copy_member(archive, member, target, limits, budget)
    return folder


def _checked_name(member: zipfile.ZipInfo) -> PurePosixPath:
    """The member's path, refused when it is a link, absolute, or climbs out of the folder."""
    raw = member.filename
    mode = member.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise CourseZipError("link", raw)
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise CourseZipError("special", raw)
    if "\\" in raw or "\0" in raw or raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise CourseZipError("path", raw)
    path = PurePosixPath(raw)
    if any(part in ("..", "") for part in raw.rstrip("/").split("/")) or path.is_absolute():
        raise CourseZipError("path", raw)
    if member.flag_bits & 0x1:
        raise CourseZipError("encrypted", raw)
    return path


def _layout(names: list[PurePosixPath], expected_slug: str | None) -> tuple[PurePosixPath | None, str]:
    """Where the course's files start in the archive, and the course's slug."""
    visible = [name for name in names if not any(p.startswith(".") or p == "__MACOSX" for p in name.parts)]
    if any(name == PurePosixPath("course.yml") for name in visible):
        if expected_slug is None:
            raise CourseZipError("no_folder")
        return None, expected_slug
    tops = {name.parts[0] for name in visible if len(name.parts) > 1}
    if len(tops) != 1 or not any(len(name.parts) == 2 and name.name == "course.yml" for name in visible):
        raise CourseZipError("not_course")
    if any(len(name.parts) == 1 for name in visible):
        raise CourseZipError("not_course")
    slug = tops.pop()
    if not SLUG_RE.match(slug):
        raise CourseZipError("slug", slug)
    if expected_slug is not None and slug != expected_slug:
        raise CourseZipError("other_course", slug)
    return PurePosixPath(slug), slug


def _copy_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path,
                 limits: ZipLimits, budget: list[int]) -> None:
    """Copy one member in chunks, counting real bytes against the limits."""
    if member.file_size > limits.member_bytes:
        raise CourseZipError("member_too_big", member.filename, limit=limits.member_bytes)
    if member.file_size > budget[0]:
        raise CourseZipError("too_big", member.filename, limit=limits.total_bytes)
    allowed_by_ratio = max(member.compress_size, 1) * limits.ratio
    if member.file_size > _CHUNK and member.file_size > allowed_by_ratio:
        raise CourseZipError("ratio", member.filename, limit=limits.ratio)
    written = 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        with archive.open(member) as source, os.fdopen(os.open(target, flags, 0o644), "wb") as out:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > member.file_size or written > limits.member_bytes:
                    raise CourseZipError("member_too_big", member.filename, limit=limits.member_bytes)
                if written > budget[0]:
                    raise CourseZipError("too_big", member.filename, limit=limits.total_bytes)
                if written > allowed_by_ratio and written > _CHUNK:
                    raise CourseZipError("ratio", member.filename, limit=limits.ratio)
                out.write(chunk)
    except FileExistsError:
        raise CourseZipError("duplicate", member.filename) from None
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError) as error:
        # A bad CRC or header (BadZipFile), corrupt deflate data (zlib.error), an unknown
        # compression method (NotImplementedError), data cut short (EOFError). Encrypted members
        # were refused before opening.
        raise CourseZipError("corrupt", member.filename) from error
    budget[0] -= written


def pack_course_folder(folder: Path) -> bytes:
    """The course folder as a zip of ``<slug>/…``, the same bytes for the same files.

    Hidden files and symbolic links are left out, as the loader leaves them out.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for current, dirnames, filenames in os.walk(folder, followlinks=False):
            here = Path(current)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (here / d).is_symlink())
            for name in sorted(filenames):
                path = here / name
                if name.startswith(".") or path.is_symlink() or not path.is_file():
                    continue
                arcname = f"{folder.name}/{path.relative_to(folder).as_posix()}"
                info = zipfile.ZipInfo(arcname, date_time=_PACK_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()
