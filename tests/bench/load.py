"""The load benchmark (issue 18): gunicorn with deploy/gunicorn.conf.py, on loopback only.

    .venv/bin/python -m tests.bench.load                       # SQLite in a temporary folder
    .venv/bin/python -m tests.bench.load --database-url postgresql://postgres@127.0.0.1:5432/DB
    .venv/bin/python -m tests.bench.load --app-root /path/to/other/checkout   # "before" figures

The PostgreSQL database is emptied first (its public schema is dropped). Every step is
bounded: the learners' scenario is a fixed number of requests, wrk runs for a fixed number of
seconds, each HTTP request times out after 60 s, and the servers are stopped (SIGTERM, then
SIGKILL) whatever happens. Only 127.0.0.1 is contacted.

Steps: migrate, sync the shipped courses, make a signing key and N learners (real password
hashing), start gunicorn (WEB_CONCURRENCY workers, default 4); then

1. N learners at once (a barrier releases them together): sign in (GET and POST /login),
   course page, lesson, mark it done, next lesson — latency per request, sign-in separately;
2. wrk on one signed-in learner's lesson page at each connection count;
3. the same wrk runs against bare_app.py (a 5 KB Flask route) under the same gunicorn settings.

CPU per request is the server's CPU time (master and workers, including workers that exited
and were reaped) over the requests served, read from /proc: it does not count the load
generator. RSS is each worker's resident memory after the runs.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
HOST = "127.0.0.1"
TIMEOUT = 60
PASSWORD = "bench-password-2025"
TICKS = os.sysconf("SC_CLK_TCK")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

MAKE_LEARNERS = r"""
import json, sys
from sqlalchemy import select
from app import create_app
from app.auth.services import create_user
from app.content.models import Course, Item
from app.extensions import db
from app.learning.services import enrol

