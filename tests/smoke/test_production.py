"""The production smoke test: the deployment of docs/operations.md, started for real and checked
from outside, through nginx.

It runs `make smoke` (and the last step of .ci/run), not `make test`. It follows
docs/operations.md step for step: a PostgreSQL database, the environment file
(deploy/nergi.env.example with this machine's values), `make install`'s compiled catalogues,
`flask db upgrade`, `flask courses sync`, `flask certificates keygen`, `flask users create`,
gunicorn with deploy/gunicorn.conf.py, the worker (`flask worker`), and Debian's nginx with
deploy/nginx/nergi.conf (its paths, ports, host name and certificate replaced by the test's),
against Redis and an SMTP sink on loopback. Then it checks, over HTTPS through nginx:

1. a Georgian user sees Georgian (the compiled catalogue reached the server);
2. static files and course media come from nginx, with year-long cache headers;
3. a password reset e-mail arrives through the worker with Date and Message-ID, in the user's
   language, and its link works (new password, then sign-in);
4. two clients with different addresses (127.0.0.2 and 127.0.0.3, as nginx reports them in
   X-Forwarded-For) have separate rate-limit counters, and a forged X-Forwarded-For changes
   nothing;
5. /healthz reports the database and Redis;
6. the request log is JSON, carries nginx's request id, and no reset token.
"""
from __future__ import annotations

import datetime
import http.client
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from babel.support import Translations

from tests.support.live_server import HttpClient
from tests.support.smtp import SMTPServer, free_port, text_body

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SMOKE_DATABASE = os.environ.get("SMOKE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/nergi_smoke")
SMOKE_REDIS = os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/13")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PASSWORD = "a Georgian smoke test"
CI = os.environ.get("CI") == "true"


def _georgian(message: str) -> str:
    return Translations.load(str(ROOT / "app" / "translations"), ["ka"]).gettext(message)


# --- Set-up --------------------------------------------------------------------------------------

