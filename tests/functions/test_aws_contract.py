"""The contract: what the console relies on from each Lambda API, stated from AWS's model, run against the gateway.

Each test quotes the botocore service model (botocore 1.44.8, `lambda`) for the behaviour it checks.
This module is the definition of "the local stack behaves like AWS": the application code follows
AWS only, and every emulator difference is translated in `functions/gateway/`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import urllib.request
import uuid

import pytest

from tests.conftest import wait_until
from tests.orders import execution_wait, history

# botocore's DurableExecutionArn pattern
ARN_PATTERN = re.compile(
    r"arn:([a-zA-Z0-9-]+):lambda:([a-zA-Z0-9-]+):(\d{12}):function:([a-zA-Z0-9_-]+):"
    r"(\$LATEST(?:\.PUBLISHED)?|[0-9]+)/durable-execution/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)"
)


def start(client, function: str, payload: dict | None = None, name: str | None = None) -> str:
    kwargs = {"FunctionName": function, "InvocationType": "Event", "Payload": json.dumps(payload or {}).encode()}
    if name:
        kwargs["DurableExecutionName"] = name
    return client.invoke(**kwargs)["DurableExecutionArn"]


def faults(stack, method: str = "POST", body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{stack.gateway_url}/_gateway/faults",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def names(page: dict) -> list[str]:
    return [item["DurableExecutionName"] for item in page["DurableExecutions"]]


@pytest.fixture(scope="module")
def three_quick(local_stack):
    """Three finished SyncQuick executions started 50 ms apart, with a common name prefix."""
    from tests.conftest import _raw_client

    client = _raw_client("lambda", local_stack.gateway_url)
    prefix = f"c{uuid.uuid4().hex[:6]}"
    arns = []
    for index in range(3):
        arns.append(start(client, "SyncQuick", {"n": index}, f"{prefix}-{index}"))
        time.sleep(0.05)
    for arn in arns:
        execution_wait(client, arn)
    return prefix, arns


# --- Invoke ---------------------------------------------------------------------------------------


def test_invoke_returns_an_aws_shaped_execution_arn(lambda_client, three_quick):
    """Invoke of a durable function: `DurableExecutionArn` ... matches botocore's `DurableExecutionArn` pattern
    `arn:...:function:NAME:$LATEST/durable-execution/NAME/ID`, and GetDurableExecution accepts it back."""
    prefix, arns = three_quick
    for index, arn in enumerate(arns):
        match = ARN_PATTERN.fullmatch(arn)
        assert match, arn
        assert match[4] == "SyncQuick" and match[5] == "$LATEST" and match[6] == f"{prefix}-{index}"
        described = lambda_client.get_durable_execution(DurableExecutionArn=arn)
        assert described["DurableExecutionArn"] == arn
        assert described["Status"] == "SUCCEEDED"
        # The execution's own operation id is the ARN's last segment (what the SDK relies on).
        assert history(lambda_client, arn)[0]["Id"] == match[7]


# --- ListDurableExecutionsByFunction -------------------------------------------------------------


def test_list_is_newest_first_and_reverse_order_is_oldest_first_across_pages(lambda_client, three_quick):
    """ListDurableExecutionsByFunction `ReverseOrder`: "Set to true to return results in chronological order
    (oldest first). Default is false." (so the default is newest first); `NextMarker`: "Pagination token for
    retrieving additional results. Present only if there are more results available.\""""
    prefix, _ = three_quick
    ours = {f"{prefix}-{i}" for i in range(3)}

    def all_pages(**kwargs) -> list[str]:
        seen, marker = [], None
        while True:
            page = lambda_client.list_durable_executions_by_function(
                FunctionName="SyncQuick", MaxItems=1, **kwargs, **({"Marker": marker} if marker else {})
            )
            assert len(page["DurableExecutions"]) <= 1
            seen += names(page)
            marker = page.get("NextMarker")
            if not marker:
                return [name for name in seen if name in ours]

    assert all_pages() == [f"{prefix}-2", f"{prefix}-1", f"{prefix}-0"]
    assert all_pages(ReverseOrder=True) == [f"{prefix}-0", f"{prefix}-1", f"{prefix}-2"]
    first = lambda_client.list_durable_executions_by_function(FunctionName="SyncQuick")
    assert all(ARN_PATTERN.fullmatch(item["DurableExecutionArn"]) for item in first["DurableExecutions"])


def test_list_filters_by_status_time_window_and_name(lambda_client, three_quick):
    """`Statuses`: "Filters the executions by status."; `StartedAfter`: "Filter executions that started after this
    timestamp"; `StartedBefore`: "... before this timestamp"; `DurableExecutionName`: "Only executions with names
    that matches this string are returned.\""""
    prefix, arns = three_quick
    one = lambda_client.list_durable_executions_by_function(
        FunctionName="SyncQuick", DurableExecutionName=f"{prefix}-1"
    )
    assert names(one) == [f"{prefix}-1"]
    starts = [lambda_client.get_durable_execution(DurableExecutionArn=arn)["StartTimestamp"] for arn in arns]
    window = lambda_client.list_durable_executions_by_function(
        FunctionName="SyncQuick", StartedAfter=starts[0], StartedBefore=starts[2]
    )
    assert [name for name in names(window) if name.startswith(prefix)] == [f"{prefix}-1"]
    later = lambda_client.list_durable_executions_by_function(
        FunctionName="SyncQuick", StartedAfter=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    )
    assert later["DurableExecutions"] == []
    succeeded = lambda_client.list_durable_executions_by_function(
        FunctionName="SyncQuick", Statuses=["SUCCEEDED"], MaxItems=1000
    )
    assert {f"{prefix}-{i}" for i in range(3)} <= set(names(succeeded))
    assert {item["Status"] for item in succeeded["DurableExecutions"]} == {"SUCCEEDED"}
    running = lambda_client.list_durable_executions_by_function(
        FunctionName="SyncQuick", Statuses=["RUNNING", "PAUSED"], MaxItems=1000
    )
    assert not set(names(running)) & {f"{prefix}-{i}" for i in range(3)}


def test_list_bounds_are_validated_as_aws_does(lambda_client, three_quick):
    """`MaxItems`: "Maximum number of executions to return (1-1000). Default is 100." (min 0, max 1000);
    `Statuses`: list of 1..10 `ExecutionStatus` values; errors: InvalidParameterValueException (400)."""
    for bad in (
        {"MaxItems": 1001},
        {"Statuses": ["RUNNING"] * 11},
        {"Statuses": ["NOT_A_STATUS"]},
        {"Marker": "not-a-marker"},
    ):
        with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as caught:
            lambda_client.list_durable_executions_by_function(FunctionName="SyncQuick", **bad)
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    page = lambda_client.list_durable_executions_by_function(FunctionName="SyncQuick", MaxItems=0)
    assert len(page["DurableExecutions"]) >= 3  # 0 means the default (100)
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.list_durable_executions_by_function(FunctionName="NoSuchFunction")


# --- GetDurableExecution ---------------------------------------------------------------------------


def test_get_unknown_execution_is_resource_not_found(lambda_client, three_quick):
    """GetDurableExecution errors include `ResourceNotFoundException` (404)."""
    _, arns = three_quick
    unknown = arns[0].rsplit("/", 1)[0] + "/" + str(uuid.uuid4())
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as caught:
        lambda_client.get_durable_execution(DurableExecutionArn=unknown)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException):
        lambda_client.get_durable_execution(DurableExecutionArn="not-an-execution")
    described = lambda_client.get_durable_execution(DurableExecutionArn=arns[0], IncludeExecutionData=False)
    assert described["ExecutionDataIncluded"] is False and "InputPayload" not in described
    assert described["DurableConfig"] == {"ExecutionTimeout": 120, "RetentionPeriodInDays": 7}


# --- GetDurableExecutionHistory ----------------------------------------------------------------------


def test_history_is_oldest_first_and_reverse_order_newest_first_across_pages(lambda_client):
    """GetDurableExecutionHistory `ReverseOrder`: "When set to true, returns the history events in reverse
    chronological order (newest first). By default, events are returned in chronological order (oldest first)."
    `EventId`: "Event IDs increment sequentially.\""""
    arn = start(lambda_client, "SyncRetries", {"fail_until": 1})
    execution_wait(lambda_client, arn)
    events = history(lambda_client, arn)
    assert [event["EventId"] for event in events] == list(range(1, len(events) + 1))
    assert events[0]["EventType"] == "ExecutionStarted" and events[-1]["EventType"] == "ExecutionSucceeded"

    def paged(**kwargs) -> list[int]:
        ids, marker = [], None
        while True:
            page = lambda_client.get_durable_execution_history(
                DurableExecutionArn=arn, MaxItems=2, **kwargs, **({"Marker": marker} if marker else {})
            )
            ids += [event["EventId"] for event in page["Events"]]
            marker = page.get("NextMarker")
            if not marker:
                return ids

    assert paged() == list(range(1, len(events) + 1))
    assert paged(ReverseOrder=True) == list(range(len(events), 0, -1))
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException):
        lambda_client.get_durable_execution_history(DurableExecutionArn=arn, MaxItems=1001)


