"""Benchmark: loading and syncing a large course tree, and the weight of a lesson page.

Not part of the default test run (pyproject's addopts ignore tests/bench). Run it with

    cd /work/main && .venv/bin/pytest tests/bench/test_sync_bench.py -s -o addopts=''

It writes a tree of 50 courses x 20 items x 3 languages (en, ka, az) into a temporary
folder: 16 lessons of about 1,000 words (headings, lists, a table, admonitions, links to
other items, a footnote, a Sources section) and 4 quizzes of 5 questions per course. Then
it measures, with time.perf_counter and separately with tracemalloc's peak:

- ``load_courses`` alone (read, check and render every file; no database);
- the first ``flask courses sync`` into an empty, migrated SQLite database;
- a second ``courses sync`` with nothing changed.

Times are taken in a pass without tracemalloc (tracing slows Python down several times);
peaks in a second pass with tracemalloc, into a second empty database. Finally it signs in
and GETs one lesson (en and ka) and prints the size of the HTML and of app/static/nergi.css.

The whole run takes about 13 minutes on 2 cores. Figures are printed, never asserted:
wall-clock time depends on the machine. The asserts
are about correctness only (every course loads, the first sync adds them all, the second
has nothing to do, the lesson page is served). Set NERGI_BENCH_COURSES to a smaller
number for a quick try. The figures go into docs/performance.md.
"""
from __future__ import annotations

import gc
import gzip
import os
import random
import statistics
import time
import tracemalloc
from pathlib import Path

import flask_migrate
import pytest

from app import create_app
from app.content.loader import load_courses
from app.extensions import db

COURSES = int(os.environ.get("NERGI_BENCH_COURSES", "50"))
ITEMS = 20
LANGS = ("en", "ka", "az")
QUIZ_EVERY = 5  # items 5, 10, 15 and 20 are quizzes
LESSON_WORDS = 1000
PASSWORD = "correct horse battery"

# Small vocabularies per language, so that the byte sizes are realistic: Georgian letters take
# three bytes in UTF-8, Azerbaijani ones mostly one or two.
WORDS = {
    "en": ("the municipality council budget citizens rights duty bearers participation petition "
           "transparency accountability equality access service social local government community "
           "decision meeting public information plan report youth organisation women village water "
           "school road health data principle law assembly mayor support needs voice change").split(),
    "ka": ("მუნიციპალიტეტი საკრებულო ბიუჯეტი მოქალაქეები უფლებები ვალდებულებები მონაწილეობა "
           "პეტიცია გამჭვირვალობა ანგარიშვალდებულება თანასწორობა ხელმისაწვდომობა სერვისი სოციალური "
           "ადგილობრივი ხელისუფლება თემი გადაწყვეტილება შეხვედრა საჯარო ინფორმაცია გეგმა ანგარიში "
           "ახალგაზრდები ორგანიზაცია ქალები სოფელი წყალი სკოლა გზა ჯანმრთელობა მონაცემები პრინციპი "
           "კანონი კრება მერი მხარდაჭერა საჭიროებები ხმა ცვლილება").split(),
    "az": ("bələdiyyə sakrebulo büdcə vətəndaşlar hüquqlar öhdəlik daşıyıcıları iştirak petisiya "
           "şəffaflıq hesabatlılıq bərabərlik əlçatanlıq xidmət sosial yerli hökumət icma qərar "
           "görüş ictimai məlumat plan hesabat gənclər təşkilat qadınlar kənd su məktəb yol "
           "səhiyyə məlumatlar prinsip qanun yığıncaq meriya dəstək ehtiyaclar səs dəyişiklik").split(),
}
TRUE_FALSE = {"en": ("True", "False"), "ka": ("სწორია", "მცდარია"), "az": ("Doğru", "Yanlış")}


# -- the generated tree ----------------------------------------------------------------------

def _words(rng: random.Random, lang: str, count: int) -> str:
    return " ".join(rng.choice(WORDS[lang]) for _ in range(count))


