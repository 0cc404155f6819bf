# Two commands for a newcomer: `make run` and `make test`. Everything else is a convenience.
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
PYTHON ?= python3

.PHONY: run test install install-dev lint format bench clean \
	translations translations-extract translations-update translations-init browser-test-deps

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations browser-test-deps

## Translations (petition/translations/<locale>/LC_MESSAGES/messages.po). The .mo files are built here,
## at install, and never committed. After changing text in code or templates:
##   make translations-extract translations-update   (then translate new or fuzzy entries, and `make test`)
## A new language: make translations-init LOCALE=xx, and add it to SUPPORTED_LOCALES in petition/i18n.py.
translations: $(VENV)/.installed
	$(VENV)/bin/pybabel -q compile -d petition/translations

translations-extract: $(VENV)/.installed
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l --add-location=file --sort-by-file \
		--project petition --msgid-bugs-address "" -o petition/translations/messages.pot .

translations-update: $(VENV)/.installed
	$(VENV)/bin/pybabel -q update -i petition/translations/messages.pot -d petition/translations --ignore-obsolete

translations-init: $(VENV)/.installed
	$(VENV)/bin/pybabel init -i petition/translations/messages.pot -d petition/translations -l $(LOCALE)

## axe-core for the accessibility tests, from npm at the version package-lock.json pins. Without npm the
## browser accessibility tests are reported as skipped (they fail under REQUIRE_TEST_SERVICES=1).
browser-test-deps:
	@if command -v npm >/dev/null; then \
		[ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: accessibility tests will be skipped"; fi

## Serve the demo on http://127.0.0.1:5000 with mail written to instance/outbox/, until Ctrl-C.
run: install
	$(FLASK) db upgrade
	$(FLASK) demo
	@echo "Mail goes to instance/outbox/ (one .eml file per message). Stop with Ctrl-C."
	@$(FLASK) mail-worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

## Run the whole suite. PostgreSQL, Redis and Chromium tests run when TEST_DATABASE_URL,
## TEST_REDIS_URL and /usr/bin/chromium are there, and are reported as skipped otherwise.
## In parallel: one pytest-xdist worker per core, each with its own databases (tests/conftest.py);
## tests of one xdist_group run on one worker. PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= auto
test: install-dev
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Load-test the app on PostgreSQL and SQLite and print the table (see bench/README.md). Never part of `make test`.
BENCH_VENV := bench/.venv
$(BENCH_VENV)/.installed: bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q -r bench/requirements.txt
	touch $@

bench: install $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