def _callback_ids(client, arn: str, count: int = 1) -> list[dict]:
    def started():
        found = [e for e in history(client, arn) if e["EventType"] == "CallbackStarted"]
        return found if len(found) >= count else None

    return wait_until(started, timeout=30, message="CallbackStarted")


def test_history_callback_started_details_carry_the_timeouts(lambda_client):
    """`CallbackStartedDetails`: `CallbackId` (required), `HeartbeatTimeout` "The heartbeat timeout value, in
    seconds.", `Timeout` "The timeout value, in seconds.\""""
    arn = start(lambda_client, "SyncCallbacks", {"timeout": 120})
    (event,) = _callback_ids(lambda_client, arn)
    assert event["CallbackStartedDetails"]["Timeout"] == 120
    assert event["CallbackStartedDetails"]["HeartbeatTimeout"] == 600
    lambda_client.stop_durable_execution(DurableExecutionArn=arn)


def test_history_invocation_completed_details(lambda_client):
    """`InvocationCompletedDetails` (required `StartTimestamp`, `EndTimestamp`, `RequestId`; `Error`: "Details
    about the invocation failure.")."""
    arn = start(lambda_client, "SyncFlakyInvocation")
    assert execution_wait(lambda_client, arn)["Status"] == "SUCCEEDED"
    events = history(lambda_client, arn)
    completed = [e for e in events if e["EventType"] == "InvocationCompleted"]
    assert len(completed) >= 2
    for event in completed:
        details = event["InvocationCompletedDetails"]
        assert details["StartTimestamp"] <= details["EndTimestamp"] and details["RequestId"]
    failed = [e for e in completed if "Error" in e["InvocationCompletedDetails"]]
    assert len(failed) == 1
    assert failed[0]["InvocationCompletedDetails"]["Error"]["Payload"]["ErrorType"] == "RuntimeError"
    assert completed.index(failed[0]) == 0
    assert [e["EventId"] for e in events] == list(range(1, len(events) + 1))
    times = [e["EventTimestamp"] for e in events]
    assert times == sorted(times)


