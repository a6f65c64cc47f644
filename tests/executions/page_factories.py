"""Rows for the execution-page tests, written straight to the database (no AWS)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from executions.models import Execution, HistoryEvent, Invocation, MonitoredFunction, Operation

_counter = itertools.count(1)


def function_make(name: str = "OrderApproval", *, synced_ago: timedelta | None = timedelta(seconds=5), **fields):
    function, _ = MonitoredFunction.objects.get_or_create(name=name, qualifier="")
    if synced_ago is not None:
        function.last_sync_succeeded_at = timezone.now() - synced_ago
    for key, value in fields.items():
        setattr(function, key, value)
    function.save()
    return function


def execution_make(*, function: MonitoredFunction | None = None, started_ago=timedelta(minutes=5), **fields):
    n = next(_counter)
    function = function or MonitoredFunction.objects.filter(name="OrderApproval").first() or function_make()
    now = timezone.now()
    values = {
        "arn": f"arn:aws:lambda:us-east-1:123456789012:function:{function.name}:$LATEST/durable-execution/x/{n}",
        "name": f"exec-{n:05d}",
        "function": function,
        "function_name": function.name,
        "status": "RUNNING",
        "started_at": now - started_ago,
        "history_complete": False,
    }
    values.update(fields)
    if values["status"] != "RUNNING" and "ended_at" not in fields:
        values["ended_at"] = now - timedelta(seconds=10)
    if values.get("ended_at") and values.get("started_at") and "duration_ms" not in fields:
        values["duration_ms"] = int((values["ended_at"] - values["started_at"]).total_seconds() * 1000)
    return Execution.objects.create(**values)


def operation_make(execution: Execution, *, operation_id: str | None = None, **fields):
    n = next(_counter)
    values = {
        "operation_id": operation_id or f"op{n:06d}",
        "op_type": "step",
        "name": f"step_{n}",
        "status": "SUCCEEDED",
        "started_at": execution.started_at + timedelta(seconds=1),
        "ended_at": execution.started_at + timedelta(seconds=2),
        "first_event_id": n,
        "last_event_id": n,
    }
    values.update(fields)
    return Operation.objects.create(execution=execution, **values)


def callback_make(execution: Execution, *, opened_ago=timedelta(hours=2), timeout=timedelta(hours=1), **fields):
    started = timezone.now() - opened_ago
    values = {
        "op_type": "callback",
        "sub_type": "Callback",
        "name": "approval",
        "status": "STARTED",
        "started_at": started,
        "ended_at": None,
        "callback_id": "SECRET-CALLBACK-TOKEN-" + str(next(_counter)),
        "callback_timeout_seconds": int(timeout.total_seconds()) if timeout else None,
        "deadline": started + timeout if timeout else None,
    }
    values.update(fields)
    return operation_make(execution, **values)


def invocation_make(execution: Execution, *, start_offset: float, seconds: float, **fields):
    started = execution.started_at + timedelta(seconds=start_offset)
    n = next(_counter)
    return Invocation.objects.create(
        execution=execution,
        event_id=fields.pop("event_id", n),
        started_at=started,
        ended_at=started + timedelta(seconds=seconds),
        request_id=f"req-{n}",
        **fields,
    )


def events_make(execution: Execution, count: int, *, event_type: str = "StepSucceeded", details=None):
    """`count` events in one bulk insert (EventIds continue after the last stored one)."""
    start = (execution.events.order_by("-event_id").values_list("event_id", flat=True).first() or 0) + 1
    base = execution.started_at or timezone.now()
    rows = []
    for event_id in range(start, start + count):
        timestamp = base + timedelta(milliseconds=event_id)
        op = f"op-{event_id}"
        raw = {
            "EventType": event_type,
            "EventId": event_id,
            "Id": op,
            "Name": f"step_{event_id}",
            "EventTimestamp": timestamp.isoformat(),
            f"{event_type}Details": details or {"Result": {"Payload": f'{{"n": {event_id}}}'}},
        }
        rows.append(
            HistoryEvent(
                execution=execution,
                event_id=event_id,
                event_type=event_type,
                sub_type="Step",
                operation_id=op,
                name=f"step_{event_id}",
                timestamp=timestamp,
                details=raw[f"{event_type}Details"],
                raw=raw,
            )
        )
    HistoryEvent.objects.bulk_create(rows, batch_size=1000)
    execution.last_event_id = start + count - 1
    execution.save(update_fields=["last_event_id"])
