"""gunicorn settings for Nergi: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Every value can be changed through the environment file the systemd unit reads
(deploy/nergi.env.example). The production smoke test (tests/smoke) starts gunicorn with this
very file.
"""
import gc
import multiprocessing
import os

# nginx, on the same host, is the only client.
bind = os.environ.get("NERGI_BIND", "127.0.0.1:8000")
# Two per core is plenty for requests that mostly wait on the database; each worker holds the
# app (about 80-90 MB after load; fpdf2, qrcode and matplotlib load only in a worker that draws
# a PDF or a chart), so on a small host lower WEB_CONCURRENCY rather than raise it.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "sync"  # nginx buffers slow clients (phones on weak links), so sync workers suffice
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then (memory growth in long-lived processes)
max_requests_jitter = 200

# X-Forwarded-* are trusted from nginx on this host only (the app's own ProxyFix, driven by
# TRUSTED_PROXIES, decides the client address for rate limits and logs).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Logs go to standard error (journald under systemd). The access log is the app's own request
# line (logger nergi.request: method, path, status, time, request id, user id), because only the
# app knows the user and which paths carry secrets: gunicorn's would record reset and invitation
# tokens. nginx passes its $request_id as X-Request-ID, so nginx's log and the app's share it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Build the app once in the master (a start-up problem stops gunicorn at once, with the reason)
# and fork the workers from it, sharing its memory pages: 4 workers and the master take about
# 205 MB in all instead of 519 MB (PSS, tests/bench/gunicorn_memory.sh, docs/performance.md).
# GUNICORN_PRELOAD=0 turns preloading off (to measure).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"


def pre_fork(server, worker):
    """Before each fork: move everything the master has built (the preloaded app) into the
    garbage collector's permanent generation, so the workers' collections never walk those
    objects — walking writes to them, which copies the shared pages into each worker, and costs
    the time of a full collection of the whole app. GUNICORN_GC_FREEZE=0 turns it off (to measure)."""
    if preload_app and os.environ.get("GUNICORN_GC_FREEZE", "1") == "1":
        gc.collect()
        gc.freeze()
