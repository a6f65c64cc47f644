"""executions.operations: one Operation's fields derived from in-memory events (no database)."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from executions.operations import event_type_split, execution_status_from, operation_derive

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def event(event_id, event_type, seconds=0, details=None, name="", sub_type="", parent_id="", operation_id="op"):
    return SimpleNamespace(
        event_id=event_id,
        event_type=event_type,
        timestamp=T0 + timedelta(seconds=seconds),
        details=details,
        name=name,
        sub_type=sub_type,
        parent_id=parent_id,
        operation_id=operation_id,
    )


def test_event_type_split_known_and_unknown():
    assert event_type_split("StepFailed") == ("step", "FAILED")
    assert event_type_split("ChainedInvokeTimedOut") == ("chained_invoke", "TIMED_OUT")
    assert event_type_split("BrandNewThingHappened") == ("brand_new_thing_happened", "UNKNOWN")


def test_a_step_retried_then_succeeded():
    retry = {
        "RetryDetails": {"NextAttemptDelaySeconds": 5},
        "Error": {"Payload": {"ErrorType": "Boom", "ErrorMessage": "bad"}},
    }
    fields = operation_derive(
        [
            event(4, "StepSucceeded", 8, {"Result": {"Payload": '{"t": "m", "v": {"ok": true}}'}}),
            event(1, "StepStarted", 0, name="charge"),
            event(2, "StepFailed", 1, retry),
            event(3, "StepStarted", 6),
        ]
    )
    assert (fields["op_type"], fields["name"], fields["status"]) == ("step", "charge", "SUCCEEDED")
    assert fields["attempts"] == 2
    assert fields["attempt_history"][0]["status"] == "FAILED"
    assert fields["error_type"] == ""  # cleared by the success
    assert fields["result_preview"] == '{"ok": true}'
    assert (fields["first_event_id"], fields["last_event_id"]) == (1, 4)


def test_a_failed_step_waiting_for_its_retry_is_pending():
    retry = {"RetryDetails": {"NextAttemptDelaySeconds": 30}, "Error": {"Payload": {"ErrorType": "Boom"}}}
    fields = operation_derive([event(1, "StepStarted"), event(2, "StepFailed", 2, retry)])
    assert fields["status"] == "PENDING" and fields["ended_at"] is None
    assert fields["attempt_history"][-1]["next_attempt_at"] == (T0 + timedelta(seconds=32)).isoformat()


def test_callback_deadline_and_wait_end():
    callback = operation_derive([event(1, "CallbackStarted", 0, {"CallbackId": "cb-1", "Timeout": 60})])
    assert callback["callback_id"] == "cb-1"
    assert callback["deadline"] == T0 + timedelta(seconds=60)
    assert callback["status"] == "STARTED"
    wait = operation_derive([event(1, "WaitStarted", 0, {"Duration": 10})])
    assert wait["wait_scheduled_end"] == T0 + timedelta(seconds=10)


def test_execution_status_from_events():
    assert execution_status_from([event(1, "ExecutionStarted"), event(9, "ExecutionSucceeded")]) == "SUCCEEDED"
    assert execution_status_from([event(1, "ExecutionStarted"), event(2, "ExecutionPaused")]) == "PAUSED"
    assert execution_status_from([event(1, "StepStarted")]) is None
