"""Bounds for a zip archive read from its end record, before Python's zipfile parses it.

zipfile reads the whole central directory into memory and makes one object per entry,
whatever the archive claims; both the assignment-upload check (app/assignments/files.py) and
the course-zip reader (app/content/course_zip.py) measure the directory here first.
"""
from __future__ import annotations

import io
import struct
from typing import IO

_END_RECORD = struct.Struct("<4s4H2LH")      # "end of central directory" (22 bytes)
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"


class NotAZip(Exception):
    """The bytes are not a zip archive that we can read safely."""


def directory_size(stream: IO[bytes] | io.BufferedIOBase, size: int) -> tuple[int, int]:
    """(entries, bytes) of the central directory, from the end record, before zipfile reads it.

    zipfile reads the whole directory into memory and makes an object per entry, so both are
    bounded first. Zip64 archives are refused: no document under our size limits needs one,
    and their second end record could claim a directory other than the one checked here.
    """
    tail_start = max(0, size - _END_RECORD.size - 0xFFFF)
    stream.seek(tail_start)
    tail = stream.read(size - tail_start)
    # The same search as zipfile's: the record at the very end, else the last signature.
    if tail[-_END_RECORD.size:-_END_RECORD.size + 4] == b"PK\x05\x06" and tail[-2:] == b"\x00\x00":
        at = len(tail) - _END_RECORD.size
    else:
        at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _END_RECORD.size > len(tail):
        raise NotAZip()
    _sig, _disk, _cd_disk, _here, entries, directory_bytes, _offset, _comment = \
        _END_RECORD.unpack_from(tail, at)
    locator = tail_start + at - 20
    if locator >= 0:
        stream.seek(locator)
        if stream.read(4) == _ZIP64_LOCATOR_SIGNATURE:
            raise NotAZip()
    return entries, directory_bytes
