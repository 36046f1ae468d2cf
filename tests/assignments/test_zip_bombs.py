"""Office documents are zip archives: checking one must never unpack it whole (issue 11, finding 2).

The archives here are built byte by byte, so that a member can declare one size and inflate to
another, and so that a 200 MB member costs a few hundred KB to build (repeated deflate blocks).
"""
from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
import zlib

import pytest
from sqlalchemy import func, select

from app.assignments import files
from app.assignments.models import Attachment, Submission
from app.extensions import db

MB = 1024 * 1024
ODT_MIME = b"application/vnd.oasis.opendocument.text"
MEMORY_BUDGET = 50 * MB


def deflated_zeros(megabytes: int) -> tuple[bytes, int]:
    """A raw deflate stream of `megabytes` MB of zero bytes, and their CRC-32, built cheaply:
    after a full flush, each 1 MB block compresses to the same bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = bytes(MB)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert first == again
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    return first * megabytes + compressor.flush(), crc


def deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def raw_zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip archive from (name, stored payload, method, CRC-32, declared uncompressed size)."""
    out = io.BytesIO()
    directory = io.BytesIO()
    for name, payload, method, crc, declared in entries:
        offset = out.tell()
        encoded = name.encode()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(payload),
                              declared, len(encoded), 0) + encoded + payload)
        directory.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc,
                                    len(payload), declared, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    start = out.tell()
    out.write(directory.getvalue())
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                          len(directory.getvalue()), start, 0))
    return out.getvalue()


def odt_with_mimetype(payload: bytes, crc: int, declared: int) -> bytes:
    return raw_zip([("mimetype", payload, zipfile.ZIP_DEFLATED, crc, declared),
                    ("content.xml", b"<office:document-content/>", zipfile.ZIP_STORED,
                     zlib.crc32(b"<office:document-content/>"), 26)])


