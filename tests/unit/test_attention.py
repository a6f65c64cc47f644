"""executions.attention: activity, attention reasons and the re-check time, from in-memory operations."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from executions.attention import Thresholds, execution_assess

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
THRESHOLDS = Thresholds(
    callback_sla=timedelta(hours=24),
    no_progress=timedelta(hours=1),
    wait_grace=timedelta(minutes=5),
    step_failed_attempts=3,
)


def op(**kwargs):
    defaults = dict(
        operation_id="op",
        op_type="step",
        sub_type="",
        name="",
        status="STARTED",
        started_at=NOW,
        deadline=None,
        wait_scheduled_end=None,
        attempts=1,
        attempt_history=[],
        heartbeat_timeout_seconds=None,
        extra={},
        error_type="",
        first_event_id=1,
    )
    return SimpleNamespace(**{**defaults, **kwargs})


def assess(status="RUNNING", operations=(), invocation_errors=(), last_event_at=NOW):
    return execution_assess(
        status=status,
        operations=list(operations),
        invocation_errors=list(invocation_errors),
        last_event_at=last_event_at,
        now=NOW,
        thresholds=THRESHOLDS,
    )


def codes(assessment):
    return {reason["code"] for reason in assessment.reasons}


def test_waiting_on_a_callback():
    callback = op(
        op_type="callback", name="approval", started_at=NOW - timedelta(hours=1), deadline=NOW + timedelta(hours=2)
    )
    result = assess(operations=[callback])
    assert result.activity["kind"] == "callback"
    assert result.activity["name"] == "approval"
    assert not result.reasons
    assert result.check_at is not None and result.check_at > NOW


def test_a_callback_past_its_deadline_needs_attention():
    callback = op(op_type="callback", started_at=NOW - timedelta(hours=3), deadline=NOW - timedelta(minutes=1))
    assert "callback_overdue" in codes(assess(operations=[callback]))


def test_timed_out_execution_has_failures_and_a_reason():
    result = assess(status="TIMED_OUT")
    assert "timed_out" in codes(result)
    assert result.has_failures


def test_invocation_errors_are_failures():
    result = assess(invocation_errors=[("Runtime.Error", "boom")])
    assert result.has_failures
    assert "invocation_failed" in codes(result)


def test_a_finished_execution_is_doing_nothing():
    result = assess(status="SUCCEEDED", last_event_at=NOW - timedelta(days=3))
    assert result.activity is None
    assert not result.has_failures
