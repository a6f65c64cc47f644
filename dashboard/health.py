"""Dependency checks for /healthz: database, DynamoDB, Lambda endpoint, broker.

The full report (`dependencies_check`, per dependency, with errors) is for operators, admins and the metrics
token. Anyone else gets `health_state`: "ok" or "unavailable" from a check that runs at most once per
HEALTH_CACHE_SECONDS across every process (the slot is claimed in the shared cache), so anonymous probes
cannot spend the Lambda API budget the poller and the approvals share, nor read internal error text.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from approvals.orders_table import orders_table_ping
from dashboard.celery import app
from executions.services import lambda_endpoint_ping


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_dynamodb() -> None:
    orders_table_ping()


def _check_lambda() -> None:
    lambda_endpoint_ping()


def _check_broker() -> None:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)


CHECKS = {
    "database": _check_database,
    "dynamodb": _check_dynamodb,
    "lambda": _check_lambda,
    "broker": _check_broker,
}


def dependencies_check() -> dict[str, dict]:
    """Run every check; each entry is {"ok": bool, "ms": float, "error"?: str}."""
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
            results[name] = {"ok": True}
        except Exception as error:  # a health check reports, never raises
            results[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:500]}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    results["database"]["engine"] = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return results


STATE_KEY = "healthz:state"
CHECK_SLOT_KEY = "healthz:check-slot"
OK, UNAVAILABLE = "ok", "unavailable"


def health_state_store(checks: dict[str, dict]) -> str:
    """Remember the state of a full check for anonymous callers; return it."""
    state = OK if all(result["ok"] for result in checks.values()) else UNAVAILABLE
    cache.set(STATE_KEY, state, timeout=max(60, settings.HEALTH_CACHE_SECONDS * 6))
    return state


def health_state(*, wait: float = 5.0, sleep=time.sleep) -> str:
    """ "ok" or "unavailable", from a check at most once per HEALTH_CACHE_SECONDS (one process runs it)."""
    try:
        if cache.add(CHECK_SLOT_KEY, 1, timeout=max(1, settings.HEALTH_CACHE_SECONDS)):
            return health_state_store(dependencies_check())
        deadline = time.monotonic() + wait
        while (state := cache.get(STATE_KEY)) is None and time.monotonic() < deadline:
            sleep(0.1)  # the first check of all is still running in another request
    except Exception:  # the cache (database or Redis) is down: that alone makes the console unavailable
        return UNAVAILABLE
    return state or UNAVAILABLE
