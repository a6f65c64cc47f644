"""Versions of reported states, whether the history shows one, and the overlay of reports on the history's
operations (executions/push/overlay.py): pure, unsaved rows only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from executions.models import Operation, PushedOperation
from executions.push.overlay import PUSHED_ORDER, history_covers, is_pushed, operations_overlay, rank_of

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def op(operation_id="op-1", op_type="step", status="STARTED", attempts=1, **fields) -> Operation:
    return Operation(
        operation_id=operation_id, op_type=op_type, status=status, attempts=attempts, started_at=T0, **fields
    )


def pushed(operation_id="op-1", status="SUCCEEDED", attempt=1, **fields) -> PushedOperation:
    values = {
        "op_type": "step",
        "name": "charge",
        "observed_at": T0 + timedelta(seconds=30),
        "received_at": T0 + timedelta(seconds=31),
    }
    values.update(fields)
    return PushedOperation(execution_id=1, operation_id=operation_id, status=status, attempt=attempt, **values)


def covers(history, status, attempt=1) -> bool:
    return history_covers(history, attempt=attempt, rank=rank_of(status), status=status)


def test_ranks():
    assert [rank_of(s) for s in ("STARTED", "PENDING", "READY", "SUCCEEDED", "FAILED", "CANCELLED", "WHATEVER")] == [
        1,
        2,
        3,
        9,
        9,
        9,
        0,
    ]


@pytest.mark.parametrize(
    ("history", "status", "attempt", "shown"),
    [
        (None, "STARTED", 1, False),  # the history does not have it
        (op(status="STARTED"), "STARTED", 1, True),
        (op(status="STARTED"), "STARTED", 0, True),  # attempts counted from 0 by some hooks
        (op(status="STARTED"), "SUCCEEDED", 1, False),  # ended: the history lacks the end
        (op(status="SUCCEEDED"), "STARTED", 1, True),  # the history is further on
        (op(status="PENDING"), "FAILED", 1, True),  # the failed attempt that scheduled the retry
        (op(status="PENDING"), "PENDING", 1, True),
        (op(status="PENDING"), "STARTED", 2, False),  # a retry the history has not seen start
        (op(status="STARTED", attempts=2), "STARTED", 2, True),
        (op(status="STARTED", attempts=3), "FAILED", 2, True),  # an old attempt's end arriving late
        (op(op_type="callback", status="STARTED", attempts=0), "SUCCEEDED", 0, False),  # answered elsewhere
        (op(op_type="callback", status="SUCCEEDED", attempts=0), "SUCCEEDED", 0, True),
        (op(op_type="wait", status="STARTED", attempts=0), "READY", 0, False),
        (op(op_type="context", status="STARTED", attempts=0), "STARTED", 1, True),  # attempts only count for steps
        (op(status="ODD"), "ODD", 1, True),  # statuses are an open set: the same unknown value is shown
        (op(status="STARTED"), "ODD", 1, False),
    ],
)
def test_history_covers(history, status, attempt, shown):
    assert covers(history, status, attempt) is shown


def test_a_snapshot_entry_has_a_rank_but_no_status():
    assert history_covers(op(status="STARTED"), attempt=1, rank=1) is True
    assert history_covers(op(status="STARTED"), attempt=1, rank=9) is False
    assert history_covers(op(status="STARTED"), attempt=1, rank=0) is True  # unknown status: nothing to fetch
    assert history_covers(None, attempt=0, rank=0) is False


def test_the_overlay_replaces_what_the_history_has_and_adds_what_it_lacks():
    callback = op("cb", op_type="callback", status="STARTED", attempts=0, deadline=T0 + timedelta(hours=1), name="ok")
    step = op("load", status="SUCCEEDED", ended_at=T0 + timedelta(seconds=2), first_event_id=3)
    reports = [
        pushed("cb", status="SUCCEEDED", attempt=0, op_type="callback", ended_at=T0 + timedelta(seconds=20)),
        pushed("ship", status="STARTED", name="ship_order", started_at=T0 + timedelta(seconds=25), pk=7),
    ]
    merged = operations_overlay([callback, step], reports)
    assert [o.operation_id for o in merged] == ["cb", "load", "ship"]
    answered, load, ship = merged
    assert is_pushed(answered) and not is_pushed(load) and is_pushed(ship)
    assert (answered.status, answered.ended_at, answered.deadline) == (
        "SUCCEEDED",
        T0 + timedelta(seconds=20),
        callback.deadline,
    )
    assert callback.status == "STARTED"  # the history's row itself is untouched
    assert (ship.status, ship.ended_at, ship.name, ship.first_event_id) == (
        "STARTED",
        None,
        "ship_order",
        PUSHED_ORDER + 7,
    )
    assert ship.started_at == T0 + timedelta(seconds=25)


def test_a_reported_end_without_an_end_time_ends_when_observed_and_a_retry_counts_its_attempt():
    history = op("charge", status="PENDING", attempts=1, error_type="Throttled", attempt_history=[{"attempt": 1}])
    (view,) = operations_overlay([history], [pushed("charge", status="FAILED", attempt=2, error_type="CardDeclined")])
    assert view.ended_at == T0 + timedelta(seconds=30) and view.attempts == 2 and view.error_type == "CardDeclined"
    (view,) = operations_overlay([history], [pushed("charge", status="STARTED", attempt=2)])
    assert view.ended_at is None and view.error_type == "Throttled" and view.attempt_history == [{"attempt": 1}]
