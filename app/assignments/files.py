"""Attachment checks and storage: allowed types by extension AND by content, safe names,
durable writes (temporary file, fsync, rename) under random names outside static/."""
from __future__ import annotations

import codecs
import hashlib
import os
import secrets
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l

from app.core import zipcheck
from app.core.errors import InvalidInput, UploadTooLarge

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


# Office documents are zip archives. Nothing in one is read whole: the directory is sized
# from its end record before zipfile parses it, and every member is inflated in small chunks,
# counted, and compared with what the directory declares. These bounds are far above any real
# document (a 300-slide presentation has about 1,000 parts) and far below what hurts a worker.
ZIP_MAX_MEMBERS = 2_000
ZIP_MAX_DIRECTORY_BYTES = 1024 * 1024
ZIP_MAX_UNPACKED_BYTES = 256 * 1024 * 1024   # all members together, as inflated
ZIP_MAX_RATIO = 100                          # inflated / compressed, per member (Apache POI's default)
ZIP_RATIO_GRACE_BYTES = 1024 * 1024          # small members may compress better than that
ZIP_KEEP_BYTES = 256                         # of the `mimetype` member, which ODF needs to read
_CHUNK = 64 * 1024
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")   # local file header (30 bytes)


class UploadRejected(InvalidInput):
    """The file cannot be accepted; str(error) says why, in the user's language."""


class FileTooLarge(UploadRejected, UploadTooLarge):
    """The file is over the size limit (answered with 413, whatever the language)."""


class _NotAZip(Exception):
    """The bytes are not a zip archive that we can read safely."""


class _ZipTooBig(Exception):
    """The archive would unpack to more than we accept (a "zip bomb")."""


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


def _looks_like(ext: str, head: bytes, stream: BinaryIO, name: str) -> bool:
    if ext == "pdf":
        return head.startswith(b"%PDF-")
    if ext in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext == "txt":
        return _is_utf8_text(stream)
    if ext in _OOXML_PART or ext in _ODF_MIME:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            names, mimetype = _inspect_zip(stream)
        except _ZipTooBig:
            raise UploadRejected(str(_l(
                "%(name)s unpacks to far more data than a real document, or has too many parts. "
                "Save it again from its program, or send it as a PDF.", name=name))) from None
        except (_NotAZip, zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError):
            return False
        if ext in _OOXML_PART:
            return "[Content_Types].xml" in names and any(n.startswith(_OOXML_PART[ext]) for n in names)
        return mimetype is not None and mimetype.strip() == _ODF_MIME[ext]
    return False


def _is_utf8_text(stream: BinaryIO) -> bool:
    """UTF-8 without NUL bytes, read in chunks (never the whole file at once)."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(_CHUNK):
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _directory_size(stream: BinaryIO, size: int) -> tuple[int, int]:
    try:
        return zipcheck.directory_size(stream, size)
    except zipcheck.NotAZip:
        raise _NotAZip() from None


def _inspect_zip(stream: BinaryIO) -> tuple[list[str], bytes | None]:
    """Check a zip archive member by member with bounded memory.

    Returns the member names and the first bytes of the `mimetype` member (None without one).
    Raises _ZipTooBig for too many members, a directory too large, a member that inflates
    beyond what it declares or at an extreme ratio, or too much data in all; _NotAZip (or
    zipfile's and zlib's own errors) for anything that is not a plain, readable archive.
    """
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    entries, directory_bytes = _directory_size(stream, size)
    if entries > ZIP_MAX_MEMBERS or directory_bytes > ZIP_MAX_DIRECTORY_BYTES:
        raise _ZipTooBig()
    stream.seek(0)
    with zipfile.ZipFile(stream) as archive:
        members = archive.infolist()
    if len(members) > ZIP_MAX_MEMBERS:
        raise _ZipTooBig()
    if sum(member.file_size for member in members) > ZIP_MAX_UNPACKED_BYTES:
        raise _ZipTooBig()
    unpacked = 0
    mimetype = None
    for member in members:
        _check_ratio(member.file_size, member.compress_size)
        kept = _inflate_member(stream, member, budget=ZIP_MAX_UNPACKED_BYTES - unpacked)
        unpacked += member.file_size
        if member.filename == "mimetype":
            mimetype = kept
    return [member.filename for member in members], mimetype


def _check_ratio(inflated: int, compressed: int) -> None:
    if inflated > ZIP_RATIO_GRACE_BYTES and inflated > ZIP_MAX_RATIO * max(compressed, 1):
        raise _ZipTooBig()


def _inflate_member(stream: BinaryIO, member: zipfile.ZipInfo, *, budget: int) -> bytes:
    """Inflate one member in chunks, counting the real bytes. Returns its first ZIP_KEEP_BYTES.

    Raises _ZipTooBig when it inflates to more than it declares, more than the budget or at
    an extreme ratio; _NotAZip for encryption, an unknown method, a bad header or checksum.
    """
    if member.flag_bits & 0x1 or member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _NotAZip()
    stream.seek(member.header_offset)
    header = stream.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size:
        raise _NotAZip()
    signature, *_fields, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    if signature != b"PK\x03\x04":
        raise _NotAZip()
    stream.seek(member.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if member.compress_type == zipfile.ZIP_DEFLATED else None
    left = member.compress_size
    real = 0
    crc = 0
    kept = b""
    pending = b""
    while True:
        if not pending and left > 0:
            pending = stream.read(min(_CHUNK, left))
            if not pending:
                raise _NotAZip()  # the archive ends inside this member
            left -= len(pending)
        if inflater is None:
            if not pending:
                break
            piece, pending = pending, b""
        else:
            if inflater.eof:
                break
            # At most one chunk out per call, whatever the input would inflate to.
            piece = inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            if not piece and not pending and left <= 0:
                break
        real += len(piece)
        if real > member.file_size or real > budget:
            raise _ZipTooBig()
        _check_ratio(real, member.compress_size)
        crc = zlib.crc32(piece, crc)
        if len(kept) < ZIP_KEEP_BYTES:
            kept += piece[:ZIP_KEEP_BYTES - len(kept)]
    if inflater is not None and not inflater.eof:
        raise _NotAZip()
    if real != member.file_size or crc != member.CRC:
        raise _NotAZip()
    return kept


def check_file(filename: str, stream: BinaryIO, *, allowed: list[str], max_bytes: int) -> tuple[str, int]:
    """Check a file's name, size and content. Returns (extension, size).

    Raises FileTooLarge over max_bytes, and UploadRejected for an empty file, a type not allowed
    here, bytes that are not what the extension says (an executable renamed to .pdf, say), or an
    office document that would unpack to far more than it should (a "zip bomb"). Memory use
    stays small whatever the file holds: nothing is read whole.
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
        raise FileTooLarge(str(_l("%(name)s is larger than %(mb)s MB.", name=name,
                                  mb=round(max_bytes / 1024 / 1024, 1))))
    head = stream.read(16)
    if not _looks_like(ext, head, stream, name):
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
