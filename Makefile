# Nergi: `make run` serves the app at http://127.0.0.1:$(PORT); `make test` runs the suite.
PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
DEV := FLASK_DEBUG=1


.PHONY: run test e2e bench translations compile-translations install install-test check-courses clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

compile-translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d app/translations

run: install compile-translations
	mkdir -p instance
	$(DEV) $(FLASK) db upgrade
	$(DEV) $(FLASK) courses sync
	$(DEV) $(FLASK) demo --if-empty
	$(DEV) $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install-test compile-translations
	$(BIN)/pytest

e2e: install-test compile-translations
	$(BIN)/pytest tests/e2e -p no:cacheprovider -o addopts=''

bench: install-test compile-translations
	$(BIN)/pytest tests/bench -s -o addopts=''

check-courses: install
	$(DEV) $(FLASK) courses check

# Extract every marked string, merge into the catalogues, compile.
translations: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot --no-location --sort-output --project Nergi .
	$(BIN)/pybabel -q update -i app/translations/messages.pot -d app/translations --no-wrap --ignore-obsolete
	$(BIN)/pybabel -q compile -d app/translations

clean:
	rm -rf $(VENV) .pytest_cache
