"""Benchmark: the trainer's dashboard at 100, 1,000 and 5,000 learners × 40 items, and enrolling
10,000 people from one CSV file.

Not part of the default test run (pyproject's addopts ignore tests/bench). Run it with

    cd /work/main && .venv/bin/pytest tests/bench/test_dashboard_bench.py -s -o addopts=''

It builds, in a fresh migrated SQLite database (or in NERGI_BENCH_DATABASE_URL, e.g. a
PostgreSQL database that may be emptied), three cohorts of two courses with 20 items each
(12 lessons, 4 quizzes, 4 assignments), with 100, 1,000 and 5,000 learners, 1 mentor per 25
learners, and generated activity: each learner is somewhere along the courses (lessons done,
1–3 quiz attempts, submissions in every state with revisions and reviews). Bulk inserts, so
the set-up itself takes a few seconds.

For each cohort it measures, signed in as its trainer through the test client: the dashboard
(the first page of 50 learners), a filtered and sorted page further on, a learner's page, the
progress and rubric exports, the completion chart's page (its figures) and the chart itself
(drawn, then from the cache) — the median of 5 GETs after a warm-up, in wall-clock time and in
the process's CPU time (the test client and SQLite run in this process) — and, in a separate GET under tracemalloc, the peak
of Python memory allocated while serving the dashboard. Then it times the preview and the
confirm of a 10,000-row roster (new people: accounts, invitation tokens, outbox messages,
memberships, enrolments), the confirm going in parts of CONFIRM_BATCH rows.

Figures are printed, never asserted: wall-clock time depends on the machine. The asserts are
about correctness: every page answers 200 and the dashboard's query count is the same for every
size. The figures go into docs/performance.md ("Trainer dashboard").
"""
from __future__ import annotations

import gc
import io
import os
import random
import statistics
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import event, insert, select, text

from app import create_app
from app.assignments.models import MentorLink, Review, Revision, Submission
from app.auth.models import User
from app.auth.services import create_user
from app.cohorts import enrolment
from app.cohorts.models import Cohort, CohortCourse, Membership
from app.config import normalise_database_url
from app.content.models import Course, Item, ItemTranslation
from app.learning.models import Progress
from app.learning.models import Enrolment
from app.extensions import db
from app.quizzes.models import QuizAttempt

SIZES = tuple(int(n) for n in os.environ.get("NERGI_BENCH_SIZES", "100,1000,5000").split(","))
KINDS = ("lesson", "lesson", "lesson", "quiz", "lesson", "assignment") * 3 + ("lesson", "quiz")  # 20 per course
ENROL_ROWS = int(os.environ.get("NERGI_BENCH_ENROL_ROWS", "10000"))
PASSWORD = "correct horse battery"
NOW = datetime.now(timezone.utc)
REPEATS = 5


def _make_app(tmp_path: Path):
    url = os.environ.get("NERGI_BENCH_DATABASE_URL")
    if url:
        url = normalise_database_url(url)
        from sqlalchemy import create_engine

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-tests",
        "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "RATELIMIT_ENABLED": False,
        "BASE_URL": "http://nergi.test", "SERVER_NAME": None,
        "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp_path / 'bench.db'}",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"), "SIGNING_KEY_PATH": str(tmp_path / "signing-key.pem"),
    })
    with app.app_context():
        flask_migrate.upgrade()
    return app


def _courses() -> list[list[tuple[int, str]]]:
    """Two courses of 20 items; returns [(item id, kind)] per course."""
    courses = []
    for number in (1, 2):
        course = Course(slug=f"bench-{number}", source_hash="x", titles={"en": f"Course {number}"},
                        summaries={}, languages=["en"], is_open=True, completion={})
        db.session.add(course)
        db.session.flush()
        items = []
        for position, kind in enumerate(KINDS):
            item = Item(course_id=course.id, slug=f"item{position + 1}", kind=kind, position=position, required=True)
            db.session.add(item)
            db.session.flush()
            db.session.add(ItemTranslation(item_id=item.id, lang="en", title=f"{kind.title()} {position + 1}",
                                           html="", objectives=[], source_hash="x",
                                           data={"rubric": [{"id": "participation", "title": "Participation"}]}
                                           if kind == "assignment" else {}))
            items.append((item.id, kind))
        courses.append((course.id, items))
    db.session.commit()
    return courses


def _people(prefix: str, count: int) -> list[int]:
    rows = [{"email": f"{prefix}{n}@bench.example", "name": f"{prefix.title()} {n:05d}", "locale": "en",
             "municipality": ("Marneuli", "Bolnisi", "Tsalka", "Dmanisi")[n % 4], "organisation": "CSO",
             "is_admin": False, "is_active_account": True, "session_version": 1, "created_at": NOW}
            for n in range(count)]
    return list(db.session.execute(insert(User).returning(User.id), rows).scalars())


