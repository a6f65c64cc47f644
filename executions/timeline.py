"""The execution timeline (a Gantt chart) laid out on the server.

One row per operation in tree order (children under their parent context),
positioned in percent of a shared time axis, so the page is readable without
JavaScript. Below the operations, a lane of Lambda invocations shows the replay
cycle: the gaps between invocations are time the function was suspended.

A little over 300 lines: one job (the layout of one chart), whose row, segment and axis steps share state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from core.formatting import clock_text, duration_text, status_class
from core.time import timestamp_parse
from executions.models import Execution, Invocation, Operation
from executions.statuses import ExecutionStatus, OperationStatus

MIN_WIDTH = 0.35  # percent: a 2 ms step stays visible
TICK_STEPS = [
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.25,
    0.5,
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
    172800,
    604800,
]
GROUP_SUBTYPES = {
    "Map",
    "Parallel",
    "RunInChildContext",
    "MapIteration",
    "ParallelBranch",
    "WaitForCallback",
    "WaitForCondition",
}


@dataclass
class Segment:
    left: float
    width: float
    css: str
    title: str


@dataclass
class Marker:
    left: float
    css: str
    title: str


@dataclass
class Row:
    op: Operation
    key: str
    parent_key: str
    depth: int
    label: str
    kind: str
    status: str
    duration: str
    segments: list[Segment] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    overflow: str = ""
    child_count: int = 0
    title: str = ""


@dataclass
class Timeline:
    rows: list[Row]
    invocations: list[Segment]
    ticks: list[tuple[float, str]]
    start: datetime | None
    end: datetime | None
    now_left: float | None
    wall_seconds: float
    invoked_seconds: float
    invocation_count: int
    full_axis: bool
    beyond_axis: bool
    paused: list[Segment] = field(default_factory=list)  # spans the execution was paused, shaded behind the rows

    @property
    def invoked_share(self) -> float:
        return 100 * self.invoked_seconds / self.wall_seconds if self.wall_seconds else 0.0


def _kind(op: Operation) -> str:
    return op.sub_type or op.op_type or "operation"


def _tree_order(operations: list[Operation]) -> list[tuple[Operation, int, str]]:
    """(operation, depth, parent operation id) in depth-first order, children by first event."""
    ids = {op.operation_id for op in operations}
    root_ids = {op.operation_id for op in operations if op.op_type == "execution"}
    children: dict[str, list[Operation]] = {}
    roots: list[Operation] = []
    for op in operations:
        if op.op_type == "execution":
            continue
        parent = op.parent_operation_id
        if parent and parent in ids and parent not in root_ids:
            children.setdefault(parent, []).append(op)
        else:
            roots.append(op)
    ordered: list[tuple[Operation, int, str]] = []
    stack = [(op, 0, "") for op in reversed(roots)]
    seen: set[str] = set()
    while stack:
        op, depth, parent = stack.pop()
        if op.operation_id in seen:  # defensive: a malformed history must not loop
            continue
        seen.add(op.operation_id)
        ordered.append((op, depth, parent))
        for child in reversed(children.get(op.operation_id, [])):
            stack.append((child, depth + 1, op.operation_id))
    return ordered


def _nice_step(span: float, max_ticks: int = 8) -> float:
    for step in TICK_STEPS:
        if span / step <= max_ticks:
            return step
    return TICK_STEPS[-1] * max(1, int(span / TICK_STEPS[-1] / max_ticks) + 1)


def _offset_label(seconds: float) -> str:
    if seconds == 0:
        return "0"
    return "+" + duration_text(seconds).replace(" ", "")


def _invocation_spans(invocations: list[Invocation]):
    """(invocation, start) for each invocation with a known time: `InvocationCompletedDetails` gives each
    invocation's StartTimestamp and EndTimestamp; one without a start is drawn at its end."""
    for inv in invocations:
        start = inv.started_at or inv.ended_at
        if start:
            yield inv, min(start, inv.ended_at or start)