def _sentence(rng: random.Random, lang: str, count: int) -> str:
    text = _words(rng, lang, count)
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, lang: str, words: int) -> str:
    sentences, left = [], words
    while left > 0:
        size = min(left, rng.randint(8, 16))
        sentences.append(_sentence(rng, lang, size))
        left -= size
    return " ".join(sentences)


def _item_slug(number: int) -> str:
    return f"quiz-{number:02d}" if number % QUIZ_EVERY == 0 else f"lesson-{number:02d}"


def _file_name(number: int, lang: str = "en") -> str:
    return f"{number:02d}-{_item_slug(number)}.{lang}.md"


def lesson_text(course: int, number: int, lang: str) -> str:
    """A lesson of about LESSON_WORDS words in ``lang``: five sections, each with paragraphs,
    and between them a bullet list, a numbered list, a table, two admonitions, links to
    other items of the course, a footnote and a Sources section."""
    rng = random.Random(f"{course}-{number}-{lang}")
    other = number - 1 if number > 1 else number + 1
    if other % QUIZ_EVERY == 0:
        other = other - 1
    quiz = ((number - 1) // QUIZ_EVERY + 1) * QUIZ_EVERY
    parts = [
        "---", "kind: lesson", f'title: "{_sentence(rng, lang, 5)[:-1]}"', f"minutes: {20 + number}",
        "objectives:", f'  - "{_sentence(rng, lang, 7)}"', f'  - "{_sentence(rng, lang, 6)}"', "---", "",
        _paragraph(rng, lang, 90), "",
    ]
    for section in range(5):
        parts += [f"## {_sentence(rng, lang, 4)[:-1]} {section + 1}", "", _paragraph(rng, lang, 70), ""]
        if section == 0:
            parts += [f"- **{_words(rng, lang, 2)}**: {_sentence(rng, lang, 10)}" for _ in range(5)] + [""]
        elif section == 1:
            parts += [f"{n}. {_sentence(rng, lang, 9)}" for n in range(1, 6)] + [""]
        elif section == 2:
            parts += ["| " + " | ".join(_words(rng, lang, 1) for _ in range(3)) + " |", "|---|---|---|"]
            parts += ["| " + " | ".join(_words(rng, lang, 3) for _ in range(3)) + " |" for _ in range(4)] + [""]
        elif section == 3:
            parts += ['!!! tip "' + _sentence(rng, lang, 3)[:-1] + '"', "    " + _paragraph(rng, lang, 40), "",
                      '!!! note ""', "    " + _paragraph(rng, lang, 30), ""]
        else:
            parts += ["!!! warning \"" + _sentence(rng, lang, 2)[:-1] + "\"", "    " + _paragraph(rng, lang, 25), ""]
        parts += [
            f"{_paragraph(rng, lang, 45)} [{_words(rng, lang, 2)}]({_file_name(other)}) "
            f"{_sentence(rng, lang, 10)} [{_words(rng, lang, 2)}]({_file_name(quiz)}) *{_words(rng, lang, 3)}*"
            + ("[^1]" if section == 4 else ""), "",
        ]
    parts += [f"## {'Sources' if lang == 'en' else _words(rng, lang, 1)}", "",
              f"- {_sentence(rng, lang, 8)} <https://example.org/{course}/{number}>",
              f"- {_sentence(rng, lang, 8)}", "", f"[^1]: {_sentence(rng, lang, 12)}", ""]
    return "\n".join(parts)


def quiz_text(course: int, number: int, lang: str) -> str:
    """A quiz of five questions (single, multiple, true-false, short, matching) in ``lang``."""
    rng = random.Random(f"{course}-{number}-{lang}")
    true, false = TRUE_FALSE[lang]
    s = lambda n: _sentence(rng, lang, n)  # noqa: E731
    return "\n".join([
        "---", "kind: quiz", f'title: "{s(4)[:-1]}"', "minutes: 10", "pass_mark: 70", "attempts: 3",
        "shuffle_options: true", "show_answers: after_passing", "---", "",
        s(15), "",
        f"## single: {s(10)} {{#duty-bearer}}", "",
        f"- [ ] {s(5)}", f"  > {s(12)}", f"- [x] {s(6)}", f"  > {s(10)}", f"- [ ] {s(4)}", f"  > {s(10)}", "",
        f"> {s(14)}", "",
        f"## multiple: {s(9)} {{#forms points=2}}", "",
        f"- [50%] {s(3)}", f"- [50%] {s(4)}", f"- [-50%] {s(5)}", f"  > {s(9)}", "",
        f"## true-false: {s(12)} {{#first}}", "",
        f"- [x] {true}", f"  > {s(8)}", f"- [ ] {false}", f"  > {s(8)}", "",
        f"## short: {s(8)} {{#council}}", "",
        f"- [x] {_words(rng, lang, 1)}", f"  > {s(4)}", "- [ ] *", f"  > {s(10)}", "",
        f"## matching: {s(6)} {{#pairs}}", "",
        f"- {s(3)} -> {s(6)}", f"- {s(3)} -> {s(7)}", f"- {s(3)} -> {s(8)}", f"-  -> {s(5)}", "",
    ])


def course_yml(course: int) -> str:
    rng = random.Random(f"course-{course}")
    lines = ["title:"] + [f'  {lang}: "{_sentence(rng, lang, 5)[:-1]} {course}"' for lang in LANGS]
    lines += ["summary:"] + [f'  {lang}: "{_sentence(rng, lang, 20)}"' for lang in LANGS]
    lines += ["estimated_hours: 8", "items:"] + [f"  - {_item_slug(n)}" for n in range(1, ITEMS + 1)]
    lines += ["completion:", "  min_average_quiz_score: 60", ""]
    return "\n".join(lines)


def write_tree(root: Path, courses: int = COURSES) -> dict[str, int]:
    """Write the tree; return counts (files, bytes, words of the base lessons)."""
    files = size = words = lessons = 0
    for course in range(1, courses + 1):
        folder = root / f"bench-course-{course:02d}"
        folder.mkdir(parents=True)
        (folder / "course.yml").write_text(course_yml(course), encoding="utf-8")
        for number in range(1, ITEMS + 1):
            for lang in LANGS:
                is_quiz = number % QUIZ_EVERY == 0
                text = quiz_text(course, number, lang) if is_quiz else lesson_text(course, number, lang)
                data = text.encode("utf-8")
                (folder / _file_name(number, lang)).write_bytes(data)
                files, size = files + 1, size + len(data)
                if lang == "en" and not is_quiz:
                    words, lessons = words + len(text.split("---", 2)[2].split()), lessons + 1
    return {"files": files, "bytes": size, "words_per_lesson": words // max(lessons, 1)}


# -- measuring ------------------------------------------------------------------------------

def _measure(function, *, traced: bool):
    """Run ``function``; return (result, seconds, peak bytes or None)."""
    gc.collect()
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    try:
        result = function()
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] if traced else None
    finally:
        if traced:
            tracemalloc.stop()
    return result, seconds, peak


def _make_app(database: Path, courses: Path, tmp_path: Path):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-tests",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "BASE_URL": "http://nergi.test",
        "SERVER_NAME": None,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "COURSES_DIR": str(courses),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "SIGNING_KEY_PATH": str(tmp_path / "signing-key.pem"),
    })
    with app.app_context():
        flask_migrate.upgrade()
    return app


