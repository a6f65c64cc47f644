"""The `production` marker: left to `make test-production` (and said so) under `make test`; never a skip;
a failure when the services are required."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
TARGET = "tests/production/test_counters.py::test_increments_from_many_processes_add_up_exactly"
PLAIN = "tests/production/test_iam_policy.py::test_local_only_gateway_functions_are_not_called_by_production_code"


def _pytest(*targets, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.pop("DURABLE_CONSOLE_REQUIRE_SERVICES", None)
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "pytest", *(targets or (TARGET,)), "-q", "-p", "no:cacheprovider"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_left_to_make_test_production_with_a_visible_reason_on_the_embedded_defaults():
    result = _pytest(TARGET, PLAIN)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 deselected" in result.stdout and "skipped" not in result.stdout
    assert "1 production-path tests were not run here (DATABASE_URL does not point at PostgreSQL" in result.stdout
    assert "`make test-production` runs them" in result.stdout


def test_a_failure_not_a_skip_when_the_services_are_required():
    result = _pytest(DURABLE_CONSOLE_REQUIRE_SERVICES="1")
    assert result.returncode == 1, result.stdout
    assert "production test cannot run: DATABASE_URL does not point at PostgreSQL" in result.stdout


def test_make_test_production_refuses_to_run_without_the_services():
    env = {**os.environ, "TEST_POSTGRES_URL": "postgres://nobody@127.0.0.1:1/test"}
    result = subprocess.run(
        [sys.executable, "-m", "tests.production.run", "--co", "-q"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "PostgreSQL is not reachable" in result.stderr
