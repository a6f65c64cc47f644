"""The push wire formats, parsed and checked (executions/push/wire.py): pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from executions.push.wire import (
    WireError,
    arn_execution_name,
    arn_function,
    batch_parse,
    forbidden_key,
    status_change_parse,
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:Orders:$LATEST/durable-execution/order-1/abc-123"


def operation(**fields) -> dict:
    event = {
        "kind": "operation",
        "execution_arn": ARN,
        "request_id": "r",
        "observed_at": "2026-12-06T12:00:00.123456+00:00",
        "hook": "operation_end",
        "operation_id": "op-1",
        "parent_id": None,
        "name": "charge",
        "type": "STEP",
        "sub_type": "Step",
        "status": "SUCCEEDED",
        "attempt": 1,
        "started_at": None,
        "ended_at": "2026-12-06T12:00:00+00:00",
        "error_type": None,
        "error_message": None,
        "result_size": 12,
        "version": [1, 9],
    }
    event.update(fields)
    return event


def test_an_operation_report_is_read_as_the_readme_says():
    parsed = batch_parse({"schema": 1, "sent_at": "x", "events": [operation()]})
    ((index, report),) = parsed.reports
    assert index == 0 and not parsed.rejected and not parsed.unknown
    assert (report.op_type, report.status, report.version, report.result_size) == ("step", "SUCCEEDED", (1, 9), 12)
    assert report.observed_at == datetime(2026, 12, 6, 12, 0, 0, 123456, tzinfo=UTC)
    assert report.parent_id == "" and report.error_message == ""


def test_long_texts_are_cut_not_refused_and_ids_must_fit():
    parsed = batch_parse({"schema": 1, "events": [operation(error_message="x" * 5000, name="n" * 300)]})
    report = parsed.reports[0][1]
    assert len(report.error_message) == 1000 and len(report.name) == 256
    parsed = batch_parse({"schema": 1, "events": [operation(operation_id="o" * 257)]})
    assert parsed.rejected[0].detail == "operation: 'operation_id' is longer than 256 characters"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"version": [1]}, "'version' must be [attempt, status rank]"),
        ({"version": [True, 9]}, "'version' must be"),
        ({"version": [-1, 9]}, "'version' must be"),
        ({"attempt": "2"}, "'attempt' must be a whole number"),
        ({"status": None}, "'status' is required"),
        ({"type": 3}, "'type' must be a string"),
        ({"observed_at": None}, "'observed_at' is required"),
        ({"started_at": "soon"}, "'started_at' must be an ISO 8601 time"),
        ({"execution_arn": ""}, "'execution_arn' is required"),
    ],
)
def test_a_bad_operation_report_is_one_rejection_with_a_clear_message(fields, message):
    parsed = batch_parse({"schema": 1, "events": [operation(**fields), operation(operation_id="op-2")]})
    assert [r.index for r in parsed.rejected] == [0] and message in parsed.rejected[0].detail
    assert [report.operation_id for _, report in parsed.reports] == ["op-2"]


def test_snapshots_and_invocations():
    snapshot = {"kind": "snapshot", "execution_arn": ARN, "request_id": None, "observed_at": "2026-12-06T12:00:00Z"}
    parsed = batch_parse(
        {
            "schema": 1,
            "events": [
                {**snapshot, "first_invocation": True, "operations": [["op-1", 1, 9], ["op-2", 0, 1]]},
                {**snapshot, "operations": [["op-1", 1]]},
                {**snapshot, "kind": "invocation", "phase": "end", "status": "failed", "error_type": "E"},
                {**snapshot, "kind": "invocation", "phase": "start", "first_invocation": "yes"},
            ],
        }
    )
    first, invocation = parsed.reports[0][1], parsed.reports[1][1]
    assert first.operations == (("op-1", 1, 9), ("op-2", 0, 1)) and first.first_invocation is True
    assert (invocation.phase, invocation.status, invocation.error_type) == ("end", "FAILED", "E")
    assert [(r.index, r.detail) for r in parsed.rejected] == [
        (1, "snapshot: 'operations' must be a list of [operation id, attempt, rank]"),
        (3, "invocation: 'first_invocation' must be true or false"),
    ]


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([], "must be a JSON object"),
        ({"events": []}, "Unsupported schema None"),
        ({"schema": "1", "events": []}, "Unsupported schema '1'"),
        ({"schema": 1}, "'events' must be a list"),
    ],
)
def test_a_batch_that_is_not_one_raises(batch, message):
    with pytest.raises(WireError, match=message) as caught:
        batch_parse(batch)
    assert caught.value.reason == "schema"


def test_forbidden_keys_at_any_depth_and_spelling():
    assert forbidden_key({"a": 1, "b": [{"c": {"Callback_Id": "x"}}]}) == "Callback_Id"
    for key in ("result", "Result", "payload", "callbackId", "callback-id", "input", "InputPayload", "error_data"):
        assert forbidden_key({key: None}) == key
    assert forbidden_key({"result_size": 3, "error_message": "m", "name": "result"}) is None


def test_arn_parts():
    assert arn_function(ARN) == ("Orders", "$LATEST")
    assert arn_function("arn:aws:lambda:us-east-1:123456789012:function:Orders") == ("Orders", "")
    assert arn_function("arn:aws:lambda:us-east-1:123456789012:function:Orders:live") == ("Orders", "live")
    assert arn_function("not an arn") is None
    assert arn_execution_name(ARN) == "order-1" and arn_execution_name("x") == ""


def eventbridge(**detail) -> dict:
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": "Durable Execution Status Change",
        "source": "aws.lambda",
        "time": "2026-12-06T12:00:05Z",
        "detail": {"durableExecutionArn": ARN, "status": "stopped", **detail},
    }


def test_eventbridge_status_changes_with_iso_or_epoch_millisecond_times():
    change = status_change_parse(eventbridge(startTimestamp="2026-12-06T11:59:00.250Z", endTimestamp=1796558405123))
    assert change.status == "STOPPED" and change.event_id == "e-1"
    assert change.started_at == datetime(2026, 12, 6, 11, 59, 0, 250000, tzinfo=UTC)
    assert change.ended_at == datetime.fromtimestamp(1796558405.123, tz=UTC)
    assert change.event_time == datetime(2026, 12, 6, 12, 0, 5, tzinfo=UTC)


def test_eventbridge_other_kinds_are_none_and_malformed_ones_raise():
    assert status_change_parse({**eventbridge(), "source": "aws.ec2"}) is None
    assert status_change_parse({**eventbridge(), "detail-type": "Other"}) is None
    for event, message in [
        ({**eventbridge(), "id": None}, "'id' is required"),
        ({**eventbridge(), "detail": "x"}, "'detail' must be an object"),
        (eventbridge(status=5), "'status' must be a string"),
        (eventbridge(endTimestamp="later"), "'endTimestamp' must be an ISO 8601 time"),
    ]:
        with pytest.raises(WireError, match=message):
            status_change_parse(event)
    with pytest.raises(WireError):
        status_change_parse(["not", "an", "event"])