def timeline_build(
    *,
    execution: Execution,
    operations: list[Operation],
    invocations: list[Invocation],
    now: datetime | None = None,
    full_axis: bool = False,
    pauses: list[tuple[datetime, datetime | None]] = (),
) -> Timeline:
    """`pauses`: (paused at, resumed at or None) from the ExecutionPaused/ExecutionResumed events."""
    now = now or timezone.now()
    running = not ExecutionStatus.is_terminal(execution.status)  # running, pausing or paused: time goes on
    ordered = _tree_order(operations)

    starts = [op.started_at for op in operations if op.started_at]
    starts += [inv.started_at for inv in invocations if inv.started_at]
    start = execution.started_at or (min(starts) if starts else None)
    if start is None:
        return Timeline([], [], [], None, None, None, 0, 0, len(invocations), full_axis, False)

    actual_ends = [execution.ended_at or (now if running else None)]
    actual_ends += [op.ended_at or op.started_at for op in operations]
    actual_ends += [inv.ended_at for inv in invocations]
    end = max([t for t in actual_ends if t] + [start])
    future = []
    for op in operations:
        if op.ended_at is None:
            future += [op.deadline, op.wait_scheduled_end]
        elif op.deadline and op.deadline <= (execution.ended_at or now):
            future.append(op.deadline)
    future = [t for t in future if t]
    beyond_axis = any(t > end for t in future)
    if full_axis and future:
        end = max([end, *future])
    if end <= start:
        end = start + timedelta(seconds=1)
    span = (end - start).total_seconds()

    def pos(moment: datetime) -> float:
        return max(0.0, min(100.0, (moment - start).total_seconds() / span * 100))

    def seg(a: datetime, b: datetime, css: str, title: str) -> Segment:
        left = pos(a)
        width = max(MIN_WIDTH, pos(b) - left)
        if left + width > 100:
            left = max(0.0, 100 - width)
        return Segment(left=round(left, 3), width=round(width, 3), css=css, title=title)

    child_counts: dict[str, int] = {}
    for _op, _depth, parent in ordered:
        if parent:
            child_counts[parent] = child_counts.get(parent, 0) + 1

    rows: list[Row] = []
    for op, depth, parent in ordered:
        status = op.status or (OperationStatus.STARTED if op.ended_at is None else "")
        css = status_class(status)
        op_end = op.ended_at or (now if running else execution.ended_at or now)
        kind = _kind(op)
        label = op.name or kind
        dur = duration_text((op_end - op.started_at).total_seconds()) if op.started_at else ""
        row = Row(
            op=op,
            key=op.operation_id,
            parent_key=parent,
            depth=depth,
            label=label,
            kind=kind,
            status=status,
            duration=dur,
            child_count=child_counts.get(op.operation_id, 0),
        )
        row.title = f"{kind} {label} · {status or 'unknown'}" + (f" · {dur}" if dur else "")
        if op.started_at is None:
            rows.append(row)
            continue
        group = op.op_type == "context" or kind in GROUP_SUBTYPES
        if op.op_type == "step" and op.attempt_history:
            attempts = [a for a in op.attempt_history if isinstance(a, dict)]
            previous_end = None
            for index, attempt in enumerate(attempts):
                a_start = timestamp_parse(attempt.get("started")) or op.started_at
                a_end = timestamp_parse(attempt.get("ended")) or op_end
                last = index == len(attempts) - 1
                failed = (
                    attempt.get("status") == OperationStatus.FAILED
                    or bool(attempt.get("error_type"))
                    or (last and css == "FAILED")
                )
                if previous_end and a_start > previous_end:
                    row.segments.append(
                        seg(
                            previous_end,
                            a_start,
                            "gap",
                            f"retry delay {duration_text((a_start - previous_end).total_seconds())}",
                        )
                    )
                number = attempt.get("attempt") or index + 1
                error_text = attempt.get("error_type") or attempt.get("error_message") or ""
                row.segments.append(
                    seg(
                        a_start,
                        a_end,
                        "attempt " + ("FAILED" if failed else css),
                        f"attempt {number}: {duration_text((a_end - a_start).total_seconds())}"
                        + (f" · {error_text}" if error_text else ""),
                    )
                )
                previous_end = a_end
            if op.ended_at is None and previous_end and previous_end < now and running:
                row.segments.append(seg(previous_end, now, "gap", "waiting for the next attempt"))
        elif op.op_type == "wait":
            scheduled = op.wait_scheduled_end
            if op.ended_at:
                row.segments.append(seg(op.started_at, op.ended_at, "wait " + css, f"waited {dur}"))
            else:
                row.segments.append(seg(op.started_at, min(now, end), "wait " + css, f"waiting for {dur}"))
                if scheduled and scheduled > now:
                    row.segments.append(
                        seg(now, min(scheduled, end), "pending", f"scheduled end {clock_text(scheduled, now=now)}")
                    )
            if scheduled:
                if scheduled <= end:
                    row.markers.append(
                        Marker(round(pos(scheduled), 3), "scheduled", f"scheduled end {clock_text(scheduled, now=now)}")
                    )
                else:
                    row.overflow = f"until {clock_text(scheduled, now=now)}"
        elif op.op_type == "callback":
            if op.ended_at:
                row.segments.append(seg(op.started_at, op.ended_at, "callback " + css, f"{status} after {dur}"))
            else:
                row.segments.append(seg(op.started_at, min(now, end), "callback " + css, f"open for {dur}"))
                if op.deadline and op.deadline > now:
                    row.segments.append(
                        seg(now, min(op.deadline, end), "pending", f"deadline {clock_text(op.deadline, now=now)}")
                    )
            if op.deadline:
                overdue = op.ended_at is None and op.deadline < now
                marker_title = ("overdue since " if overdue else "deadline ") + clock_text(op.deadline, now=now)
                if op.deadline <= end:
                    row.markers.append(
                        Marker(round(pos(op.deadline), 3), "deadline" + (" overdue" if overdue else ""), marker_title)
                    )
                else:
                    left = duration_text((op.deadline - now).total_seconds())
                    row.overflow = f"deadline {clock_text(op.deadline, now=now)}" + (
                        f" (in {left})" if op.ended_at is None else ""
                    )
        else:
            row.segments.append(seg(op.started_at, op_end, ("group " if group else "bar ") + css, row.title))
        rows.append(row)

    lane: list[Segment] = []
    invoked = 0.0
    for inv, inv_start in _invocation_spans(invocations):
        inv_end = inv.ended_at or inv_start
        seconds = (inv_end - inv_start).total_seconds()
        invoked += max(0.0, seconds)
        css = "invocation" + (" FAILED" if inv.error_type else "")
        title = (
            f"invocation {clock_text(inv_start, now=now)} · {duration_text(seconds)}"
            + (f" · request {inv.request_id}" if inv.request_id else "")
            + (f" · {inv.error_type}" if inv.error_type else "")
        )
        lane.append(seg(inv_start, inv_end, css, title))

    paused_lane = [
        seg(
            paused_at,
            resumed_at or min(now, end),
            "paused",
            f"paused {clock_text(paused_at, now=now)}"
            + (f" → resumed {clock_text(resumed_at, now=now)}" if resumed_at else " · still paused"),
        )
        for paused_at, resumed_at in pauses
        if paused_at
    ]

    wall_end = execution.ended_at or (now if running else end)
    wall = max(0.0, (wall_end - start).total_seconds())
    step = _nice_step(span)
    ticks = []
    index = 0
    while index * step <= span + 1e-9:
        t = index * step
        ticks.append((round(t / span * 100, 3), _offset_label(t)))
        index += 1
    now_left = round(pos(now), 3) if running and now <= end else None
    return Timeline(
        rows=rows,
        invocations=lane,
        ticks=ticks,
        start=start,
        end=end,
        now_left=now_left,
        wall_seconds=wall,
        invoked_seconds=invoked,
        invocation_count=len(invocations),
        full_axis=full_axis,
        beyond_axis=beyond_axis,
        paused=paused_lane,
    )
