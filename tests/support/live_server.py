"""The app as a separate server process on loopback, for tests that kill it with SIGKILL, and a
small HTTP client with a cookie jar built on http.client (no third-party packages).

Python needs about 1.5 s to import the app, too long to pay on each of many restarts. So a
LiveServer runs a small fork server: a process that imports the application once (it builds
and drops one app object to import every module, but opens no database connection, file or
socket) and then, on each start, forks a child that builds its own app with create_app(), binds
127.0.0.1:port and serves. The test SIGKILLs that child by its pid; the fork server only reaps
it. Every start is thus a new process with its own database connections and file handles, and
nothing survives a kill but what is on disk.
"""
from __future__ import annotations

import http.client
import os
import random
import select
import signal
import socket
import subprocess
import sys
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from app.config import _ENV_SETTINGS

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Commands on stdin, one a line: "start" -> "pid <n>"; "reap <n>" -> "reaped <n> <status>".
_FORK_SERVER = r"""
import os, sys, threading, time, traceback
from app import create_app
from werkzeug.serving import make_server

# Import every module the app uses, once (the checkout may run without .pyc files). Building an
# app opens no connection and no file; this one is thrown away, each child builds its own.
create_app()


def forget_threads():
    # A helper thread (the rate limiter's 10 ms expiry timer) must be gone before fork().
    deadline = time.monotonic() + 5
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    if threading.active_count() > 1:
        sys.exit(f"fork server: threads still running: {threading.enumerate()}")


port = int(sys.argv[1])
for line in sys.stdin:
    command, _, argument = line.strip().partition(" ")
    if command == "start":
        forget_threads()
        pid = os.fork()
        if pid == 0:
            try:
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(2, 1)  # the child's output goes to the log, not to the command pipe
                server = make_server("127.0.0.1", port, create_app(), threaded=True)
                print("serving", os.getpid(), port, flush=True)
                server.serve_forever()
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(70)
        print("pid", pid, flush=True)
    elif command == "reap":
        _pid, status = os.waitpid(int(argument), 0)
        print("reaped", argument, status, flush=True)
    else:
        break
"""


def free_port() -> int:
    """A free port below the ephemeral range: while the server is down between a kill and the
    restart, no outgoing connection (ours included: a TCP self-connect) can take it."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    candidates = random.SystemRandom().sample(range(10000, low), min(50, max(low - 10000, 0)))
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """Start, SIGKILL and restart the app on 127.0.0.1:port. Always call close() (in a finally)."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None):
        self.port = port or free_port()
        # Only the settings given here: none of the developer's environment settings leak in.
        base = {k: v for k, v in os.environ.items()
                if k not in _ENV_SETTINGS
                and k not in ("FLASK_APP", "FLASK_DEBUG", "FLASK_RUN_FROM_CLI", "PYTHONWARNINGS")}
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115  (closed in close())
        self._buffer = b""
        self.pid: int | None = None  # the serving child
        self.starts = 0
        self.kills = 0
        self.events: list[tuple[float, str, int]] = []  # (time.monotonic(), "started" or "killed", pid)
        self._forker = subprocess.Popen([sys.executable, "-c", _FORK_SERVER, str(self.port)], cwd=PROJECT_ROOT,
                                        env={**base, **env}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self._log)

    def _send(self, line: str) -> None:
        self._forker.stdin.write(line.encode() + b"\n")
        self._forker.stdin.flush()

    def _reply(self, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"fork server did not answer in {timeout} s:\n{self.log_tail()}")
            ready, _, _ = select.select([self._forker.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self._forker.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError(f"fork server exited:\n{self.log_tail()}")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode().split()

    def start(self, timeout: float = 20.0) -> None:
        """Serve from a new process and wait until it accepts connections."""
        assert self.pid is None, "already running"
        self._send("start")
        word, pid = self._reply(timeout)
        assert word == "pid", (word, pid)
        self.pid = int(pid)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    self.events.append((time.monotonic(), "started", self.pid))
                    return
            except OSError:
                time.sleep(0.005)
        raise RuntimeError(f"server did not accept connections in {timeout} s:\n{self.log_tail()}")

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL the serving process and wait until it is gone."""
        pid, self.pid = self.pid, None
        if pid is None:
            return
        self.events.append((time.monotonic(), "killed", pid))
        os.kill(pid, signal.SIGKILL)
        self.kills += 1
        self._send(f"reap {pid}")
        word, reaped, status = self._reply(timeout)
        assert (word, int(reaped)) == ("reaped", pid), (word, reaped)
        assert os.WIFSIGNALED(int(status)) and os.WTERMSIG(int(status)) == signal.SIGKILL, status

    def close(self) -> None:
        try:
            if self.pid is not None and self._forker.poll() is None:
                self.kill()
        finally:
            if self.pid is not None:  # the fork server is gone; kill its child directly
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.pid = None
            if self._forker.poll() is None:
                self._forker.kill()
            self._forker.wait(timeout=10)
            self._forker.stdin.close()
            self._forker.stdout.close()
            self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Response:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class HttpClient:
    """One connection per request; cookies kept across requests and server restarts."""

    def __init__(self, port: int, timeout: float = 10.0):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Response:
        """Raises OSError (refused, reset, timed out) or http.client.HTTPException if the server dies."""
        all_headers = {"Connection": "close", "User-Agent": "nergi-live-test", **self.default_headers()}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        all_headers.update(headers or {})
        connection = self.connect()
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for raw in response.msg.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if not morsel.value or morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Response(response.status, response.msg, data)

    def connect(self) -> http.client.HTTPConnection:
        """A new connection to the server (subclasses: HTTPS, another source address)."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def default_headers(self) -> dict[str, str]:
        return {}

    def post_form(self, path: str, fields: dict[str, str]) -> Response:
        return self.request("POST", path, urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(self, path: str, parts: list[tuple]) -> Response:
        """parts, sent in this order (a browser sends them in the form's order, its submit button
        at its place): (name, value) for a text field, (name, file name, content, content type)
        for a file."""
        boundary = uuid.uuid4().hex
        marker = f"--{boundary}".encode()
        chunks: list[bytes] = []
        for part in parts:
            if len(part) == 2:
                name, value = part
                chunks += [marker, f'\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode(),
                           value.encode(), b"\r\n"]
            else:
                name, filename, content, content_type = part
                if marker in content:
                    raise ValueError("the multipart boundary occurs in the content")
                chunks += [marker, (f'\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                                    f"Content-Type: {content_type}\r\n\r\n").encode(), content, b"\r\n"]
        chunks += [marker, b"--\r\n"]
        return self.request("POST", path, b"".join(chunks),
                            {"Content-Type": f"multipart/form-data; boundary={boundary}"})
