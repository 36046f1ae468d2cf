"""Benchmarks. Not part of the default test run (pyproject's addopts ignore tests/bench); run one with
``.venv/bin/pytest tests/bench/<file> -s -o addopts=''``. Figures go into docs/performance.md."""