count, password = int(sys.argv[1]), sys.argv[2]
app = create_app()
with app.app_context():
    courses = db.session.scalars(select(Course).where(Course.retired_at.is_(None)).order_by(Course.slug)).all()
    chosen = None
    for course in courses:
        items = db.session.scalars(select(Item).where(Item.course_id == course.id, Item.retired_at.is_(None))
                                   .order_by(Item.position)).all()
        # The first course that starts with a lesson and has another (courses now put a quiz
        # after each lesson: the second lesson need not be the second item).
        found = [item.slug for item in items if item.kind == "lesson"]
        if items and items[0].kind == "lesson" and len(found) >= 2:
            chosen, lessons = course, found[:2]
            break
    emails = []
    for n in range(count):
        user = create_user(f"bench{n}@example.org", name=f"Bench Learner {n}", password=password, locale="en")
        db.session.flush()
        enrol(user, chosen)
        emails.append(user.email)
    db.session.commit()
    print(json.dumps({"course": chosen.slug, "lessons": lessons, "emails": emails}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def proc_cpu(pid: int, children: bool = False) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: reaped workers
    return ticks / TICKS


def child_pids(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Gunicorn:
    """gunicorn -c deploy/gunicorn.conf.py APP, bound to 127.0.0.1:port."""

    def __init__(self, app_root: Path, target: str, env: dict[str, str], workers: int, log: Path):
        self.port = free_port()
        self.env = {**env, "NERGI_BIND": f"{HOST}:{self.port}", "WEB_CONCURRENCY": str(workers),
                    "BASE_URL": f"http://{HOST}:{self.port}"}
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [str(app_root / ".venv/bin/gunicorn"), "-c", "deploy/gunicorn.conf.py", target],
            cwd=app_root, env=self.env, stdout=self.log, stderr=self.log, start_new_session=True)
        self.workers = workers

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}); see {self.log.name}")
            if len(child_pids(self.process.pid)) >= self.workers:
                try:
                    conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                    conn.request("GET", "/healthz" if "wsgi" in " ".join(self.process.args) else "/")
                    conn.getresponse().read()
                    conn.close()
                    return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start in 90 s")

    def cpu(self) -> float:
        return proc_cpu(self.process.pid, children=True) + sum(proc_cpu(p) for p in child_pids(self.process.pid))

    def worker_rss(self) -> list[float]:
        return [rss_mb(pid) for pid in child_pids(self.process.pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(35)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.log.close()


class Browser:
    """One learner: a keep-alive connection and the session cookie."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
        self.cookies: dict[str, str] = {}
        self.timings: list[tuple[str, float, int]] = []

    def request(self, label: str, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            status = response.status
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
        except (OSError, http.client.HTTPException):
            self.conn.close()
            status, text = 599, ""
        self.timings.append((label, time.perf_counter() - started, status))
        return status, text

    def csrf(self, path: str, label: str) -> str:
        status, text = self.request(label, "GET", path)
        found = CSRF.search(text)
        return found.group(1) if found else ""

    def sign_in(self, email: str) -> bool:
        token = self.csrf("/login", "login page")
        status, _ = self.request("sign in", "POST", "/login",
                                 {"csrf_token": token, "email": email, "password": PASSWORD})
        return status == 302


def scenario(port: int, email: str, course: str, lessons: list[str], barrier: threading.Barrier) -> Browser:
    browser = Browser(port)
    barrier.wait(TIMEOUT)
    if not browser.sign_in(email):
        return browser
    browser.request("course", "GET", f"/courses/{course}")
    token = browser.csrf(f"/courses/{course}/{lessons[0]}", "lesson")
    browser.request("mark done", "POST", f"/courses/{course}/{lessons[0]}/done", {"csrf_token": token})
    browser.request("lesson", "GET", f"/courses/{course}/{lessons[1]}")
    return browser


EXPECTED = {"login page": 200, "sign in": 302, "course": 200, "lesson": 200, "mark done": 302}


def run_learners(server: Gunicorn, learners: dict) -> dict:
    emails = learners["emails"]
    barrier = threading.Barrier(len(emails))
    results: list[Browser] = []
    lock = threading.Lock()

    def one(email):
        browser = scenario(server.port, email, learners["course"], learners["lessons"], barrier)
        with lock:
            results.append(browser)

    cpu_before, started = server.cpu(), time.perf_counter()
    threads = [threading.Thread(target=one, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 6)
    wall, cpu = time.perf_counter() - started, server.cpu() - cpu_before
    timings = [t for browser in results for t in browser.timings]
    errors = sum(1 for label, _s, status in timings if status != EXPECTED[label])
    sign_ins = [s for label, s, _st in timings if label == "sign in"]
    everything = [s for _l, s, _st in timings]
    return {"learners": len(emails), "requests": len(timings), "errors": errors, "wall_s": wall,
            "cpu_ms_per_request": 1000 * cpu / max(1, len(timings)),
            "sign_in_p50_ms": 1000 * percentile(sign_ins, 0.50),
            "sign_in_p95_ms": 1000 * percentile(sign_ins, 0.95),
            "p50_ms": 1000 * percentile(everything, 0.50), "p95_ms": 1000 * percentile(everything, 0.95),
            "p99_ms": 1000 * percentile(everything, 0.99)}


WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str | None) -> float:
    if text is None:  # wrk prints no such line (too few requests)
        return float("nan")
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()
    return float(number) * WRK_UNITS[unit]


def run_wrk(server: Gunicorn, path: str, connections: int, seconds: int, cookie: str | None) -> dict:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s", "--latency"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command.append(f"http://{HOST}:{server.port}{path}")
    cpu_before = server.cpu()
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    if os.environ.get("NERGI_BENCH_LOAD_VERBOSE"):
        print(output)
    cpu = server.cpu() - cpu_before
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    latency = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)\s*$", output, re.M))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return {"connections": connections, "requests": requests,
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "cpu_ms_per_request": 1000 * cpu / max(1, requests),
            "p50_ms": _ms(latency.get("50")), "p90_ms": _ms(latency.get("90")),
            "p99_ms": _ms(latency.get("99")),
            "errors": errors}


def prepare(app_root: Path, work: Path, database_url: str | None, learners: int) -> tuple[dict, dict]:
    instance = work / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("FLASK_", "NERGI_", "DATABASE_URL", "REDIS_URL"))}
    env.update({"SECRET_KEY": "bench-secret-key-" + "x" * 40, "NERGI_INSTANCE_PATH": str(instance),
                "DATABASE_URL": database_url or f"sqlite:///{instance / 'nergi.db'}",
                "SIGNING_KEY_PATH": str(instance / "signing-key.pem"), "LOG_LEVEL": "WARNING",
                "COURSES_DIR": str(app_root / "courses"), "UPLOAD_FOLDER": str(instance / "uploads")})
    if database_url:
        subprocess.run([str(app_root / ".venv/bin/python"), "-c",
                        "import sys; from sqlalchemy import create_engine, text\n"
                        "from app.config import normalise_database_url\n"
                        "e = create_engine(normalise_database_url(sys.argv[1]))\n"
                        "with e.begin() as c:\n"
                        "    c.execute(text('DROP SCHEMA public CASCADE')); c.execute(text('CREATE SCHEMA public'))\n",
                        database_url], cwd=app_root, env=env, check=True, timeout=120)
    flask = [str(app_root / ".venv/bin/flask"), "--app", "wsgi"]
    for args in (["db", "upgrade"], ["courses", "sync"], ["certificates", "keygen"]):
        subprocess.run(flask + args, cwd=app_root, env=env, check=True, timeout=600,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    made = subprocess.run([str(app_root / ".venv/bin/python"), "-c", MAKE_LEARNERS, str(learners), PASSWORD],
                          cwd=app_root, env=env, check=True, timeout=900, capture_output=True, text=True)
    return env, json.loads(made.stdout.strip().splitlines()[-1])


def signed_in_cookie(server: Gunicorn, email: str, course: str, lesson: str) -> str:
    browser = Browser(server.port)
    assert browser.sign_in(email), "the benchmark learner could not sign in"
    status, text = browser.request("lesson", "GET", f"/courses/{course}/{lesson}")
    assert status == 200 and "<main" in text, f"lesson page answered {status}"
    return "; ".join(f"{k}={v}" for k, v in browser.cookies.items())


def run(app_root: Path, database_url: str | None, learners: int, workers: int, seconds: int,
        connections: list[int], out=sys.stdout) -> dict:
    figures: dict = {"app_root": str(app_root), "database": "postgresql" if database_url else "sqlite",
                     "workers": workers}
    with tempfile.TemporaryDirectory(prefix="nergi-load-") as tmp:
        work = Path(tmp)
        env, made = prepare(app_root, work, database_url, learners)
        server = Gunicorn(app_root, "wsgi:app", env, workers, work / "gunicorn.log")
        try:
            server.wait_ready()
            figures["learners"] = run_learners(server, made)
            cookie = signed_in_cookie(server, made["emails"][0], made["course"], made["lessons"][0])
            lesson = f"/courses/{made['course']}/{made['lessons'][0]}"
            run_wrk(server, lesson, 4, 2, cookie)  # warm every worker
            figures["lesson"] = [run_wrk(server, lesson, c, seconds, cookie) for c in connections]
            figures["rss_mb"] = server.worker_rss()
        finally:
            server.stop()
        bare_env = {**env, "PYTHONPATH": str(HERE.parent)}
        bare = Gunicorn(app_root, "bare_app:app", bare_env, workers, work / "bare.log")
        try:
            bare.wait_ready()
            run_wrk(bare, "/", 4, 2, None)
            figures["bare"] = [run_wrk(bare, "/", c, seconds, None) for c in connections]
            figures["bare_rss_mb"] = bare.worker_rss()
        finally:
            bare.stop()
    report(figures, out)
    return figures


def report(figures: dict, out) -> None:
    print(f"\n== load benchmark: {figures['database']}, {figures['workers']} workers, {figures['app_root']}",
          file=out)
    people = figures["learners"]
    print(f"{people['learners']} learners at once: {people['requests']} requests, {people['errors']} errors, "
          f"{people['wall_s']:.1f} s; sign-in p50 {people['sign_in_p50_ms']:.0f} ms, p95 "
          f"{people['sign_in_p95_ms']:.0f} ms; all requests p50/p95/p99 {people['p50_ms']:.0f}/"
          f"{people['p95_ms']:.0f}/{people['p99_ms']:.0f} ms; {people['cpu_ms_per_request']:.1f} ms CPU per request",
          file=out)
    print("page | conns | req/s | CPU ms/req | p50 | p90 | p99 ms | errors | CPU ratio to bare", file=out)
    for lesson, bare in zip(figures["lesson"], figures["bare"], strict=True):
        for name, row in (("lesson", lesson), ("bare", bare)):
            ratio = row["cpu_ms_per_request"] / bare["cpu_ms_per_request"]
            print(f"{name} | {row['connections']} | {row['rps']:.0f} | {row['cpu_ms_per_request']:.2f} | "
                  f"{row['p50_ms']:.1f} | {row['p90_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']} | "
                  f"{ratio:.1f}x", file=out)
    print("worker RSS after load, MB: lesson " + ", ".join(f"{v:.0f}" for v in figures["rss_mb"])
          + "; bare " + ", ".join(f"{v:.0f}" for v in figures["bare_rss_mb"]), file=out)
    print("JSON " + json.dumps(figures), file=out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--app-root", type=Path, default=ROOT, help="the checkout to serve (its .venv)")
    parser.add_argument("--database-url", help="PostgreSQL database to EMPTY and use (default: SQLite)")
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", default="16,64")
    args = parser.parse_args(argv)
    run(args.app_root.resolve(), args.database_url, args.learners, args.workers, args.seconds,
        [int(c) for c in args.connections.split(",")])


if __name__ == "__main__":
    main()