def _need(condition: bool, why: str) -> None:
    if not condition:
        if CI:
            pytest.fail(why)
        pytest.skip(why)


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def _fresh_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _environment_file(values: dict[str, str]) -> dict[str, str]:
    """deploy/nergi.env.example, read as systemd reads it, with this machine's values."""
    settings = {}
    for line in (ROOT / "deploy" / "nergi.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    unknown = set(values) - set(settings)
    assert not unknown, f"the example environment file lacks {unknown}"
    settings.update(values)
    return settings


def _nginx_site(tmp: Path, *, http_port: int, https_port: int, app_port: int, cert: Path, key: Path) -> Path:
    """deploy/nginx/nergi.conf with the test's paths, ports and host name."""
    site = (ROOT / "deploy" / "nginx" / "nergi.conf").read_text()
    replacements = {
        "/srv/nergi/app/": f"{ROOT}/",
        "/etc/letsencrypt/live/learn.example.org/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/learn.example.org/privkey.pem": str(key),
        "/var/log/nginx/": f"{tmp}/",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "learn.example.org": "127.0.0.1",
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx/nergi.conf no longer has {old!r}"
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (tmp / "nergi.conf").write_text(site)
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = tmp / "nginx.conf"
    main.write_text(f"""{user}worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-main.error.log info;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/nergi.conf;
}}
""")
    return main


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port}:\n{log.read_text()[-3000:]}")


class Deployment:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.smtp = SMTPServer()
        self.https_port, self.http_port, self.app_port = free_port(), free_port(), free_port()
        self.base_url = f"https://127.0.0.1:{self.https_port}"

    def flask(self, *args: str) -> str:
        result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"flask {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def start(self, name: str, command: list[str], port: int | None = None) -> None:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as output:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=output,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append((name, process))
        if port:
            _wait_for_port(port, process, log)

    def up(self) -> None:
        self.smtp.start()
        (self.tmp / "instance").mkdir()
        (self.tmp / "uploads").mkdir()
        _fresh_database(SMOKE_DATABASE)
        import redis

        redis.Redis.from_url(SMOKE_REDIS).flushdb()
        values = {
            "SECRET_KEY": uuid.uuid4().hex * 2, "BASE_URL": self.base_url,
            "DATABASE_URL": SMOKE_DATABASE, "REDIS_URL": SMOKE_REDIS,
            "NERGI_INSTANCE_PATH": str(self.tmp / "instance"), "UPLOAD_FOLDER": str(self.tmp / "uploads"),
            "SIGNING_KEY_PATH": str(self.tmp / "instance" / "signing-key.pem"),
            "COURSES_DIR": str(ROOT / "courses"),
            "MAIL_SERVER": self.smtp.host, "MAIL_PORT": str(self.smtp.port), "MAIL_USE_TLS": "0",
            "MAIL_USERNAME": "", "MAIL_PASSWORD": "", "MAIL_DEFAULT_SENDER": "",
            "NERGI_BIND": f"127.0.0.1:{self.app_port}", "WEB_CONCURRENCY": "2",
        }
        base = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK_", "NERGI_"))}
        self.env = {**base, **_environment_file(values), "WORKER_INTERVAL": "1"}
        # docs/operations.md, "First installation", steps 4 to 7.
        self.flask("db", "upgrade")
        # The format tour is an example for authors: a production sync of the tree leaves it out;
        # naming its folder loads it (the media test below uses its picture).
        assert "left out format-tour" in self.flask("courses", "sync")
        self.flask("courses", "sync", str(ROOT / "courses" / "format-tour"))
        assert "created" in self.flask("certificates", "keygen")
        self.flask("users", "create", "--email", "nino@smoke.example", "--name", "ნინო", "--password", PASSWORD,
                   "--locale", "ka")
        self.flask("users", "create", "--email", "anna@smoke.example", "--name", "Anna", "--password", PASSWORD)
        # Step 8: the two processes systemd supervises, and nginx.
        self.start("gunicorn", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "wsgi:app"], self.app_port)
        self.start("worker", [str(BIN / "flask"), "--app", "wsgi", "worker"])
        cert, key = _self_signed_certificate(self.tmp)
        self.cafile = cert
        conf = _nginx_site(self.tmp, http_port=self.http_port, https_port=self.https_port,
                           app_port=self.app_port, cert=cert, key=key)
        test = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(self.tmp)], capture_output=True, text=True)
        assert test.returncode == 0, test.stderr
        self.start("nginx", [NGINX, "-c", str(conf), "-p", str(self.tmp), "-g", "daemon off;"], self.https_port)

    def down(self) -> None:
        for name, process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM if name != "nginx" else signal.SIGQUIT)
        for name, process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        self.smtp.stop()

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    _need(Path(NGINX).exists(), "nginx is not installed (Debian package nginx)")
    _need(shutil.which("pg_isready") is None or subprocess.run(
        ["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0, "PostgreSQL is not running on 127.0.0.1")
    import redis

    try:
        redis.Redis.from_url(SMOKE_REDIS).ping()
    except redis.RedisError:
        _need(False, "Redis is not running on 127.0.0.1:6379")
    tmp = tmp_path_factory.mktemp("deployment")
    tmp.chmod(0o755)
    deployed = Deployment(tmp)
    try:
        deployed.up()
        yield deployed
    finally:
        deployed.down()


# --- A small HTTPS client with cookies and a chosen source address --------------------------------

class Client(HttpClient):
    """HTTPS to nginx, from a chosen loopback address, in a chosen language; cookies kept."""

    def __init__(self, deployment: Deployment, source: str = "127.0.0.1", language: str = "en"):
        super().__init__(deployment.https_port, timeout=30)
        self.deployment = deployment
        self.source = source
        self.language = language
        self.context = ssl.create_default_context(cafile=str(deployment.cafile))

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=self.timeout,
                                           context=self.context, source_address=(self.source, 0))

    def default_headers(self) -> dict[str, str]:
        return {"Accept-Language": self.language}

    def get(self, path: str, **kwargs) -> tuple[int, http.client.HTTPMessage, bytes]:
        response = self.request("GET", path, **kwargs)
        return response.status, response.headers, response.body

    def form(self, path: str, fields: dict[str, str], page: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        """POST a form the way a browser does: with the CSRF token of the page that shows it."""
        status, _headers, body = self.get(page or path)
        assert status == 200, (path, status)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body.decode())
        assert token, "no CSRF token on " + path
        response = self.request("POST", path, urlencode({"csrf_token": token.group(1), **fields}).encode(),
                                headers={"Content-Type": "application/x-www-form-urlencoded",
                                         "Referer": self.deployment.base_url + (page or path), **(headers or {})})
        return response.status, response.headers, response.body


# --- The checks -----------------------------------------------------------------------------------

def test_a_georgian_user_sees_georgian(deployment):
    client = Client(deployment, language="ka")
    status, _headers, body = client.get("/login")
    page = body.decode()
    assert status == 200 and 'lang="ka"' in page and _georgian("Sign in") in page
    assert _georgian("Sign in") != "Sign in"
    status, headers, _body = client.form("/login", {"email": "nino@smoke.example", "password": PASSWORD})
    assert status == 302, _body[:500]
    # Her own setting, whatever the browser says.
    client.language = "en"
    status, _headers, body = client.get("/")
    assert status == 200 and 'lang="ka"' in body.decode()


def test_static_files_and_media_come_from_nginx_with_long_caching(deployment):
    client = Client(deployment)
    _status, _headers, body = client.get("/login")
    stylesheet = re.search(r'href="(/static/nergi\.css\?v=[0-9a-f]+)"', body.decode()).group(1)
    status, headers, css = client.get(stylesheet)
    assert status == 200 and css == (ROOT / "app" / "static" / "nergi.css").read_bytes()
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Server"].startswith("nginx") and "X-Request-ID" not in headers  # the app never saw it

    assert client.form("/login", {"email": "anna@smoke.example", "password": PASSWORD})[0] == 302
    status, _headers, body = client.get("/courses/format-tour/links-and-media")
    assert status == 200, body[:300]
    media = re.search(r'src="(/media/format-tour/[0-9a-f]+/media/seedling\.png)"', body.decode()).group(1)
    status, headers, image = client.get(media)
    assert status == 200 and image == (ROOT / "courses" / "format-tour" / "media" / "seedling.png").read_bytes()
    assert headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert headers["Content-Type"] == "image/png"
    # Signed out, the app refuses and nginx sends nothing.
    status, _headers, body = Client(deployment).get(media)
    assert status == 302 and not body.startswith(b"\x89PNG")


def test_a_password_reset_mail_arrives_in_georgian_and_its_link_works(deployment):
    client = Client(deployment, language="ka")
    before = len(deployment.smtp.messages)
    status, _headers, _body = client.form("/forgot", {"email": "nino@smoke.example"})
    assert status == 200
    messages = deployment.smtp.wait_for(before + 1, timeout=60)
    assert len(messages) == before + 1, deployment.log("worker")[-2000:]
    message = messages[-1]
    assert message["To"] == "nino@smoke.example"
    assert message["Subject"] == _georgian("Reset your Nergi password") != "Reset your Nergi password"
    assert abs(parsedate_to_datetime(message["Date"]) - datetime.datetime.now(datetime.timezone.utc)) \
        < datetime.timedelta(minutes=5)
    assert re.fullmatch(r"<[^@>]+@127\.0\.0\.1>", message["Message-ID"])
    assert message["From"] == "Nergi <no-reply@127.0.0.1>"
    link = re.search(re.escape(deployment.base_url) + r"(/reset/[A-Za-z0-9_-]+)", text_body(message)).group(1)
    status, _headers, body = client.form(link, {"password": "a new smoke password", "confirm": "a new smoke password"})
    assert status == 302, body.decode()[:2000]
    fresh = Client(deployment)
    assert fresh.form("/login", {"email": "nino@smoke.example", "password": "a new smoke password"})[0] == 302
    # The token was never written to a log, by nginx or by the app.
    token = link.rsplit("/", 1)[1]
    assert token not in deployment.log("gunicorn") and token not in (deployment.tmp / "nergi.access.log").read_text()


def test_rate_limits_count_each_client_as_nginx_reports_it(deployment):
    noisy, quiet = Client(deployment, source="127.0.0.2"), Client(deployment, source="127.0.0.3")
    statuses = [noisy.form("/forgot", {"email": f"nobody{n}@smoke.example"})[0] for n in range(11)]
    assert statuses == [200] * 10 + [429]  # RESET_LIMIT_PER_ADDRESS: 10 per hour
    # A forged X-Forwarded-For does not make the noisy client someone else.
    forged = noisy.form("/forgot", {"email": "forged@smoke.example"}, headers={"X-Forwarded-For": "203.0.113.77"})
    assert forged[0] == 429
    assert quiet.form("/forgot", {"email": "quiet@smoke.example"})[0] == 200


def test_health_reports_database_and_redis(deployment):
    status, headers, body = Client(deployment).get("/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok", "database": "ok", "redis": "ok"}
    assert headers["Strict-Transport-Security"] == "max-age=31536000"


def test_request_log_lines_are_json_and_carry_nginx_request_id(deployment):
    status, headers, _body = Client(deployment).get("/login")
    request_id = headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id, passed to the app
    time.sleep(0.5)
    lines = [json.loads(line) for line in deployment.log("gunicorn").splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == request_id and line["logger"] == "nergi.request"]
    assert mine and mine[0]["path"] == "/login" and mine[0]["status"] == 200
    assert f"rid={request_id}" in (deployment.tmp / "nergi.access.log").read_text()


def test_a_calendar_feeds_secret_address_is_never_logged(deployment):
    """/calendar/<token>.ics needs no sign-in: its token is the key, so neither nginx's access log
    nor the app's request log may keep it (an unknown token is enough: the path is what is logged)."""
    token = "smoke-" + "x" * 30
    status, _headers, _body = Client(deployment).get(f"/calendar/{token}.ics")
    assert status == 404
    # nginx writes the line in its log phase, just after the response has gone out: wait for it.
    deadline = time.monotonic() + 10
    while "/calendar/" not in (access := (deployment.tmp / "nergi.access.log").read_text()):
        assert time.monotonic() < deadline, access[-500:]
        time.sleep(0.05)
    assert "/calendar/[redacted]" in access
    assert token not in access and token not in deployment.log("gunicorn")