def _cohort(size: int, courses, rng: random.Random) -> tuple[int, str]:
    """A cohort of `size` learners with activity; returns (cohort id, trainer e-mail)."""
    trainer = create_user(f"trainer{size}@bench.example", name=f"Trainer {size}", password=PASSWORD)
    cohort = Cohort(name=f"Bench {size}", language="en", municipality="Marneuli")
    db.session.add(cohort)
    db.session.flush()
    db.session.add_all(CohortCourse(cohort_id=cohort.id, course_id=course_id) for course_id, _ in courses)
    learners = _people(f"l{size}x", size)
    mentors = _people(f"m{size}x", max(1, size // 25))
    rows = ([{"cohort_id": cohort.id, "user_id": trainer.id, "role": "trainer", "created_at": NOW}]
            + [{"cohort_id": cohort.id, "user_id": u, "role": "mentor", "created_at": NOW} for u in mentors]
            + [{"cohort_id": cohort.id, "user_id": u, "role": "learner", "created_at": NOW - timedelta(days=90)}
               for u in learners])
    db.session.execute(insert(Membership), rows)
    db.session.execute(insert(MentorLink), [{"mentor_id": mentors[n % len(mentors)], "learner_id": u,
                                             "cohort_id": cohort.id, "created_at": NOW}
                                            for n, u in enumerate(learners)])
    db.session.execute(insert(Enrolment), [{"user_id": u, "course_id": c, "enrolled_at": NOW}
                                           for u in learners for c, _ in courses])
    _activity(learners, mentors, courses, rng, cohort.id)
    db.session.commit()
    return cohort.id, trainer.email


def _activity(learners, mentors, courses, rng: random.Random, cohort_id: int) -> None:
    items = [pair for _, course_items in courses for pair in course_items]
    progress, attempts, submissions = [], [], []
    for n, user in enumerate(learners):
        reached = int(len(items) * min(1.0, rng.betavariate(2, 2) * 1.3))
        for index, (item_id, kind) in enumerate(items[:reached + 1]):
            when = NOW - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440))
            done = index < reached
            if kind == "quiz":
                tries = rng.randint(1, 3)
                for number in range(1, tries + 1):
                    passed = done and number == tries
                    attempts.append({"user_id": user, "item_id": item_id, "number": number, "lang": "en", "seed": 1,
                                     "state": "finished", "answers": {}, "sequence": 1, "results": {},
                                     "content_hash": "", "started_at": when, "finished_at": when,
                                     "percent": float(rng.randint(60, 100) if passed else rng.randint(0, 59)),
                                     "passed": passed})
            elif kind == "assignment":
                state = "approved" if done else rng.choice(("draft", "submitted", "changes_requested"))
                submissions.append({"user_id": user, "item_id": item_id, "cohort_id": cohort_id, "state": state,
                                    "draft_body": "",
                                    "created_at": when, "updated_at": when,
                                    "submitted_at": None if state == "draft" else when, "version": 1})
            if done:
                progress.append({"user_id": user, "item_id": item_id, "completed_at": when})
    db.session.execute(insert(Progress), progress)
    db.session.execute(insert(QuizAttempt), attempts)
    ids = list(db.session.execute(insert(Submission).returning(Submission.id, Submission.state,
                                                               Submission.submitted_at, sort_by_parameter_order=True),
                                  submissions))
    sent = [(sid, state, at) for sid, state, at in ids if state != "draft"]
    revisions = list(db.session.execute(insert(Revision).returning(Revision.id, sort_by_parameter_order=True), [
        {"submission_id": sid, "number": 1, "body": "", "form_token": f"bench-{sid}", "submitted_at": at}
        for sid, _, at in sent]).scalars())
    db.session.execute(insert(Review), [
        {"revision_id": rid, "mentor_id": rng.choice(mentors), "scores": {"participation": rng.randint(0, 2)},
         "total": 2, "feedback": "", "decision": "approve" if state == "approved" else "request_changes",
         "sent_at": at + timedelta(hours=rng.randint(1, 96))}
        for rid, (_, state, at) in zip(revisions, sent) if state in ("approved", "changes_requested")])


class Statements:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, *args):
        # As tests/conftest.py's count_queries: transaction control and PRAGMAs are not queries.
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")):
            self.count += 1


def _timed(client, url: str) -> tuple[float, float, int]:
    """Median wall-clock and CPU seconds of REPEATS GETs after a warm-up, and the answer's size.

    The test client serves in this process and SQLite runs in it too, so the process's CPU time
    is the work of the request, whatever else the machine is doing.
    """
    response = client.get(url)
    assert response.status_code == 200, url
    wall, cpu = [], []
    for _ in range(REPEATS):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), len(response.data)


