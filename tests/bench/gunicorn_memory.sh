#!/usr/bin/env bash
# Memory of the production web server: gunicorn with deploy/gunicorn.conf.py and 4 workers, on a
# throw-away SQLite instance, after 40 sign-in page requests; prints the PSS (proportional set
# size: shared pages counted once across the processes) of the workers and the master, and each
# worker's RSS (all its resident pages, shared ones included: the issue's "RSS per worker").
# usage: tests/bench/gunicorn_memory.sh   (from the repository root, after make install)
# Compared: GUNICORN_PRELOAD=1 (build the app in the master, then fork; the default) and 0, and
# with preload, GUNICORN_GC_FREEZE=1 (gc.freeze() before each fork; the default) and 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SECRET_KEY=benchmark-secret-key-that-is-long-enough-0123456789 NERGI_INSTANCE_PATH=$work
export DATABASE_URL=sqlite:///$work/nergi.db NERGI_BIND=127.0.0.1:8765 WEB_CONCURRENCY=4
.venv/bin/flask --app wsgi certificates keygen >/dev/null 2>&1
.venv/bin/flask --app wsgi db upgrade >/dev/null 2>&1
.venv/bin/flask --app wsgi courses sync >/dev/null 2>&1

pss() { awk '/^Pss:/{print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
rss() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
measure() {
  GUNICORN_PRELOAD=$1 GUNICORN_GC_FREEZE=${2:-1} .venv/bin/gunicorn -c deploy/gunicorn.conf.py wsgi:app \
    >"$work/gunicorn.log" 2>&1 &
  local master=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:8765/healthz && break; sleep 0.2; done
  for _ in $(seq 1 40); do curl -s -o /dev/null http://127.0.0.1:8765/login; done
  sleep 1
  local workers=0 rss_list=""
  for pid in $(pgrep -P "$master"); do
    workers=$((workers + $(pss "$pid"))); rss_list="$rss_list $(($(rss "$pid") / 1024))"
  done
  local own; own=$(pss "$master")
  printf 'preload=%s freeze=%s  PSS: workers %6d KB  master %6d KB  total %4d MB;  RSS per worker (MB):%s\n' \
    "$1" "${2:-1}" "$workers" "$own" $(((workers + own) / 1024)) "$rss_list"
  kill "$master"; wait "$master" 2>/dev/null || true
  sleep 1
}
for _round in 1 2 3; do
  measure 1 1
  measure 1 0
  measure 0
done
