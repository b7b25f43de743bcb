# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
SEED_TEXT ?= ../shared/seeds/000_67102e3550562e4c.txt
COMPOSE_SCHEMA ?= ../shared/schemas/compose-spec.json

.DEFAULT_GOAL := help
.PHONY: help venv run setup bench loadtest ci audit browser test test-faults lint format typecheck imports migrations-check pytest check-compose lock clean

help:
	@echo "make run    - set everything up and run web server, Celery worker and beat"
	@echo "make test   - set up what the tests need and run the whole suite"
	@echo "make bench  - time snapshots, pages, a resolution's commit, verify_ledger and 10k digests against floors; extraction quality and speed"
	@echo "make loadtest - load-test pages and API on loopback while a snapshot and digests run"
	@echo "make test-faults - kill workers, restart Redis, drop connections, stop SMTP (docs/RELIABILITY.md)"
	@echo "make lock   - re-pin requirements*.txt from pyproject.toml"

$(BIN)/.installed: requirements-dev.txt
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create a virtual environment with $(PYTHON)."\
	  "On Debian/Ubuntu: apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv: $(BIN)/.installed

# Embedded defaults: SQLite under var/, a file-system Celery broker, e-mail
# written to var/mail/. Environment variables (see .env.example) override them.
run: venv
	@mkdir -p var/mail
	@export DEBUG=$${DEBUG:-1} BIND=$${BIND:-127.0.0.1:$(PORT)} \
	  SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} SEED_TEXT=$(SEED_TEXT) \
	  PATH="$(CURDIR)/$(BIN):$$PATH" && \
	  bin/setup && \
	  python manage.py verify_ledger && \
	  python manage.py verify_scores && \
	  python manage.py ensure_admin && \
	  echo "Forecast tracker: $$SITE_URL/  (admin: $$SITE_URL/admin/, e-mails: var/mail/)" && \
	  echo "Web server, Celery worker and beat start now; Ctrl-C stops all of them." && \
	  exec honcho --env /dev/null start

# Uses the configured database (DATABASE_URL, default SQLite under var/); the
# synthetic rows are removed afterwards. BENCH_ARGS="--sizes 1000" for a quick run.
bench: venv
	@mkdir -p var
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput --verbosity 0
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_scores --keep $(BENCH_ARGS)
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_ledger
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_pages
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_resolve
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_extraction
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py bench_digests
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py generate_synthetic --clear --forecasts 0
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py snapshot_scores

test: venv lint typecheck imports migrations-check pytest

# Known vulnerabilities in the pinned dependencies. --strict fails when a package
# could not be checked, so an unreachable vulnerability service is a failure, not
# a silent pass. (Not in `make ci`: this network has no route to PyPI's or OSV's
# vulnerability data, see the README.)
audit: venv
	$(BIN)/pip-audit --strict --no-deps --disable-pip -r requirements.txt

# Everything CI runs (.ci/run, and the compose `test` service): the suite, the
# fault suite, the load test and the compose file's schema check.
ci: test test-faults loadtest check-compose

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: venv
	DEBUG=1 $(BIN)/mypy

# The import contracts in pyproject.toml: layers, independent domains, pure modules,
# no cycles (docs/ARCHITECTURE.md).
imports: venv
	$(BIN)/lint-imports

migrations-check: venv
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

# The suite on PYTEST_WORKERS processes (pytest-xdist; 0 runs it in this one), each with
# its own test database (test_<name>_gw0, _gw1). Tests go out in pytest-django's order
# (--dist load), so each process still runs the tests that roll back before those that
# flush the database (and with it what the migrations wrote, the Reviewers group among
# it); --dist loadfile broke that order and failed five tests.
PYTEST_WORKERS ?= 2
pytest: venv browser
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist load $(PYTEST_ARGS)

# The fault suite (tests/faults, docs/RELIABILITY.md): real worker and beat processes
# against PostgreSQL (DATABASE_URL) and Redis (REDIS_URL; it uses database 5 and
# restarts the server once). Skipped with a message when either is not configured.
# FAULTS_ARGS="-k digest" for some scenarios.
test-faults: venv
	DEBUG=$${DEBUG:-1} $(BIN)/pytest tests/faults -m faults -p no:cacheprovider -v $(FAULTS_ARGS)

# Load test on loopback (docs/RELIABILITY.md): gunicorn on 100,000 synthetic
# forecasts under wrk while a score snapshot and a digest run happen. The
# synthetic rows are removed afterwards (LOADTEST_ARGS=--keep keeps them).
loadtest: venv
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's wrk for the load test."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else \
	    echo "wrk is missing: run 'sudo apt-get install wrk'."; exit 1; \
	  fi; \
	fi
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput --verbosity 0
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py loadtest $(LOADTEST_ARGS)

# The browser tests drive Debian's Chromium (never a browser Playwright downloads).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Chromium is missing: run 'sudo apt-get install chromium' for the browser tests."; \
	  fi; \
	fi

check-compose: venv
	$(BIN)/check-jsonschema --schemafile $(COMPOSE_SCHEMA) docker-compose.yml

lock: venv
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
	  -o requirements.txt pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
	  --extra dev -o requirements-dev.txt pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
