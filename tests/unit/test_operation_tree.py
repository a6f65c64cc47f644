"""executions.sync.tree: a group's summary and an operation's urgency, from in-memory operations (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from executions.models import Operation
from executions.sync.tree import (
    ATTENTION_LISTED,
    RANK_DONE,
    RANK_FAILED,
    RANK_RETRYING,
    RANK_RUNNING,
    attention_rank,
    group_summary,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def op(index: int, status: str = "SUCCEEDED", *, ms: int | None = 100, start: float = 0, **fields) -> Operation:
    started = T0 + timedelta(seconds=start)
    operation = Operation(
        operation_id=f"it-{index}",
        parent_operation_id="map",
        op_type=fields.pop("op_type", "context"),
        sub_type=fields.pop("sub_type", "MapIteration"),
        name=fields.pop("name", f"fan-{index}"),
        status=status,
        started_at=started,
        ended_at=None if ms is None else started + timedelta(milliseconds=ms),
        first_event_id=index,
        **fields,
    )
    operation.attention_rank = attention_rank(operation)
    return operation


def test_attention_rank_orders_failed_retrying_running_done():
    assert attention_rank(op(1, "FAILED")) == RANK_FAILED
    assert attention_rank(op(2, "TIMED_OUT")) == RANK_FAILED
    assert attention_rank(op(3, "PENDING", ms=None, op_type="step", attempts=2)) == RANK_RETRYING
    assert attention_rank(op(4, "STARTED", ms=None, op_type="step", attempts=3)) == RANK_RETRYING
    assert attention_rank(op(5, "STARTED", ms=None)) == RANK_RUNNING
    assert attention_rank(op(6, "SUCCEEDED", op_type="step", attempts=2)) == RANK_DONE  # retried, then done
    assert attention_rank(op(7, "RUNNING", ms=None, op_type="execution")) == RANK_DONE  # the execution itself


def test_summary_counts_span_and_durations():
    children = [op(i, ms=(i + 1) * 10, start=i) for i in range(100)]
    children[10] = op(10, "FAILED", ms=500, start=10, error_type="ValidationError", error_message="bad item 10")
    summary = group_summary(children, children, {"map": "fan"})
    assert summary["children"] == summary["descendants"] == 100
    assert summary["counts"] == {"SUCCEEDED": 99, "FAILED": 1}
    assert list(summary["counts"]) == ["SUCCEEDED", "FAILED"]  # the biggest count first
    assert summary["first_start"] == T0.isoformat()
    assert summary["last_end"] == (T0 + timedelta(seconds=99, milliseconds=1000)).isoformat()
    durations = summary["durations_ms"]
    assert (durations["min"], durations["max"]) == (10, 1000)
    assert durations["median"] == 505 and durations["p95"] == 950
    failed = summary["attention"]
    assert failed == [
        {
            "id": "it-10",
            "name": "fan-10",
            "type": "context",
            "kind": "MapIteration",
            "status": "FAILED",
            "rank": "failed",
            "attempts": 0,
            "error": "ValidationError: bad item 10",
            "in": "fan",
            "started": (T0 + timedelta(seconds=10)).isoformat(),
            "ended": (T0 + timedelta(seconds=10, milliseconds=500)).isoformat(),
        }
    ]
    assert summary["attention_counts"] == {"failed": 1, "retrying": 0, "running": 0}


def test_an_open_child_leaves_the_span_open_and_is_listed_after_failures():
    children = [op(1), op(2, "STARTED", ms=None, start=5), op(3, "FAILED", start=9)]
    below = [*children, op(4, "PENDING", ms=None, op_type="step", sub_type="Step", attempts=2, start=6)]
    below[-1].parent_operation_id = "it-2"
    summary = group_summary(children, below, {"map": "fan", "it-2": "fan-2"})
    assert summary["last_end"] is None  # still running: no end yet
    assert [(e["id"], e["rank"], e["in"]) for e in summary["attention"]] == [
        ("it-3", "failed", "fan"),
        ("it-4", "retrying", "fan-2"),  # found below the direct children, however deep
        ("it-2", "running", "fan"),
    ]
    assert summary["durations_ms"]["max"] == 100  # open children have no duration yet
    assert summary["descendants"] == 4


def test_attention_is_listed_up_to_a_limit_and_counted_beyond():
    children = [op(i, "FAILED") for i in range(ATTENTION_LISTED + 5)]
    summary = group_summary(children, children, {})
    assert len(summary["attention"]) == ATTENTION_LISTED
    assert [e["id"] for e in summary["attention"]] == [f"it-{i}" for i in range(ATTENTION_LISTED)]  # in order
    assert summary["attention_counts"]["failed"] == ATTENTION_LISTED + 5


def test_children_without_times_or_status():
    blank = Operation(operation_id="x", op_type="context", status="", started_at=None, ended_at=None, first_event_id=1)
    blank.attention_rank = attention_rank(blank)
    summary = group_summary([blank], [blank], {})
    assert summary["counts"] == {"UNKNOWN": 1}
    assert summary["first_start"] is None and summary["last_end"] is None and summary["durations_ms"] is None
