"""The course-zip reader: layouts it accepts, and every unsafe archive it refuses."""
from __future__ import annotations

import io
import stat
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from app.content.course_zip import CourseZipError, ZipLimits, extract_course_zip, pack_course_folder


def make_zip(members: dict[str, bytes | str], *, links: dict[str, str] | None = None,
             compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data.encode() if isinstance(data, str) else data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def refused(data: bytes, tmp_path: Path, *, slug: str | None = "demo", limits: ZipLimits = ZipLimits()) -> str:
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(CourseZipError) as caught:
        extract_course_zip(data, target, expected_slug=slug, limits=limits)
    return caught.value.code


def test_folder_layout_is_unpacked_under_its_slug(tmp_path):
    data = make_zip({"demo/course.yml": "title: x\n", "demo/media/a.png": b"\x89PNG"})
    (tmp_path / "out").mkdir()
    folder = extract_course_zip(data, tmp_path / "out", expected_slug=None)
    assert folder == tmp_path / "out" / "demo"
    assert (folder / "course.yml").read_text() == "title: x\n"
    assert (folder / "media" / "a.png").read_bytes() == b"\x89PNG"


def test_files_at_the_top_take_the_expected_slug_and_hidden_files_are_skipped(tmp_path):
    data = make_zip({"course.yml": "x", "01-a.en.md": "y", "__MACOSX/._course.yml": "junk", ".DS_Store": "junk"})
    (tmp_path / "out").mkdir()
    folder = extract_course_zip(data, tmp_path / "out", expected_slug="demo")
    assert sorted(p.name for p in folder.iterdir()) == ["01-a.en.md", "course.yml"]


def test_a_zip_of_another_course_is_refused(tmp_path):
    assert refused(make_zip({"other/course.yml": "x"}), tmp_path) == "other_course"


def test_not_a_zip_and_not_a_course_folder(tmp_path):
    assert refused(b"PK\x03\x04 not really", tmp_path) == "not_zip"
    assert refused(make_zip({"a/course.yml": "x", "b/course.yml": "x"}), tmp_path / "2" if (tmp_path / "2").mkdir() is None else tmp_path) == "not_course"


@pytest.mark.parametrize("name", ["demo/../../evil.txt", "/etc/demo/course.yml", "demo/..", "demo\\..\\x",
                                  "C:/demo/course.yml", "demo//course.yml"])
def test_paths_outside_the_folder_are_refused(tmp_path, name):
    data = make_zip({"demo/course.yml": "x", name: "evil"})
    assert refused(data, tmp_path) == "path"
    assert not (tmp_path / "evil.txt").exists()
    assert list((tmp_path / "out").iterdir()) == []  # refused before anything was written


def test_symbolic_link_members_are_refused(tmp_path):
    data = make_zip({"demo/course.yml": "x"}, links={"demo/media/passwd.png": "/etc/passwd"})
    assert refused(data, tmp_path) == "link"


def test_too_many_members_are_refused_before_reading(tmp_path):
    members = {"demo/course.yml": "x", **{f"demo/media/{n}.png": b"" for n in range(20)}}
    assert refused(make_zip(members), tmp_path, limits=ZipLimits(members=10)) == "too_many"


def test_zip_bomb_is_refused_with_bounded_memory(tmp_path):
    # 200 MB of zeros compress to about 200 KB: a ratio near 1000.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("demo/course.yml", "x")
        with archive.open("demo/media/zeros.pdf", "w", force_zip64=True) as member:
            block = bytes(1024 * 1024)
            for _ in range(200):
                member.write(block)
    tracemalloc.start()
    try:
        code = refused(bomb.getvalue(), tmp_path, limits=ZipLimits(member_bytes=500 * 1024 * 1024,
                                                                   total_bytes=500 * 1024 * 1024))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == "ratio"  # refused from the declared sizes, before decompressing
    assert peak < 2 * 1024 * 1024
    # With the ratio check out of the way, the running count stops it at the size budget,
    # decompressing in small chunks.
    tracemalloc.start()
    try:
        code = refused(bomb.getvalue(), tmp_path / "again" if (tmp_path / "again").mkdir() is None else tmp_path,
                       limits=ZipLimits(ratio=10**6, member_bytes=500 * 1024 * 1024, total_bytes=5 * 1024 * 1024))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == "too_big"
    assert peak < 2 * 1024 * 1024
    written = sum(p.stat().st_size for p in (tmp_path / "again" / "out").rglob("*") if p.is_file())
    assert written <= 5 * 1024 * 1024


def test_a_member_that_lies_about_its_size_stops_at_the_budget(tmp_path):
    data = bytearray(make_zip({"demo/course.yml": "x", "demo/media/a.pdf": bytes(300_000)},
                              compression=zipfile.ZIP_STORED))
    code = refused(bytes(data), tmp_path, limits=ZipLimits(total_bytes=100_000))
    assert code == "too_big"


def test_packing_is_deterministic_and_reads_back(tmp_path):
    folder = tmp_path / "demo"
    (folder / "media").mkdir(parents=True)
    (folder / "course.yml").write_text("title: x\n")
    (folder / "media" / "a.png").write_bytes(b"\x89PNG")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref")
    first, second = pack_course_folder(folder), pack_course_folder(folder)
    assert first == second
    assert zipfile.ZipFile(io.BytesIO(first)).namelist() == ["demo/course.yml", "demo/media/a.png"]
    (tmp_path / "out").mkdir()
    again = extract_course_zip(first, tmp_path / "out", expected_slug="demo")
    assert pack_course_folder(again) == first


def test_a_directory_larger_than_its_end_record_admits_is_refused_before_zipfile_reads_it(tmp_path):
    """zipfile sizes its work by the central directory, not by the entry count the end record
    gives: 25,000 entries behind an end record that says 1 are refused from the end record's
    directory size, with little memory."""
    import io
    import struct
    import tracemalloc
    import zipfile

    from app.content.course_zip import CourseZipError, extract_course_zip

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for n in range(25_000):
            archive.writestr(f"demo/media/{n:08d}-a-rather-long-file-name.txt", b"")
    data = bytearray(buffer.getvalue())
    end = len(data) - 22
    struct.pack_into("<HH", data, end + 8, 1, 1)  # entries on this disk, entries in all
    tracemalloc.start()
    try:
        with pytest.raises(CourseZipError) as refused:
            extract_course_zip(bytes(data), tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert refused.value.code == "too_many"
    assert peak < len(data) + 5 * 1024 * 1024  # the bytes themselves, not an object per entry
    assert not any(tmp_path.iterdir())
