"""The load benchmark (tests/bench/load.py) under pytest: `make bench-load`.

Prints its figures; asserts only that nothing failed (no wall-clock assertions). Settings from
the environment: NERGI_BENCH_LOAD_DATABASE_URL (a PostgreSQL database it may EMPTY; default
SQLite), NERGI_BENCH_LOAD_LEARNERS (100), NERGI_BENCH_LOAD_SECONDS (10),
NERGI_BENCH_LOAD_CONNECTIONS (16,64), NERGI_BENCH_LOAD_APP_ROOT (this checkout).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.bench import load


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (apt-get install wrk)")
def test_load_benchmark(capsys):
    figures = load.run(
        Path(os.environ.get("NERGI_BENCH_LOAD_APP_ROOT", load.ROOT)).resolve(),
        os.environ.get("NERGI_BENCH_LOAD_DATABASE_URL"),
        int(os.environ.get("NERGI_BENCH_LOAD_LEARNERS", "100")),
        int(os.environ.get("NERGI_BENCH_LOAD_WORKERS", "4")),
        int(os.environ.get("NERGI_BENCH_LOAD_SECONDS", "10")),
        [int(c) for c in os.environ.get("NERGI_BENCH_LOAD_CONNECTIONS", "16,64").split(",")],
    )
    assert figures["learners"]["errors"] == 0
    assert all(row["errors"] == 0 for row in figures["lesson"] + figures["bare"])
