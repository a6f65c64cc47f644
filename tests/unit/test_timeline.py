"""executions.timeline: the timeline built from in-memory (unsaved) rows, no database."""

from datetime import UTC, datetime, timedelta

from executions.models import Execution, Invocation, Operation
from executions.timeline import timeline_build

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds):
    return T0 + timedelta(seconds=seconds)


def test_a_finished_execution():
    execution = Execution(arn="arn:x", status="SUCCEEDED", started_at=at(0), ended_at=at(100), duration_ms=100_000)
    operations = [
        Operation(
            operation_id="s1",
            op_type="step",
            name="create_order",
            status="SUCCEEDED",
            started_at=at(0),
            ended_at=at(10),
            attempts=1,
            first_event_id=2,
        ),
        Operation(
            operation_id="c1",
            op_type="callback",
            name="approval",
            status="SUCCEEDED",
            started_at=at(10),
            ended_at=at(90),
            first_event_id=4,
        ),
    ]
    invocations = [
        Invocation(event_id=3, started_at=at(0), ended_at=at(11)),
        Invocation(event_id=6, started_at=at(90), ended_at=at(100)),
    ]
    timeline = timeline_build(execution=execution, operations=operations, invocations=invocations, now=at(200))
    assert [row.label for row in timeline.rows] == ["create_order", "approval"]
    assert (timeline.start, timeline.end) == (at(0), at(100))
    assert timeline.invocation_count == 2
    assert round(timeline.invoked_share) == 21
    first = timeline.rows[0].segments[0]
    assert first.left == 0 and round(first.width) == 10
    assert timeline.now_left is None


def test_a_running_execution_reaches_now_and_an_empty_one_has_no_axis():
    running = Execution(arn="arn:y", status="RUNNING", started_at=at(0))
    wait = Operation(
        operation_id="w1",
        op_type="wait",
        name="sleep",
        status="STARTED",
        started_at=at(5),
        wait_scheduled_end=at(500),
        first_event_id=2,
    )
    timeline = timeline_build(execution=running, operations=[wait], invocations=[], now=at(50))
    assert timeline.end == at(50)
    assert timeline.beyond_axis
    full = timeline_build(execution=running, operations=[wait], invocations=[], now=at(50), full_axis=True)
    assert full.end == at(500)
    empty = timeline_build(execution=Execution(arn="arn:z", status="RUNNING"), operations=[], invocations=[])
    assert empty.rows == [] and empty.start is None