def test_history_event_ids_are_stable_across_reads(lambda_client):
    """History is append-only: an event read while the execution runs keeps its `EventId` ("Event IDs increment
    sequentially") in every later read, and what happens later is appended after it. The console's incremental
    sync reads only the events after the last id it stored, so a renumbered history would be missed."""
    arn = start(lambda_client, "SyncCallbacks", {"timeout": 120})
    (first,) = _callback_ids(lambda_client, arn)
    early = {e["EventId"]: (e["EventType"], e.get("Id")) for e in history(lambda_client, arn)}
    lambda_client.send_durable_execution_callback_success(
        CallbackId=first["CallbackStartedDetails"]["CallbackId"], Result=b'{"ok": true}'
    )
    second = _callback_ids(lambda_client, arn, 2)[1]["CallbackStartedDetails"]["CallbackId"]
    lambda_client.send_durable_execution_callback_success(CallbackId=second, Result=b'{"ok": true}')
    assert execution_wait(lambda_client, arn)["Status"] == "SUCCEEDED"
    events = history(lambda_client, arn)
    assert [e["EventId"] for e in events] == list(range(1, len(events) + 1))
    late = {e["EventId"]: (e["EventType"], e.get("Id")) for e in events}
    assert {event_id: late[event_id] for event_id in early} == early
    assert len(late) > len(early) and events[-1]["EventType"] == "ExecutionSucceeded"