def _peak(client, url: str) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        assert client.get(url).status_code == 200
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _roster(rows: int) -> bytes:
    names = ("ნინო ბერიძე", "Արմեն Սարգսյան", "Aygün Məmmədova", "Анна Иванова", "Giorgi Lomidze")
    lines = ["name;email;language;municipality;organisation;role"]
    lines += [f"{names[n % 5]} {n};person{n}@enrol.example;{('ka', 'hy', 'az', 'ru', 'en')[n % 5]};Marneuli;CSO {n % 40};"
              f"{'mentor' if n % 50 == 0 else 'learner'}" for n in range(rows)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_dashboard_bench(tmp_path: Path) -> None:
    from app.cohorts import charts

    app = _make_app(tmp_path)
    rng = random.Random(2025)
    print(f"\n== machine: {os.cpu_count()} CPUs; load average at start {os.getloadavg()[0]:.2f}; "
          f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}")
    with app.app_context():
        start = time.perf_counter()
        courses = _courses()
        cohorts = {size: _cohort(size, courses, rng) for size in SIZES}
        db.session.execute(text("ANALYZE"))  # planner statistics, as a database in use has them
        db.session.commit()
        counts = {name: db.session.scalar(text(f"SELECT count(*) FROM {name}"))
                  for name in ("progress", "quiz_attempt", "submission", "review")}
        print(f"== data: {sum(SIZES):,} learners in {len(SIZES)} cohorts, 2 courses x 20 items; "
              f"{', '.join(f'{v:,} {k}' for k, v in counts.items())} rows; set-up {time.perf_counter() - start:.1f} s")
        engine = db.engine
    statements = Statements(engine)
    print("== learners  page                          wall       CPU        answer     queries   tracemalloc peak")
    query_counts = set()
    for size, (cohort_id, trainer_email) in cohorts.items():
        client = app.test_client()
        assert client.post("/login", data={"email": trainer_email, "password": PASSWORD}).status_code == 302
        with app.app_context():
            learner = db.session.scalar(select(Membership.user_id).where(
                Membership.cohort_id == cohort_id, Membership.role == "learner").limit(1))
        pages = [("dashboard, page 1", f"/cohorts/{cohort_id}"),
                 ("filtered, sorted, page 3", f"/cohorts/{cohort_id}?state=changes_requested&sort=completion"
                                              f"&order=desc&municipality=Bolnisi&page=3"),
                 ("learner page", f"/cohorts/{cohort_id}/learners/{learner}"),
                 ("export progress.csv", f"/cohorts/{cohort_id}/exports/progress.csv"),
                 ("export rubric.csv", f"/cohorts/{cohort_id}/exports/rubric.csv"),
                 ("chart page (figures)", f"/cohorts/{cohort_id}/charts/completion"),
                 ("chart, from the cache", f"/cohorts/{cohort_id}/charts/completion.svg")]
        for name, url in pages:
            seconds, cpu, size_bytes = _timed(client, url)
            statements.count = 0
            assert client.get(url).status_code == 200
            queries = statements.count
            peak = _peak(client, url) if name.startswith("dashboard") else None
            if name.startswith("dashboard"):
                query_counts.add(queries)
            print(f"   {size:>7,}  {name:<28} {seconds * 1000:7.0f} ms {cpu * 1000:7.0f} ms {size_bytes / 1024:7.0f} KB"
                  f" {queries:7d}"
                  f"   {'' if peak is None else f'{peak / 1024 / 1024:.1f} MB'}")
        charts._cache.clear()
        start = time.perf_counter()
        assert client.get(f"/cohorts/{cohort_id}/charts/completion.svg").status_code == 200
        print(f"   {size:>7,}  {'chart, drawn':<28} {(time.perf_counter() - start) * 1000:7.0f} ms")
    assert len(query_counts) == 1, f"the dashboard's query count varies with the size: {query_counts}"

    # Enrolling a 10,000-row roster: preview, then confirm.
    with app.app_context():
        cohort_id, trainer_email = cohorts[SIZES[0]]
    client = app.test_client()
    client.post("/login", data={"email": trainer_email, "password": PASSWORD})
    data = _roster(ENROL_ROWS)
    start = time.perf_counter()
    response = client.post(f"/cohorts/{cohort_id}/enrol", data={"file": (io.BytesIO(data), "roster.csv")},
                           content_type="multipart/form-data")
    preview_seconds = time.perf_counter() - start
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    page = response.get_data(as_text=True)
    token = page.split('name="token" type="hidden" value="', 1)[1].split('"', 1)[0]
    form, parts, start = {"token": token}, [], time.perf_counter()
    while True:  # a large roster is confirmed in parts of CONFIRM_BATCH rows
        part_start = time.perf_counter()
        response = client.post(f"/cohorts/{cohort_id}/enrol/confirm", data=form)
        parts.append(time.perf_counter() - part_start)
        if response.status_code == 302:
            break
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        form = {name: body.split(f'name="{name}" type="hidden" value="', 1)[1].split('"', 1)[0]
                for name in ("token", "invited", "added")}
    confirm_seconds = time.perf_counter() - start
    print(f"== enrol {ENROL_ROWS:,} rows ({len(data) / 1024:.0f} KB CSV): preview {preview_seconds:.1f} s "
          f"(page {len(page) / 1024:.0f} KB, token {len(token) / 1024:.0f} KB); confirm {confirm_seconds:.1f} s "
          f"in {len(parts)} parts of at most {enrolment.CONFIRM_BATCH:,} rows (longest {max(parts):.1f} s)")
    print(f"== load average at the end: {os.getloadavg()[0]:.2f}")
    with app.app_context():
        db.engine.dispose()
    gc.collect()  # the test client's spooled upload file is closed here, not at interpreter exit
