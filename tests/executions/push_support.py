"""Helpers for the push (ingest) tests: the plugin's events and EventBridge's, as their wire formats say
(functions/console_push/README.md), posted through the real endpoints; histories on the AWS double."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

from django.utils import timezone

from tests.aws_double import ACCOUNT

TOKEN = "test-ingest-token-" + "x" * 30
OPERATIONS_URL = "/ingest/operations"
EVENTBRIDGE_URL = "/ingest/eventbridge"


def execution_arn(function: str, name: str | None = None) -> str:
    name = name or f"run-{uuid.uuid4().hex[:8]}"
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}:$LATEST/durable-execution/{name}/{uuid.uuid4()}"


def iso(moment: datetime | None = None) -> str:
    return (moment or timezone.now()).astimezone(UTC).isoformat()


def operation_event(
    arn: str,
    operation_id: str,
    status: str,
    version: tuple[int, int],
    *,
    name: str = "charge",
    op_type: str = "STEP",
    sub_type: str | None = "Step",
    hook: str = "operation_end",
    observed_at: datetime | None = None,
    **fields,
) -> dict:
    event = {
        "kind": "operation",
        "execution_arn": arn,
        "request_id": "req-1",
        "observed_at": iso(observed_at),
        "hook": hook,
        "operation_id": operation_id,
        "parent_id": None,
        "name": name,
        "type": op_type,
        "sub_type": sub_type,
        "status": status,
        "attempt": version[0],
        "started_at": iso(observed_at),
        "ended_at": None,
        "error_type": None,
        "error_message": None,
        "result_size": None,
        "version": list(version),
    }
    event.update(fields)
    return event


def snapshot_event(arn: str, operations: list[tuple[str, int, int]], *, started_at: datetime | None = None) -> dict:
    return {
        "kind": "snapshot",
        "execution_arn": arn,
        "request_id": "req-2",
        "observed_at": iso(),
        "first_invocation": False,
        "execution_started_at": iso(started_at) if started_at else None,
        "operations": [list(entry) for entry in operations],
    }


def invocation_event(arn: str, phase: str, status: str | None = None, **fields) -> dict:
    event = {
        "kind": "invocation",
        "execution_arn": arn,
        "request_id": "req-3",
        "observed_at": iso(),
        "phase": phase,
        "first_invocation": False,
        "status": status,
        "error_type": None,
        "error_message": None,
    }
    event.update(fields)
    return event


def batch(*events: dict) -> dict:
    return {"schema": 1, "sent_at": iso(), "events": list(events)}


def post_json(client, url: str, body, *, token: str | None = TOKEN, **headers):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(url, data=data, content_type="application/json", **headers)


def push(client, *events: dict, token: str | None = TOKEN):
    return post_json(client, OPERATIONS_URL, batch(*events), token=token)


def status_change(
    arn: str,
    status: str,
    *,
    event_id: str | None = None,
    started: float | None = None,
    ended: float | None = None,
    epoch_millis: bool = False,
    **detail,
) -> dict:
    """An EventBridge event as AWS's documented example shapes it (ISO timestamps, or epoch milliseconds)."""
    started = started if started is not None else time.time() - 60
    stamp = (lambda t: int(t * 1000)) if epoch_millis else (lambda t: iso(datetime.fromtimestamp(t, UTC)))
    function_arn, _, rest = arn.partition("/durable-execution/")
    body = {
        "durableExecutionArn": arn,
        "durableExecutionName": rest.split("/")[0],
        "functionArn": function_arn if rest else "",
        "status": status,
        "startTimestamp": stamp(started),
        **detail,
    }
    if ended is not None:
        body["endTimestamp"] = stamp(ended)
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "Durable Execution Status Change",
        "source": "aws.lambda",
        "account": ACCOUNT,
        "time": iso(),
        "region": "us-east-1",
        "resources": [],
        "detail": body,
    }


def history_event(double, arn: str, event_type: str, operation_id: str, name: str, sub_type: str, **details) -> dict:
    """Append one history event for an operation to the double's execution (timestamps: now)."""
    execution = double.executions[arn]
    event = {
        "EventType": event_type,
        "EventId": len(execution.events) + 1,
        "EventTimestamp": time.time(),
        "Id": operation_id,
        "Name": name,
        "SubType": sub_type,
        f"{event_type}Details": details,
    }
    execution.events.append(event)
    return event
