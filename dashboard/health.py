"""Dependency checks for /healthz: database, DynamoDB, Lambda endpoint, broker."""

from __future__ import annotations

import time

from django.conf import settings
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