# --- callbacks ----------------------------------------------------------------------------------


def test_callbacks_answer_and_closed_callbacks_are_callback_timeout(lambda_client):
    """SendDurableExecutionCallbackSuccess/Failure/Heartbeat errors include `CallbackTimeoutException` (400): the
    callback is no longer open."""
    arn = start(lambda_client, "SyncCallbacks", {"timeout": 120})
    (first,) = _callback_ids(lambda_client, arn)
    callback_id = first["CallbackStartedDetails"]["CallbackId"]
    lambda_client.send_durable_execution_callback_heartbeat(CallbackId=callback_id)
    lambda_client.send_durable_execution_callback_success(CallbackId=callback_id, Result=b'{"ok": true}')
    second = _callback_ids(lambda_client, arn, 2)[1]["CallbackStartedDetails"]["CallbackId"]
    lambda_client.send_durable_execution_callback_failure(
        CallbackId=second, Error={"ErrorType": "Rejected", "ErrorMessage": "no"}
    )
    assert execution_wait(lambda_client, arn)["Status"] == "SUCCEEDED"
    for call in (
        lambda: lambda_client.send_durable_execution_callback_success(CallbackId=callback_id, Result=b"{}"),
        lambda: lambda_client.send_durable_execution_callback_failure(CallbackId=second, Error={"ErrorType": "x"}),
        lambda: lambda_client.send_durable_execution_callback_heartbeat(CallbackId=callback_id),
    ):
        with pytest.raises(lambda_client.exceptions.CallbackTimeoutException) as caught:
            call()
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# --- StopDurableExecution ---------------------------------------------------------------------------


def test_stop_a_running_execution(lambda_client):
    """StopDurableExecution: "Stops a running or paused durable execution. The execution transitions to STOPPED
    status and cannot be resumed.\""""
    arn = start(lambda_client, "SyncHold")
    _callback_ids(lambda_client, arn)
    stopped = lambda_client.stop_durable_execution(
        DurableExecutionArn=arn, Error={"ErrorType": "Manual", "ErrorMessage": "stopped by a test"}
    )
    assert "StopTimestamp" in stopped
    assert execution_wait(lambda_client, arn)["Status"] == "STOPPED"
    types = [e["EventType"] for e in history(lambda_client, arn) if e["EventType"] != "InvocationCompleted"]
    assert types[-1] == "ExecutionStopped"  # (an invocation in flight may complete after it)


# --- throttling ---------------------------------------------------------------------------------------


def test_throttling_has_aws_shape(lambda_client, local_stack, three_quick):
    """Every durable API lists `TooManyRequestsException` (429; members `retryAfterSeconds`, `Reason`)."""
    _, arns = three_quick
    # (the session's clients retry once, legacy mode: arm more than the calls below make)
    faults(local_stack, body={"throttle": 100, "operation": "*", "retryAfterSeconds": 2})
    try:
        for call in (
            lambda: lambda_client.list_durable_executions_by_function(FunctionName="SyncQuick"),
            lambda: lambda_client.get_durable_execution_history(DurableExecutionArn=arns[0]),
        ):
            with pytest.raises(lambda_client.exceptions.TooManyRequestsException) as caught:
                call()
            response = caught.value.response
            assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
            assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "2"
            assert response["Reason"] == "CallerRateLimitExceeded"
        assert faults(local_stack, "GET")["*"]["remaining"] > 0
        faults(local_stack, "DELETE")
        assert lambda_client.get_durable_execution(DurableExecutionArn=arns[0])["Status"] == "SUCCEEDED"
    finally:
        faults(local_stack, "DELETE")


