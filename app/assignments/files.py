"""Attachment checks and storage: allowed types by extension AND by content, safe names,
durable writes (temporary file, fsync, rename) under random names outside static/."""
from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l

# extension -> (content type, how to recognise the bytes)
TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "txt": "text/plain",
}
_OOXML_PART = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
_ODF_MIME = {"odt": b"application/vnd.oasis.opendocument.text",
             "ods": b"application/vnd.oasis.opendocument.spreadsheet"}
_BIDI_AND_CONTROL = {"Cc", "Cf", "Zl", "Zp"}


class UploadRejected(Exception):
    """The file cannot be accepted; str(error) says why, in the user's language."""


@dataclass
class StoredFile:
    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def display_name(filename: str) -> str:
    """A safe name to show and to offer on download: no folders, control or direction characters."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _BIDI_AND_CONTROL).strip()
    name = name.strip(". ")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem[:200] or "file"
    return f"{stem}.{ext[:10]}" if ext else stem


def extension_of(filename: str) -> str:
    name = display_name(filename)
    return name.rpartition(".")[2].lower() if "." in name else ""


def _looks_like(ext: str, head: bytes, stream: BinaryIO) -> bool:
    if ext == "pdf":
        return head.startswith(b"%PDF-")
    if ext in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext == "txt":
        stream.seek(0)
        data = stream.read()
        if b"\x00" in data:
            return False
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    if ext in _OOXML_PART or ext in _ODF_MIME:
        if not head.startswith(b"PK\x03\x04"):
            return False
        stream.seek(0)
        try:
            with zipfile.ZipFile(stream) as archive:
                names = archive.namelist()
                if ext in _OOXML_PART:
                    return "[Content_Types].xml" in names and any(n.startswith(_OOXML_PART[ext]) for n in names)
                return "mimetype" in names and archive.read("mimetype").strip() == _ODF_MIME[ext]
        except (zipfile.BadZipFile, KeyError, OSError):
            return False
    return False


def check_file(filename: str, stream: BinaryIO, *, allowed: list[str], max_bytes: int) -> tuple[str, int]:
    """Check a file's name, size and content. Returns (extension, size).

    Raises UploadRejected for an empty or too large file, a type not allowed here, or bytes that
    are not what the extension says (an executable renamed to .pdf, say).
    """
    ext = extension_of(filename)
    name = display_name(filename)
    if ext not in allowed or ext not in TYPES:
        raise UploadRejected(str(_l("%(name)s: files of this type are not accepted here. Accepted: %(types)s.",
                                    name=name, types=", ".join(allowed))))
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size == 0:
        raise UploadRejected(str(_l("%(name)s is empty.", name=name)))
    if size > max_bytes:
        raise UploadRejected(str(_l("%(name)s is larger than %(mb)s MB.", name=name,
                                    mb=round(max_bytes / 1024 / 1024, 1))))
    head = stream.read(16)
    if not _looks_like(ext, head, stream):
        raise UploadRejected(str(_l("%(name)s is not a real .%(ext)s file. Save it again in that format.",
                                    name=name, ext=ext)))
    stream.seek(0)
    return ext, size


def store_file(folder: Path, filename: str, stream: BinaryIO, ext: str) -> StoredFile:
    """Write the file durably under a random name; the bytes are on disk before this returns."""
    stored_name = secrets.token_hex(16)
    target_dir = folder / stored_name[:2]
    if not target_dir.is_dir():
        target_dir.mkdir(parents=True, exist_ok=True)
        _fsync_directory(folder)  # the new sub-folder's entry must survive a power cut too
    temporary = target_dir / f".{stored_name}.part"
    digest = hashlib.sha256()
    size = 0
    stream.seek(0)
    with open(temporary, "wb") as out:
        while chunk := stream.read(1 << 16):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, target_dir / stored_name)
    _fsync_directory(target_dir)
    return StoredFile(stored_name=stored_name, original_name=display_name(filename),
                      content_type=TYPES[ext], size=size, sha256=digest.hexdigest())


def _fsync_directory(path: Path) -> None:
    directory = os.open(path, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def stored_path(folder: Path, stored_name: str) -> Path:
    if len(stored_name) != 32 or not all(c in "0123456789abcdef" for c in stored_name):
        raise FileNotFoundError(stored_name)
    return folder / stored_name[:2] / stored_name
