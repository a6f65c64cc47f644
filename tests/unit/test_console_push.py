"""durable_console_push: wire events built from the SDK's real hook infos, body splitting, configuration and
registration (functions/console_push/README.md is the contract)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from importlib import metadata

import durable_console_push
import pytest
from aws_durable_execution_sdk_python.lambda_service import ErrorObject, OperationStatus
from aws_durable_execution_sdk_python.plugin import (
    DurableInstrumentationPlugin,
    InvocationEndInfo,
    InvocationStartInfo,
    InvocationStatus,
    OperationChangeInfo,
    OperationEndInfo,
    OperationInfo,
    OperationStartInfo,
    OperationType,
    UserFunctionEndInfo,
    UserFunctionStartInfo,
)
from aws_durable_execution_sdk_python.plugin_discovery import load_configured_plugins
from durable_console_push import ConsolePushFactory, ConsolePushPlugin, events, logs, sender_from_environment
from durable_console_push.sender import MAX_BODY_BYTES, pack

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:orders:$LATEST/durable-execution/run-1/abc"
STARTED = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
ENDED = datetime(2026, 12, 6, 12, 0, 3, 500000, tzinfo=UTC)
PAYLOAD = '{"t": "m", "v": {"secret": "card 4111 1111 1111 1111", "note": "café"}}'


def step_info(cls=OperationEndInfo, *, status=OperationStatus.SUCCEEDED, attempt=2, **extra):
    fields = {
        "operation_id": "op-1",
        "operation_type": OperationType.STEP,
        "sub_type": "Step",
        "name": "charge",
        "parent_id": "ctx-1",
        "start_time": STARTED,
        "is_replayed": False,
        "status": status,
        "attempt": attempt,
    }
    return cls(**(fields | extra))


def test_an_operation_event_carries_ids_status_times_and_sizes_never_the_payload():
    info = step_info(
        end_time=ENDED,
        result=PAYLOAD,
        error=ErrorObject(message="x" * 5000, type="CardDeclined", data="secret data", stack_trace=["frame"]),
    )
    event = events.operation_event(info, hook="operation_end", execution_arn=ARN, request_id="req-1")

    assert event == {
        "kind": "operation",
        "execution_arn": ARN,
        "request_id": "req-1",
        "observed_at": event["observed_at"],
        "hook": "operation_end",
        "operation_id": "op-1",
        "parent_id": "ctx-1",
        "name": "charge",
        "type": "STEP",
        "sub_type": "Step",
        "status": "SUCCEEDED",
        "attempt": 2,
        "started_at": "2026-12-06T12:00:00+00:00",
        "ended_at": "2026-12-06T12:00:03.500000+00:00",
        "error_type": "CardDeclined",
        "error_message": "x" * 1000,
        "result_size": len(PAYLOAD.encode()),
        "version": [2, 9],
    }
    assert datetime.fromisoformat(event["observed_at"]).tzinfo is not None
    text = json.dumps(event)
    assert "4111" not in text and "secret" not in text and "frame" not in text
    assert event["result_size"] == len(PAYLOAD) + 1  # bytes, not characters (é is two bytes)


@pytest.mark.parametrize(
    ("status", "rank"),
    [
        (OperationStatus.STARTED, 1),
        (OperationStatus.PENDING, 2),
        (OperationStatus.READY, 3),
        (OperationStatus.SUCCEEDED, 9),
        (OperationStatus.FAILED, 9),
        (OperationStatus.CANCELLED, 9),
        (OperationStatus.TIMED_OUT, 9),
        (OperationStatus.STOPPED, 9),
        ("PAUSED", 0),  # an unknown status is reported as received, ranked lowest
        (None, 0),
    ],
)
def test_version_is_attempt_then_status_rank(status, rank):
    event = events.operation_event(step_info(status=status, attempt=3), hook="x", execution_arn=ARN, request_id=None)
    assert event["version"] == [3, rank]
    assert event["status"] == (status.value if isinstance(status, OperationStatus) else status)


def test_versions_order_a_retried_step_as_it_progresses():
    seen = [
        step_info(OperationStartInfo, status=OperationStatus.STARTED, attempt=None),
        step_info(UserFunctionStartInfo, status=OperationStatus.STARTED, attempt=1),
        step_info(status=OperationStatus.PENDING, attempt=1),
        step_info(status=OperationStatus.READY, attempt=1),
        step_info(UserFunctionStartInfo, status=OperationStatus.STARTED, attempt=2),
        step_info(status=OperationStatus.SUCCEEDED, attempt=2),
    ]
    versions = [events.operation_event(info, hook="x", execution_arn=ARN, request_id=None)["version"] for info in seen]
    assert versions == sorted(versions) == [[0, 1], [1, 1], [1, 2], [1, 3], [2, 1], [2, 9]]


def test_only_steps_report_an_attempt_so_a_context_start_never_outranks_its_end():
    """The SDK's user-function hooks give a child context attempt 1, its checkpoint none."""
    context = {"operation_type": OperationType.CONTEXT, "sub_type": "RunInChildContext"}
    start = step_info(UserFunctionStartInfo, status=OperationStatus.STARTED, attempt=1, **context)
    end = step_info(status=OperationStatus.SUCCEEDED, attempt=None, **context)
    reports = [events.operation_event(info, hook="x", execution_arn=ARN, request_id=None) for info in (start, end)]
    assert [report["attempt"] for report in reports] == [None, None]
    assert [report["version"] for report in reports] == [[0, 1], [0, 9]]