# --- Pause / Resume / Delete ---------------------------------------------------------------------------


def test_pause_holds_invocations_while_waits_complete_then_resume(lambda_client):
    """PauseDurableExecution: "While an execution is paused, Lambda doesn't invoke your function, but pending
    operations such as waits and callbacks continue to complete." ResumeDurableExecution: "If ... an operation
    completed while the execution was paused, Lambda invokes your function.\""""
    arn = start(lambda_client, "SyncWaits", {"first": 2, "second": 1})
    wait_until(lambda: any(e["EventType"] == "WaitStarted" for e in history(lambda_client, arn)), message="wait")
    lambda_client.pause_durable_execution(DurableExecutionArn=arn, Reason="maintenance", ClientToken="p-1")
    lambda_client.pause_durable_execution(DurableExecutionArn=arn, Reason="maintenance", ClientToken="p-1")
    described = wait_until(
        lambda: (d := lambda_client.get_durable_execution(DurableExecutionArn=arn))["Status"] == "PAUSED" and d,
        message="PAUSED",
    )
    assert described["PauseDetails"]["Reason"] == "maintenance"
    assert described["PauseDetails"]["ExecutionTimeoutPaused"] is True
    paused = lambda_client.list_durable_executions_by_function(FunctionName="SyncWaits", Statuses=["PAUSED"])
    assert arn in [item["DurableExecutionArn"] for item in paused["DurableExecutions"]]
    with pytest.raises(lambda_client.exceptions.ResourceConflictException):
        lambda_client.pause_durable_execution(DurableExecutionArn=arn)
    wait_until(lambda: any(e["EventType"] == "WaitSucceeded" for e in history(lambda_client, arn)), message="wait")
    time.sleep(1.0)  # the emulator invokes now; the gateway holds the invocation
    assert not any(e["EventType"] == "StepStarted" for e in history(lambda_client, arn))
    assert lambda_client.get_durable_execution(DurableExecutionArn=arn)["Status"] == "PAUSED"
    lambda_client.resume_durable_execution(DurableExecutionArn=arn, Reason="done")
    assert execution_wait(lambda_client, arn)["Status"] == "SUCCEEDED"
    types = [e["EventType"] for e in history(lambda_client, arn)]
    assert types.index("ExecutionPaused") < types.index("WaitSucceeded") < types.index("ExecutionResumed")
    assert types.index("ExecutionResumed") < types.index("StepStarted")
    with pytest.raises(lambda_client.exceptions.ResourceConflictException):
        lambda_client.resume_durable_execution(DurableExecutionArn=arn)


def test_delete_only_terminal_executions_then_hidden(lambda_client):
    """DeleteDurableExecution: "The execution must be in a terminal state (SUCCEEDED, FAILED, STOPPED, or
    TIMED_OUT). Otherwise, this operation returns a ResourceConflictException.\""""
    running = start(lambda_client, "SyncHold")
    _callback_ids(lambda_client, running)
    with pytest.raises(lambda_client.exceptions.ResourceConflictException) as caught:
        lambda_client.delete_durable_execution(DurableExecutionArn=running)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    lambda_client.stop_durable_execution(DurableExecutionArn=running)
    execution_wait(lambda_client, running)
    answer = lambda_client.delete_durable_execution(DurableExecutionArn=running)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202 and "DeletionRequestTimestamp" in answer
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_durable_execution(DurableExecutionArn=running)
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_durable_execution_history(DurableExecutionArn=running)
    listed = lambda_client.list_durable_executions_by_function(FunctionName="SyncHold", MaxItems=1000)
    assert running not in [item["DurableExecutionArn"] for item in listed["DurableExecutions"]]
