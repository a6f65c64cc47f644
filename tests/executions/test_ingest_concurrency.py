"""Concurrent pushes on PostgreSQL (the production path): requests at once, in any order, never regress an
operation's version, never lose one, and an EventBridge event delivered twice at once is applied once.

SQLite in memory (make test) fails concurrent writers with "table is locked" instead of making them wait, so these
races run under `make test-production` only, with threads on their own connections.
"""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from executions.models import EventBridgeEvent, Execution, PushedOperation
from executions.push.ingest import _pushed_operation_store
from executions.push.wire import batch_parse
from tests.executions.page_factories import execution_make, function_make
from tests.executions.push_support import (
    EVENTBRIDGE_URL,
    TOKEN,
    batch,
    execution_arn,
    operation_event,
    post_json,
    push,
    status_change,
)

pytestmark = [pytest.mark.production, pytest.mark.django_db(transaction=True)]

WORKERS = 8


@pytest.fixture(autouse=True)
def ingest(settings):
    settings.INGEST_TOKEN = TOKEN
    settings.INGEST_RATE_LIMIT = "100000/m"


def together(work: list) -> list:
    """Run the callables at once (a barrier), each thread on its own connection; their results, or raise."""
    barrier = threading.Barrier(len(work), timeout=30)
    results, errors = [None] * len(work), []

    def run(index: int, job) -> None:
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job), daemon=True) for i, job in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


VERSIONS = [("STARTED", (1, 1)), ("PENDING", (1, 2)), ("STARTED", (2, 1)), ("PENDING", (2, 2))]
VERSIONS += [("STARTED", (3, 1)), ("READY", (3, 3)), ("SUCCEEDED", (3, 9)), ("FAILED", (2, 9))]


def test_concurrent_requests_keep_the_highest_version_of_every_operation():
    execution = execution_make(function=function_make("Orders"), arn=execution_arn("Orders"))
    rng = random.Random(7)
    jobs = []
    for _ in range(WORKERS):
        reports = [
            operation_event(execution.arn, f"op-{n}", status, version)
            for n in range(10)
            for status, version in VERSIONS
        ]
        rng.shuffle(reports)
        jobs.append(lambda reports=reports: [push(Client(), r).status_code for r in reports])
    results = together(jobs)
    assert all(code == 200 for codes in results for code in codes)
    rows = PushedOperation.objects.filter(execution=execution)
    assert rows.count() == 10
    assert set(rows.values_list("status", "version_attempt", "version_rank")) == {("SUCCEEDED", 3, 9)}


def test_the_database_guard_holds_without_the_execution_lock():
    """The conditional UPDATE alone (no row lock on the execution): the highest version still wins."""
    execution = execution_make(function=function_make("Orders"), arn=execution_arn("Orders"))
    reports = [
        report
        for _, report in batch_parse(
            batch(*(operation_event(execution.arn, "op-1", status, version) for status, version in VERSIONS))
        ).reports
    ]
    jobs = []
    for worker in range(WORKERS):
        order = random.Random(worker).sample(reports, len(reports))
        jobs.append(
            lambda order=order: [
                _pushed_operation_store(execution, report, now=timezone.now(), shown=False) for report in order
            ]
        )
    results = together(jobs)
    row = PushedOperation.objects.get(execution=execution, operation_id="op-1")
    assert (row.status, row.version_attempt, row.version_rank) == ("SUCCEEDED", 3, 9)
    assert sum(stored for stored_list in results for stored in stored_list) >= 1


def test_an_eventbridge_event_delivered_twice_at_once_is_applied_once():
    execution = execution_make(function=function_make("Orders"), arn=execution_arn("Orders"))
    event = status_change(execution.arn, "STOPPED", event_id="evt-twice", ended=timezone.now().timestamp())
    outcomes = together([lambda: post_json(Client(), EVENTBRIDGE_URL, event).json()["outcome"]] * WORKERS)
    assert sorted(outcomes) == ["applied"] + ["duplicate"] * (WORKERS - 1)
    assert EventBridgeEvent.objects.filter(event_id="evt-twice").count() == 1
    assert Execution.objects.get(pk=execution.pk).status == "STOPPED"


def test_a_new_execution_pushed_by_many_invocations_at_once_is_created_once():
    function_make("Orders")
    arn = execution_arn("Orders")
    results = together(
        [lambda n=n: push(Client(), operation_event(arn, f"branch-{n}", "STARTED", (1, 1))).json() for n in range(8)]
    )
    assert sum(result["created"] for result in results) == 1
    assert Execution.objects.filter(arn=arn).count() == 1
    assert PushedOperation.objects.filter(execution__arn=arn).count() == 8