def _sync(app, root: Path):
    result = app.test_cli_runner().invoke(args=["courses", "sync", str(root)])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()


def _mb(value: int | None) -> str:
    return "-" if value is None else f"{value / 1024 / 1024:.0f} MB"


def test_sync_bench(tmp_path: Path) -> None:
    root = tmp_path / "courses"
    counts = write_tree(root)
    print(f"\n== machine: {os.cpu_count()} CPUs; load average at start {os.getloadavg()[0]:.2f} "
          "(other work on the machine slows the figures down)")
    print(f"== tree: {COURSES} courses x {ITEMS} items x {len(LANGS)} languages = {counts['files']} item files, "
          f"{counts['bytes'] / 1024 / 1024:.1f} MB; base lessons of about {counts['words_per_lesson']} words")

    figures: dict[str, tuple[float, int | None]] = {}

    # Pass 1: times, no tracing.
    loaded, seconds, _ = _measure(lambda: load_courses(root), traced=False)
    assert loaded.problems == [], "\n".join(str(problem) for problem in loaded.problems[:20])
    assert len(loaded.courses) == COURSES
    figures["load_courses"] = (seconds, None)
    del loaded
    app = _make_app(tmp_path / "timed.db", root, tmp_path)
    first, seconds, _ = _measure(lambda: _sync(app, root), traced=False)
    assert sum(line.startswith("added ") for line in first) == COURSES, first[-3:]
    figures["first sync"] = (seconds, None)
    second, seconds, _ = _measure(lambda: _sync(app, root), traced=False)
    assert second == [f"nothing to do: {COURSES} course(s) unchanged"], second
    figures["second sync"] = (seconds, None)

    # Pass 2: peaks under tracemalloc, into a second empty database.
    _, traced_load, peak = _measure(lambda: load_courses(root), traced=True)
    figures["load_courses"] = (figures["load_courses"][0], peak)
    traced_app = _make_app(tmp_path / "traced.db", root, tmp_path)
    first, traced_first, peak = _measure(lambda: _sync(traced_app, root), traced=True)
    assert sum(line.startswith("added ") for line in first) == COURSES
    figures["first sync"] = (figures["first sync"][0], peak)
    second, traced_second, peak = _measure(lambda: _sync(traced_app, root), traced=True)
    assert second == [f"nothing to do: {COURSES} course(s) unchanged"]
    figures["second sync"] = (figures["second sync"][0], peak)
    with traced_app.app_context():
        db.engine.dispose()

    print("== what                 time       tracemalloc peak")
    for name, (seconds, peak) in figures.items():
        print(f"   {name:<20} {seconds:7.1f} s   {_mb(peak)}")
    print(f"   (under tracemalloc the same steps took {traced_load:.1f} s, {traced_first:.1f} s, "
          f"{traced_second:.1f} s)")

    # The lesson page, signed in, and the stylesheet.
    from app.auth import services as auth_services

    with app.app_context():
        auth_services.create_user("bench@example.org", name="Bench", password=PASSWORD)
        db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"email": "bench@example.org", "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    url = f"/courses/bench-course-01/{_item_slug(3)}"
    sizes = {}
    for lang in ("en", "ka"):
        client.post("/language", data={"lang": lang})
        response = client.get(url, headers={"Accept-Language": lang})
        assert response.status_code == 200
        html = response.get_data()
        assert b'class="admonition' in html and b"<table>" in html
        timings = []
        for _ in range(20):
            start = time.perf_counter()
            assert client.get(url).status_code == 200
            timings.append(time.perf_counter() - start)
        sizes[lang] = (len(html), len(gzip.compress(html, 6)), statistics.median(timings))
    css = Path(app.static_folder) / "nergi.css"
    css_bytes = css.read_bytes()
    print("== lesson page (GET, signed in, test client)")
    for lang, (raw, packed, median) in sizes.items():
        print(f"   {lang}: {raw:,} bytes of HTML ({packed:,} gzipped); median of 20 GETs {median * 1000:.1f} ms")
    print(f"== app/static/nergi.css: {len(css_bytes):,} bytes ({len(gzip.compress(css_bytes, 6)):,} gzipped)")
    with app.app_context():
        db.engine.dispose()  # closing the last connection checkpoints the WAL into the file
    database = sum(path.stat().st_size for path in tmp_path.glob("timed.db*"))
    print(f"== SQLite database after the sync: {database / 1024 / 1024:.1f} MB")
    print(f"== load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":  # pragma: no cover - a way to look at the generated files
    pytest.main([__file__, "-s", "-o", "addopts="])
