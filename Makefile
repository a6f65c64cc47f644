# Durable Console — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-production bench lint setup dynamodb-local clean-var help

help:
	@echo "make run              start the whole local stack and the dashboard"
	@echo "make test             run the test suite on the embedded defaults (SQLite, SQLAlchemy broker)"
	@echo "make test-production  run the test suite on PostgreSQL + Redis"
	@echo "make bench            run the benchmarks (not part of the tests)"
	@echo "make lint             ruff"

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 (or run make PYTHON=python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP) dynamodb-local

dynamodb-local: $(STAMP)
	@$(PY) -m devstack.dynamodb_local >/dev/null

run: setup
	$(PY) -m devstack.run

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL + Redis (127.0.0.1:5432 and :6379 unless TEST_POSTGRES_URL / TEST_REDIS_URL),
# in a database and a Redis db index of its own, dropped and flushed afterwards.
test-production: setup
	$(PY) -m tests.production.run $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) -m benchmarks

clean-var:
	rm -rf var
