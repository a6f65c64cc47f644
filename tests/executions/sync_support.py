"""Helpers for the execution-sync tests: start test workflows, read boto3's history, sync."""

from __future__ import annotations

import json
import urllib.request

from executions.events import event_normalize
from executions.models import Execution, HistoryEvent
from tests.conftest import wait_until
from tests.orders import execution_wait, history


def workflow_start(lambda_client, function_name: str, payload: dict | None = None) -> str:
    response = lambda_client.invoke(
        FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload or {}).encode()
    )
    assert response["StatusCode"] == 202
    return response["DurableExecutionArn"]


def workflow_run(lambda_client, function_name: str, payload: dict | None = None, timeout: float = 60) -> str:
    arn = workflow_start(lambda_client, function_name, payload)
    execution_wait(lambda_client, arn, timeout=timeout)
    return arn


def boto_history(lambda_client, arn: str) -> list[dict]:
    """The history as boto3 returns it (IncludeExecutionData, as the poller asks), JSON-normalised."""
    events, marker = [], None
    while True:
        kwargs = {"DurableExecutionArn": arn, "MaxItems": 1000, "IncludeExecutionData": True}
        if marker:
            kwargs["Marker"] = marker
        page = lambda_client.get_durable_execution_history(**kwargs)
        events.extend(event_normalize(event) for event in page["Events"])
        marker = page.get("NextMarker")
        if not marker:
            return events


def stored_history(execution: Execution) -> list[dict]:
    return [row.raw for row in HistoryEvent.objects.filter(execution=execution).order_by("event_id")]


def callback_id_wait(lambda_client, arn: str, index: int = 0, timeout: float = 30) -> str:
    """The CallbackId of the execution's index-th CallbackStarted event, once it exists."""

    def find():
        started = [e for e in history(lambda_client, arn) if e["EventType"] == "CallbackStarted"]
        return started[index]["CallbackStartedDetails"]["CallbackId"] if len(started) > index else None

    return wait_until(find, timeout=timeout, message=f"callback #{index} of {arn}")


def events_wait(lambda_client, arn: str, event_type: str, count: int = 1, timeout: float = 30) -> None:
    wait_until(
        lambda: sum(e["EventType"] == event_type for e in history(lambda_client, arn)) >= count,
        timeout=timeout,
        message=f"{count} {event_type} event(s) in {arn}",
    )


def execution_synced(function_name: str, arn: str, *, until=None) -> Execution:
    """Run the poller's cycle until the execution is in the database (and `until(execution)` holds)."""
    from executions.sync import execution_history_sync, functions_sync

    def ready():
        functions_sync(function_name=function_name)
        execution = Execution.objects.filter(arn=arn).first()
        if execution is None:
            return None
        execution_history_sync(execution_id=execution.pk)
        execution.refresh_from_db()
        return execution if until is None or until(execution) else None

    return wait_until(ready, timeout=30, interval=0.3, message=f"{arn} synced")


def gateway_faults(stack, method: str = "POST", body: dict | None = None) -> dict:
    """Arm (POST), show (GET) or clear (DELETE) the local gateway's throttling faults (functions/gateway/faults.py)."""
    request = urllib.request.Request(
        f"{stack.gateway_url}/_gateway/faults",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")