def test_a_naive_time_is_utc_and_missing_values_are_null():
    info = OperationInfo(
        operation_id="root",
        operation_type=OperationType.EXECUTION,
        sub_type=None,
        name=None,
        parent_id=None,
        start_time=STARTED.replace(tzinfo=None),
        is_replayed=False,
        status=OperationStatus.STARTED,
    )
    event = events.operation_event(info, hook="x", execution_arn=None, request_id=None)
    assert event["started_at"] == "2026-12-06T12:00:00+00:00"
    assert event["ended_at"] is event["sub_type"] is event["error_message"] is event["result_size"] is None
    assert event["type"] == "EXECUTION"


def test_an_empty_result_has_size_zero():
    """The SDK's result is "" when it was checkpointed out of band (a large payload)."""
    assert (
        events.operation_event(step_info(result=""), hook="x", execution_arn=ARN, request_id=None)["result_size"] == 0
    )


def start_info(**extra) -> InvocationStartInfo:
    operations = {
        "root": step_info(operation_id="root", operation_type=OperationType.EXECUTION, attempt=None),
        "op-1": step_info(status=OperationStatus.PENDING, attempt=1),
        "op-2": step_info(operation_id="op-2", operation_type=OperationType.WAIT, status=OperationStatus.SUCCEEDED),
    }
    fields = {
        "request_id": "req-2",
        "execution_arn": ARN,
        "is_first_invocation": False,
        "execution_start_time": STARTED,
        "operations": operations,
        "updated_operations": {"op-2": operations["op-2"]},
    }
    return InvocationStartInfo(**(fields | extra))


def test_a_snapshot_lists_every_operation_with_its_version():
    event = events.snapshot_event(start_info())
    assert event["kind"] == "snapshot"
    assert (event["execution_arn"], event["request_id"], event["first_invocation"]) == (ARN, "req-2", False)
    assert event["execution_started_at"] == "2026-12-06T12:00:00+00:00"
    assert event["operations"] == [["root", 0, 9], ["op-1", 1, 2], ["op-2", 0, 9]]


def test_invocation_events_start_and_end():
    start = events.invocation_event(start_info(is_first_invocation=True))
    assert {k: start[k] for k in ("kind", "phase", "first_invocation", "status", "error_type", "error_message")} == {
        "kind": "invocation",
        "phase": "start",
        "first_invocation": True,
        "status": None,
        "error_type": None,
        "error_message": None,
    }
    end_info = InvocationEndInfo(
        request_id="req-2",
        execution_arn=ARN,
        is_first_invocation=False,
        status=InvocationStatus.FAILED,
        error=ErrorObject(message="m" * 1500, type="OrderRejected", data=None, stack_trace=None),
        execution_result="never sent",
    )
    end = events.invocation_event(end_info)
    assert (end["phase"], end["status"], end["error_type"]) == ("end", "FAILED", "OrderRejected")
    assert end["error_message"] == "m" * 1000
    assert "never sent" not in json.dumps(end)


# Bodies.


def test_a_batch_is_split_into_bodies_of_at_most_1_mb_in_order():
    batch = [{"kind": "operation", "operation_id": f"op-{i}", "name": "n" * 1000} for i in range(2500)]
    bodies, oversized = pack(batch, sent_at="2026-12-06T12:00:00+00:00")
    assert oversized == 0
    assert len(bodies) == 3
    received = []
    for body, count in bodies:
        assert len(body) <= MAX_BODY_BYTES
        decoded = json.loads(body)
        assert decoded["schema"] == 1 and decoded["sent_at"] == "2026-12-06T12:00:00+00:00"
        assert len(decoded["events"]) == count
        received += decoded["events"]
    assert received == batch


def test_splitting_fills_each_body_up_to_the_limit():
    batch = [{"i": i} for i in range(100)]
    bodies, _ = pack(batch, sent_at="t", limit=200)
    assert all(len(body) <= 200 for body, _ in bodies)
    assert all(len(body) + len(b',{"i":99}') > 200 for body, _ in bodies[:-1])  # the next event would not fit
    assert [e for body, _ in bodies for e in json.loads(body)["events"]] == batch


def test_an_event_too_large_for_any_body_is_left_out_and_counted():
    bodies, oversized = pack([{"i": 1}, {"name": "x" * 500}, {"i": 2}], sent_at="t", limit=200)
    assert oversized == 1
    assert [e for body, _ in bodies for e in json.loads(body)["events"]] == [{"i": 1}, {"i": 2}]