def real_odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", ODT_MIME)
        archive.writestr("content.xml", "<office:document-content>" + "text " * 20_000 + "</office:document-content>",
                         compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def real_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>" + "<w:p>Civil society</w:p>" * 5_000 + "</w:document>")
        archive.writestr("word/media/image1.png", bytes(range(256)) * 100)
    return buffer.getvalue()


def check(app, name: str, data: bytes, allowed=("odt", "docx", "xlsx", "pptx", "ods")):
    """Run check_file under tracemalloc; returns (outcome, peak bytes)."""
    with app.test_request_context():
        stream = io.BytesIO(data)
        tracemalloc.start()
        try:
            outcome = files.check_file(name, stream, allowed=list(allowed), max_bytes=25 * MB)
        except files.UploadRejected as error:
            outcome = error
        finally:
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    return outcome, peak


def test_real_documents_still_pass(app):
    for name, data in (("report.odt", real_odt()), ("report.docx", real_docx())):
        outcome, peak = check(app, name, data)
        assert outcome == (name.rsplit(".", 1)[1], len(data)), outcome
        assert peak < 5 * MB


def test_a_member_declaring_its_true_huge_size_is_never_read_whole(app):
    """The audit's case: `mimetype` honestly declares 200 MB, compressed about 1000:1."""
    payload, crc = deflated_zeros(200)
    data = odt_with_mimetype(payload, crc, 200 * MB)
    assert len(data) < MB
    outcome, peak = check(app, "bomb.odt", data)
    assert isinstance(outcome, files.UploadRejected)
    assert "bomb.odt unpacks to far more data than a real document" in str(outcome)
    assert peak < MEMORY_BUDGET


def test_a_member_that_inflates_beyond_what_it_declares_is_refused(app):
    """Declares 39 bytes (with the CRC of what the first 39 bytes will be), inflates to 64 MB."""
    payload, _crc = deflated_zeros(64)
    data = odt_with_mimetype(payload, zlib.crc32(bytes(39)), 39)
    outcome, peak = check(app, "liar.odt", data)
    assert isinstance(outcome, files.UploadRejected) and "unpacks to far more data" in str(outcome)
    assert peak < MEMORY_BUDGET
    # The same in a .docx: every member is checked, not only the one the type test reads.
    docx = raw_zip([("[Content_Types].xml", b"<Types/>", zipfile.ZIP_STORED, zlib.crc32(b"<Types/>"), 8),
                    ("word/document.xml", payload, zipfile.ZIP_DEFLATED, zlib.crc32(bytes(39)), 39)])
    outcome, peak = check(app, "liar.docx", docx)
    assert isinstance(outcome, files.UploadRejected) and "unpacks to far more data" in str(outcome)
    assert peak < MEMORY_BUDGET


def test_extreme_ratio_many_members_and_large_totals_are_refused(app, monkeypatch):
    # A 2 MB member that compresses 1000:1 (under the total, over the ratio).
    payload, crc = deflated_zeros(2)
    ratio = raw_zip([("[Content_Types].xml", b"<Types/>", zipfile.ZIP_STORED, zlib.crc32(b"<Types/>"), 8),
                     ("word/document.xml", payload, zipfile.ZIP_DEFLATED, crc, 2 * MB)])
    assert "unpacks to far more data" in str(check(app, "ratio.docx", ratio)[0])
    # More members than any document has: refused before zipfile reads the directory.
    names = [(f"word/part{n}.xml", b"", zipfile.ZIP_STORED, 0, 0) for n in range(files.ZIP_MAX_MEMBERS + 1)]
    crowded = raw_zip([("[Content_Types].xml", b"<Types/>", zipfile.ZIP_STORED, zlib.crc32(b"<Types/>"), 8), *names])
    outcome, peak = check(app, "crowded.docx", crowded)
    assert "unpacks to far more data" in str(outcome) and peak < MEMORY_BUDGET
    # Honest members at an ordinary ratio that add up to more than the total allowed.
    monkeypatch.setattr(files, "ZIP_MAX_UNPACKED_BYTES", 100_000)
    outcome, _peak = check(app, "long.docx", real_docx())
    assert "unpacks to far more data" in str(outcome)


def test_an_end_record_that_understates_the_members_costs_little(app):
    """zipfile parses the whole directory whatever count the end record gives: its size is what
    is bounded first (1 MB: about 21,000 entries at most), then the real count."""
    entries = [("[Content_Types].xml", b"", zipfile.ZIP_STORED, 0, 0)]
    entries += [(f"word/{n:x}", b"", zipfile.ZIP_STORED, 0, 0) for n in range(20_000)]
    data = bytearray(raw_zip(entries))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 1, 1)  # "one entry"
    outcome, peak = check(app, "lying.docx", bytes(data))
    assert "unpacks to far more data" in str(outcome) and peak < 20 * MB
    struct.pack_into("<L", data, end + 12, files.ZIP_MAX_DIRECTORY_BYTES + 1)  # a directory too large
    outcome, peak = check(app, "lying.docx", bytes(data))
    assert "unpacks to far more data" in str(outcome) and peak < MB


def test_a_directory_claiming_a_zip64_record_is_not_trusted(app):
    data = bytearray(real_docx())
    end = data.rfind(b"PK\x05\x06")
    data[end:end] = struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1)  # a Zip64 locator before the end record
    outcome, _peak = check(app, "zip64.docx", bytes(data))
    assert "not a real .docx file" in str(outcome)


def test_a_bomb_sent_through_the_work_form_is_refused_in_the_learners_language(client, auth, factories, app):
    course = factories.make_course(items=("lesson", "assignment"))
    learner = factories.make_user(locale="ru")
    auth.login_as(learner)
    payload, _crc = deflated_zeros(64)
    bomb = raw_zip([("[Content_Types].xml", b"<Types/>", zipfile.ZIP_STORED, zlib.crc32(b"<Types/>"), 8),
                    ("word/document.xml", payload, zipfile.ZIP_DEFLATED, zlib.crc32(bytes(39)), 39)])
    assert len(bomb) < 100 * 1024  # under the assignment's 0.1 MB limit
    response = client.post(f"/courses/{course.slug}/item2/work", content_type="multipart/form-data",
                           data={"body": "Мой ответ ნერგი", "action": "save", "files": [(io.BytesIO(bomb), "plan.docx")]})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "plan.docx распаковывается" in body
    assert "Мой ответ ნერგი" in body
    with app.app_context():
        assert db.session.scalar(select(func.count(Attachment.id))) == 0
        assert db.session.scalar(select(Submission.draft_body)) == "Мой ответ ნერგი"
