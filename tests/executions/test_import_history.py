"""import_history: a saved history goes through the poller's own code (same rows as a live sync),
unknown event types survive, and attention is derived from what the events say."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from executions.models import Execution, HistoryEvent, Invocation, Operation
from executions.sync import functions_sync, history_import
from tests.executions.sync_support import workflow_run

OPERATION_FIELDS = [
    "operation_id", "parent_operation_id", "op_type", "sub_type", "name", "status", "started_at", "ended_at",
    "attempts", "attempt_history", "callback_id", "callback_timeout_seconds", "heartbeat_timeout_seconds", "deadline",
    "wait_seconds", "wait_scheduled_end", "error_type", "error_message", "error_data", "extra", "result_preview",
    "result_truncated", "result_size", "first_event_id", "last_event_id", "depth",
]  # fmt: skip
EXECUTION_FIELDS = [
    "status", "started_at", "ended_at", "duration_ms", "input_raw", "input", "result_raw", "result", "error_type",
    "error_message", "last_event_id", "last_event_at", "activity", "attention_reasons", "needs_attention",
    "has_failures", "history_complete", "execution_timeout_seconds",
]  # fmt: skip


def snapshot(execution: Execution) -> dict:
    ops = Operation.objects.filter(execution=execution).order_by("first_event_id", "operation_id")
    return {
        "execution": {field: getattr(execution, field) for field in EXECUTION_FIELDS},
        "events": [row.raw for row in HistoryEvent.objects.filter(execution=execution).order_by("event_id")],
        "operations": [
            {**{f: getattr(op, f) for f in OPERATION_FIELDS}, "parent": op.parent.operation_id if op.parent else None}
            for op in ops
        ],
        "invocations": list(
            Invocation.objects.filter(execution=execution)
            .order_by("event_id")
            .values("event_id", "started_at", "ended_at", "request_id", "error_type", "error_message")
        ),
    }


def cli_output(lambda_client, arn: str) -> str:
    """What `aws lambda get-durable-execution-history` prints (ISO timestamps, one Events list)."""
    events = lambda_client.get_durable_execution_history(
        DurableExecutionArn=arn, MaxItems=1000, IncludeExecutionData=True
    )["Events"]
    return json.dumps({"Events": events}, default=lambda value: value.isoformat(), indent=2)


@pytest.mark.django_db
@pytest.mark.slow
@pytest.mark.parametrize(("function_name", "payload"), [("SyncConcurrency", {}), ("SyncRetries", {"fail_until": 9})])
def test_import_of_a_saved_file_equals_the_live_sync(aws, lambda_client, settings, tmp_path, function_name, payload):
    settings.DURABLE_API_MAX_RPS = 500
    arn = workflow_run(lambda_client, function_name, payload)
    functions_sync(function_name=function_name)
    live = Execution.objects.get(arn=arn)
    saved = tmp_path / "history.json"
    saved.write_text(cli_output(lambda_client, arn))

    out = io.StringIO()
    call_command("import_history", str(saved), "--function", function_name, "--name", "offline copy", stdout=out)
    imported = Execution.objects.get(pk=int(out.getvalue().strip()))
    assert imported.pk != live.pk and imported.imported and imported.name == "offline copy"
    assert imported.function_name == function_name and imported.next_poll_at is None
    assert snapshot(imported) == snapshot(live)

    # Importing the same file again updates the same execution: nothing is duplicated.
    out2 = io.StringIO()
    call_command("import_history", str(saved), "--function", function_name, stdout=out2)
    assert out2.getvalue().strip() == str(imported.pk)
    assert HistoryEvent.objects.filter(execution=imported).count() == len(snapshot(live)["events"])


T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def event(event_id: int, event_type: str, op_id: str | None, seconds: float, **extra) -> dict:
    item = {"EventType": event_type, "EventId": event_id, "EventTimestamp": at(seconds), **extra}
    if op_id:
        item["Id"] = op_id
    return item


def running_history() -> list[dict]:
    """A running execution (as AWS reports it) with a callback carrying Timeout, a wait, an unknown event type."""
    return [
        event(1, "ExecutionStarted", "exec-1", 0, Name="order-77",
              ExecutionStartedDetails={"Input": {"Payload": '{"orderId": "77"}', "Truncated": False},
                                       "ExecutionTimeout": 86400}),
        event(2, "StepStarted", "s1", 1, SubType="Step", Name="create_order", StepStartedDetails={}),
        event(3, "StepSucceeded", "s1", 1.2, SubType="Step", Name="create_order",
              StepSucceededDetails={"Result": {"Payload": '{"t":"m","v":{"id":{"t":"s","v":"77"}}}',
                                               "Truncated": False}}),
        event(4, "CallbackStarted", "cb1", 2, SubType="Callback", Name="approval",
              CallbackStartedDetails={"CallbackId": "secret-callback-id", "Timeout": 3600, "HeartbeatTimeout": 600}),
        event(5, "ContextStarted", "ctx", 2.5, SubType="Parallel", Name="side"),
        event(6, "WaitStarted", "w1", 3, SubType="Wait", Name="cool_down", ParentId="ctx",
              WaitStartedDetails={"Duration": 60, "ScheduledEndTimestamp": at(63)}),
        event(7, "QuantumLeapStarted", "q1", 4, SubType="Teleport", Name="leap",
              QuantumLeapStartedDetails={"Destination": {"Payload": '"1955"'}}),
        event(8, "InvocationCompleted", None, 5,
              InvocationCompletedDetails={"StartTimestamp": at(0.5), "EndTimestamp": at(5), "RequestId": "req-1",
                                          "Error": {"Payload": {"ErrorType": "Runtime.OOM", "ErrorMessage": "boom"}}}),
    ]  # fmt: skip


@pytest.mark.django_db
def test_unknown_event_types_survive_and_attention_is_derived():
    execution = history_import(events=running_history(), function_name="OrderApproval")
    assert HistoryEvent.objects.filter(execution=execution).count() == 8
    leap = HistoryEvent.objects.get(execution=execution, event_id=7)
    assert (leap.event_type, leap.sub_type, leap.details) == (
        "QuantumLeapStarted",
        "Teleport",
        {"Destination": {"Payload": '"1955"'}},
    )
    ops = {op.operation_id: op for op in Operation.objects.filter(execution=execution)}
    assert (ops["q1"].op_type, ops["q1"].status, ops["q1"].name) == ("quantum_leap", "STARTED", "leap")
    callback = ops["cb1"]
    assert callback.deadline == T0 + timedelta(seconds=2 + 3600)
    assert (callback.callback_timeout_seconds, callback.heartbeat_timeout_seconds) == (3600, 600)
    assert ops["w1"].parent_id == ops["ctx"].pk and ops["w1"].depth == 1
    assert ops["s1"].result_preview == '{"id": "77"}'
    invocation = Invocation.objects.get(execution=execution)
    assert (invocation.request_id, invocation.error_type, invocation.started_at) == (
        "req-1",
        "Runtime.OOM",
        T0 + timedelta(seconds=0.5),
    )
    assert execution.status == "RUNNING" and execution.input == {"orderId": "77"}
    assert execution.execution_timeout_seconds == 86400
    # It is long past every deadline now: the callback is overdue and past its SLA, the wait too.
    codes = {reason["code"] for reason in execution.attention_reasons}
    assert codes == {"callback_overdue", "callback_sla", "wait_overdue", "invocation_failed"}
    assert execution.needs_attention and execution.has_failures
    assert execution.activity["kind"] == "callback"
    assert execution.activity["deadline"] == (T0 + timedelta(seconds=3602)).isoformat()
    assert execution.activity["open_operations"] == 4  # callback, parallel context, wait, leap
    assert "secret-callback-id" not in json.dumps(execution.activity)


@pytest.mark.django_db
def test_timed_out_and_stalled_executions():
    timed_out = history_import(
        events=[
            event(1, "ExecutionStarted", "e", 0, ExecutionStartedDetails={"Input": {"Payload": "{}"}}),
            event(2, "ExecutionTimedOut", "e", 10, ExecutionTimedOutDetails={
                "Error": {"Payload": {"ErrorType": "TimeoutError", "ErrorMessage": "too slow"}}}),
        ],
        function_name="Imported",
    )  # fmt: skip
    assert timed_out.status == "TIMED_OUT" and timed_out.error_type == "TimeoutError"
    assert [r["code"] for r in timed_out.attention_reasons] == ["timed_out"]
    assert timed_out.activity is None and timed_out.history_complete

    stalled = history_import(
        events=[
            event(1, "ExecutionStarted", "e2", 0, ExecutionStartedDetails={"Input": {"Payload": "{}"}}),
            event(2, "StepStarted", "s", 1, SubType="Step", Name="slow_step"),
        ],
        function_name="Imported",
    )
    assert [r["code"] for r in stalled.attention_reasons] == ["no_progress"]
    assert stalled.activity == {
        "kind": "step",
        "name": "slow_step",
        "operation_id": "s",
        "since": at(1),
        "open_operations": 1,
    }


@pytest.mark.django_db
def test_bare_event_list_and_bad_files(tmp_path):
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(running_history()[:3]))
    out = io.StringIO()
    call_command("import_history", str(bare), stdout=out)
    execution = Execution.objects.get(pk=int(out.getvalue()))
    assert execution.function_name == "imported" and execution.name == "order-77"
    assert execution.activity["kind"] == "running"

    broken = tmp_path / "broken.json"
    broken.write_text('{"Nope": 1}')
    with pytest.raises(CommandError, match="not a saved history"):
        call_command("import_history", str(broken))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_history", str(tmp_path / "missing.json"))
