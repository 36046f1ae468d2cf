# Nergi: `make run` serves the app at http://127.0.0.1:$(PORT); `make test` runs the suite;
# `make lint` runs ruff and mypy.
PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PIP_INSTALL := $(BIN)/pip install --quiet --require-hashes --no-deps
# Links in pages, e-mails and certificates follow the port unless BASE_URL is set.
BASE_URL ?= http://127.0.0.1:$(PORT)
DEV := FLASK_DEBUG=1 BASE_URL=$(BASE_URL)


.PHONY: run test lint e2e e2e-tools screenshots smoke bench bench-load lock mail translations compile-translations install install-test check-courses clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

# Dependencies come only from the lock files (exact versions, checked against their hashes);
# pyproject.toml keeps the ranges, and `make lock` turns the ranges into new lock files.
$(VENV)/.installed: requirements/app.txt pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -r requirements/app.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-test
	touch $@

$(VENV)/.installed-test: requirements/test.txt $(VENV)/.installed
	$(PIP_INSTALL) -r requirements/test.txt
	touch $@

# Refresh the lock files from pyproject.toml's ranges (newest versions that fit, for Python 3.11+
# on every platform), then run `make test` before committing them.
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv
	cd requirements && ../$(BIN)/uv pip compile ../pyproject.toml build.in --universal \
		--python-version 3.11 --generate-hashes --no-header --quiet $(LOCK_FLAGS) -o app.txt
	cd requirements && ../$(BIN)/uv pip compile ../pyproject.toml build.in --extra test --universal \
		--python-version 3.11 --generate-hashes --no-header --quiet $(LOCK_FLAGS) -o test.txt

# The app's dependencies from the lock, and the compiled catalogues (a deployment without them
# would be English only; the app refuses to start in production then).
install: $(VENV)/.installed compile-translations
install-test: $(VENV)/.installed-test

compile-translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d app/translations

run: install compile-translations
	mkdir -p instance
	$(DEV) $(FLASK) db upgrade
	$(DEV) $(FLASK) courses sync
	$(DEV) $(FLASK) demo --if-empty
	$(DEV) $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The suite runs on every core (pytest-xdist; TEST_WORKERS=0 runs it in one process).
TEST_WORKERS ?= auto
test: install-test compile-translations
	$(BIN)/pytest -n $(TEST_WORKERS)

# ruff (pycodestyle, pyflakes, import order, bugbear, pyupgrade) and mypy on app/; both are
# configured in pyproject.toml. `$(BIN)/ruff check --fix` applies ruff's safe fixes.
LINT_PATHS := app migrations wsgi.py
lint: install-test
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy

# axe-core for the accessibility checks, exactly as locked in tests/e2e/package-lock.json.
e2e-tools:
	cd tests/e2e && npm ci --no-audit --no-fund --silent

e2e: install-test compile-translations e2e-tools
	$(BIN)/pytest tests/e2e -p no:cacheprovider -o addopts=''

# docs/screenshots/: the main pages at 360 px, drawn from the demo data by the browser suite.
screenshots: install-test compile-translations
	NERGI_SCREENSHOTS=docs/screenshots $(BIN)/pytest tests/e2e/test_screenshots.py -p no:cacheprovider -o addopts='' -q

# The production topology (nginx, gunicorn, worker, PostgreSQL, Redis, SMTP sink) started from
# deploy/ and checked through nginx; needs Debian's nginx and the local PostgreSQL and Redis.
smoke: install-test compile-translations
	$(BIN)/pytest tests/smoke -p no:cacheprovider -o addopts='' -ra

# A local SMTP sink that prints every message, and the worker that sends the outbox to it, so
# invitations and resets can be read in development (Ctrl-C stops both).
mail: install-test compile-translations
	mkdir -p instance
	@echo "mail sink on 127.0.0.1:1025; the worker sends the outbox every 2 s"
	$(BIN)/python -m tests.support.mailsink --port 1025 & sink=$$!; \
		trap "kill $$sink" EXIT INT TERM; \
		$(DEV) WORKER_INTERVAL=2 $(FLASK) worker

bench: install-test compile-translations
	$(BIN)/pytest tests/bench -s -o addopts='' --ignore=tests/bench/test_load_bench.py

# gunicorn with deploy/gunicorn.conf.py on 127.0.0.1, 100 learners at once, then wrk (Debian's
# wrk package) on the lesson page and on a bare Flask route; see docs/performance.md.
bench-load: install-test compile-translations
	$(BIN)/pytest tests/bench/test_load_bench.py -s -o addopts=''

check-courses: install
	$(DEV) $(FLASK) courses check

# Extract every marked string, merge into the catalogues, compile.
translations: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot --no-location --sort-output --project Nergi .
	$(BIN)/pybabel -q update -i app/translations/messages.pot -d app/translations --no-wrap --ignore-obsolete
	$(BIN)/pybabel -q compile -d app/translations

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