# Configuration and registration.


@pytest.mark.parametrize("environ", [{}, {"DURABLE_CONSOLE_PUSH_URL": ""}, {"DURABLE_CONSOLE_PUSH_URL": "  "}])
def test_without_a_url_the_plugin_does_nothing_and_starts_no_thread(environ):
    threads = {thread.ident for thread in threading.enumerate()}
    push = ConsolePushFactory(environ)
    plugin = push.create_plugin(start_info())
    assert type(plugin) is DurableInstrumentationPlugin
    plugin.on_invocation_start(start_info())
    plugin.on_invocation_end(
        InvocationEndInfo(request_id=None, execution_arn=ARN, is_first_invocation=True, status=InvocationStatus.PENDING)
    )
    assert push.sender() is None
    assert {thread.ident for thread in threading.enumerate()} - threads == set()


def test_a_url_that_is_not_http_turns_reporting_off():
    assert sender_from_environment({"DURABLE_CONSOLE_PUSH_URL": "file:///etc/passwd"}) is None


@pytest.mark.parametrize(
    ("raw", "seconds"), [(None, 1.5), ("", 1.5), ("0.2", 0.2), ("0", 0.0), ("soon", 1.5), ("-1", 1.5)]
)
def test_flush_seconds(raw, seconds):
    environ = {"DURABLE_CONSOLE_PUSH_URL": "http://127.0.0.1:9/ingest", "DURABLE_CONSOLE_PUSH_TOKEN": " t "}
    if raw is not None:
        environ["DURABLE_CONSOLE_PUSH_FLUSH_SECONDS"] = raw
    sender = sender_from_environment(environ)
    assert (sender.url, sender.token, sender.flush_seconds) == ("http://127.0.0.1:9/ingest", "t", seconds)


def test_the_environment_is_read_on_first_use_then_kept_until_reset(monkeypatch):
    push = ConsolePushFactory()
    monkeypatch.setenv("DURABLE_CONSOLE_PUSH_URL", "http://127.0.0.1:9/first")
    first = push.sender()
    monkeypatch.setenv("DURABLE_CONSOLE_PUSH_URL", "http://127.0.0.1:9/second")
    assert push.sender() is first and first.url.endswith("/first")
    assert isinstance(push.create_plugin(start_info()), ConsolePushPlugin)
    push.reset()
    assert push.sender().url.endswith("/second")
    push.reset()


def test_the_entry_point_names_the_factory_instance():
    (entry_point,) = [
        ep for ep in metadata.entry_points(group="aws_durable_execution.plugins") if ep.name == "durable-console"
    ]
    assert entry_point.value == "durable_console_push:factory"
    assert entry_point.load() is durable_console_push.factory


def test_explicit_and_environment_registration_register_the_factory_once():
    environment = {"DURABLE_EXECUTION_PLUGINS": "durable-console"}
    assert load_configured_plugins(None, environment=environment) == [durable_console_push.factory]
    assert load_configured_plugins([durable_console_push.factory], environment=environment) == [
        durable_console_push.factory
    ]


# Hooks never raise.


class BrokenSender:
    def enqueue(self, event):
        raise RuntimeError("queue broken")

    def flush(self, *args, **kwargs):
        raise RuntimeError("flush broken")


def test_no_hook_raises_whatever_fails_inside_it(caplog):
    logs.reset()
    plugin = ConsolePushPlugin(BrokenSender(), execution_arn=ARN, request_id="req")
    user_start = step_info(UserFunctionStartInfo, status=OperationStatus.STARTED)
    calls = [
        (plugin.on_invocation_start, start_info()),
        (plugin.on_operation_start, step_info(OperationStartInfo, status=OperationStatus.STARTED)),
        (plugin.on_user_function_start, user_start),
        (plugin.on_user_function_end, UserFunctionEndInfo.from_start_info(user_start, None)),
        (plugin.on_operation_change, OperationChangeInfo(ARN, {"op-1": step_info()}, {"op-1": step_info()})),
        (plugin.on_operation_end, step_info()),
        (
            plugin.on_invocation_end,
            InvocationEndInfo(request_id="r", execution_arn=ARN, is_first_invocation=False, status="odd"),
        ),
    ]
    for hook, info in calls:
        assert hook(info) is None
        assert hook(None) is None  # even an info it cannot read
    assert any("durable-console-push" in record.getMessage() for record in caplog.records)


def test_a_factory_that_fails_gives_the_no_op_plugin(monkeypatch):
    push = ConsolePushFactory({"DURABLE_CONSOLE_PUSH_URL": "http://127.0.0.1:9/ingest"})
    monkeypatch.setattr(push, "sender", lambda: 1 / 0)
    assert type(push.create_plugin(start_info())) is DurableInstrumentationPlugin
