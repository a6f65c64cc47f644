"""The execution timeline (a Gantt chart) laid out on the server.

One row per operation in tree order (children under their parent context),
positioned in percent of a shared time axis, so the page is readable without
JavaScript. Below the operations, a lane of Lambda invocations shows the replay
cycle: the gaps between invocations are time the function was suspended.

Big executions stay light: a group with many children (precomputed at sync time, executions/sync/tree.py)
is drawn as one summary lane, and its children are drawn on demand on the same axis (`Chart`).

About 550 lines: one job (the layout of one chart: its axis, its rows and segments, the summary lanes of big
groups and the invocation lane), whose steps share state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.formatting import clock_text, duration_text, status_class
from core.time import timestamp_parse
from executions.models import Execution, Invocation, Operation
from executions.statuses import ExecutionStatus, OperationStatus

MIN_WIDTH = 0.35  # percent: a 2 ms step stays visible
INVOCATION_LANE_LIMIT = 200  # more invocations than this are drawn as one bar per slice of the axis
INVOCATION_BINS = 100
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
    summary: SummaryView | None = None  # a summarised group: its lane, and its children on demand
    lazy: bool = False  # a group whose children are loaded on demand
    listed: bool = False  # named in a group's summary (failed, retrying or running), not a row of the tree
    parent_name: str = ""
    rank: str = ""
    reported: bool = False  # drawn from a push the history does not show yet (executions/push/)


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
    root_summary: SummaryView | None = None  # the top level, when it has too many operations to draw

    @property
    def has_reported(self) -> bool:
        """Some row is drawn from a push the history does not show yet."""
        return any(row.reported for row in self.rows)

    @property
    def invoked_share(self) -> float:
        return 100 * self.invoked_seconds / self.wall_seconds if self.wall_seconds else 0.0


def _urgent(summary) -> bool:
    """Something below a group failed, is retrying or still running (its precomputed summary says)."""
    return isinstance(summary, dict) and any((summary.get("attention_counts") or {}).values())


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


def _future_moments(operations: list[Operation], execution: Execution, now: datetime) -> list[datetime]:
    """Deadlines and scheduled ends the axis may be extended to ("Show deadlines")."""
    future = []
    for op in operations:
        if op.ended_at is None:
            future += [op.deadline, op.wait_scheduled_end]
        elif op.deadline and op.deadline <= (execution.ended_at or now):
            future.append(op.deadline)
    return [t for t in future if t]


@dataclass
class Chart:
    """The shared time axis of one execution's chart, and the drawing of one row on it.

    The page and every group expanded later use the same axis, so their rows line up.
    """

    execution: Execution
    start: datetime
    end: datetime
    now: datetime

    @property
    def running(self) -> bool:  # running, pausing or paused: time goes on
        return not ExecutionStatus.is_terminal(self.execution.status)

    @property
    def span(self) -> float:
        return (self.end - self.start).total_seconds()

    def pos(self, moment: datetime) -> float:
        return max(0.0, min(100.0, (moment - self.start).total_seconds() / self.span * 100))

    def seg(self, a: datetime, b: datetime, css: str, title: str) -> Segment:
        left = self.pos(a)
        width = max(MIN_WIDTH, self.pos(b) - left)
        if left + width > 100:
            left = max(0.0, 100 - width)
        return Segment(left=round(left, 3), width=round(width, 3), css=css, title=title)

    def row(self, op: Operation, *, depth: int, parent_key: str, lazy: bool = False) -> Row:
        """The row of `op`. `lazy`: a group whose children are loaded on demand (a row of an expansion). An `op`
        laid over by a push (executions/push/overlay.py) is drawn as it was reported, marked as awaiting history."""
        row = self._row(op, depth=depth, parent_key=parent_key, lazy=lazy)
        if getattr(op, "pushed", False):
            row.reported = True
            row.title += " · reported by the function, awaiting history"
            for segment in row.segments:
                segment.css += " reported"
                segment.title += " (reported, awaiting history)"
        return row

    def _row(self, op: Operation, *, depth: int, parent_key: str, lazy: bool) -> Row:
        now = self.now
        status = op.status or (OperationStatus.STARTED if op.ended_at is None else "")
        css = status_class(status)
        op_end = op.ended_at or (now if self.running else self.execution.ended_at or now)
        kind = _kind(op)
        label = op.name or kind
        dur = duration_text((op_end - op.started_at).total_seconds()) if op.started_at else ""
        child_count = getattr(op, "child_count", 0) or 0
        row = Row(
            op=op,
            key=op.operation_id,
            parent_key=parent_key,
            depth=depth,
            label=label,
            kind=kind,
            status=status,
            duration=dur,
            child_count=child_count,
        )
        row.title = f"{kind} {label} · {status or 'unknown'}" + (f" · {dur}" if dur else "")
        if child_count and (lazy or getattr(op, "summarized", False)):
            # Its children on demand. The summary lane when there are many of them or something below needs
            # attention (a small group whose children all did well is one row, like a step).
            row.lazy = True
            if getattr(op, "summarized", False) or child_count > settings.TIMELINE_GROUP_LIMIT or _urgent(op.summary):
                row.summary = group_summary_view(op.summary, chart=self, parent_key=op.operation_id, depth=depth + 1)
        if op.started_at is None:
            return row
        group = op.op_type == "context" or kind in GROUP_SUBTYPES
        if op.op_type == "step" and op.attempt_history:
            self._attempts(row, op, css, op_end)
        elif op.op_type == "wait":
            self._wait(row, op, css, dur)
        elif op.op_type == "callback":
            self._callback(row, op, css, status, dur)
        else:
            row.segments.append(self.seg(op.started_at, op_end, ("group " if group else "bar ") + css, row.title))
        return row

    def _attempts(self, row: Row, op: Operation, css: str, op_end: datetime) -> None:
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
                gap = duration_text((a_start - previous_end).total_seconds())
                row.segments.append(self.seg(previous_end, a_start, "gap", f"retry delay {gap}"))
            number = attempt.get("attempt") or index + 1
            error_text = attempt.get("error_type") or attempt.get("error_message") or ""
            row.segments.append(
                self.seg(
                    a_start,
                    a_end,
                    "attempt " + ("FAILED" if failed else css),
                    f"attempt {number}: {duration_text((a_end - a_start).total_seconds())}"
                    + (f" · {error_text}" if error_text else ""),
                )
            )
            previous_end = a_end
        if op.ended_at is None and previous_end and previous_end < self.now and self.running:
            row.segments.append(self.seg(previous_end, self.now, "gap", "waiting for the next attempt"))

    def _wait(self, row: Row, op: Operation, css: str, dur: str) -> None:
        now, end, scheduled = self.now, self.end, op.wait_scheduled_end
        if op.ended_at:
            row.segments.append(self.seg(op.started_at, op.ended_at, "wait " + css, f"waited {dur}"))
        else:
            row.segments.append(self.seg(op.started_at, min(now, end), "wait " + css, f"waiting for {dur}"))
            if scheduled and scheduled > now:
                row.segments.append(
                    self.seg(now, min(scheduled, end), "pending", f"scheduled end {clock_text(scheduled, now=now)}")
                )
        if scheduled:
            if scheduled <= end:
                title = f"scheduled end {clock_text(scheduled, now=now)}"
                row.markers.append(Marker(round(self.pos(scheduled), 3), "scheduled", title))
            else:
                row.overflow = f"until {clock_text(scheduled, now=now)}"

    def _callback(self, row: Row, op: Operation, css: str, status: str, dur: str) -> None:
        now, end = self.now, self.end
        if op.ended_at:
            row.segments.append(self.seg(op.started_at, op.ended_at, "callback " + css, f"{status} after {dur}"))
        else:
            row.segments.append(self.seg(op.started_at, min(now, end), "callback " + css, f"open for {dur}"))
            if op.deadline and op.deadline > now:
                row.segments.append(
                    self.seg(now, min(op.deadline, end), "pending", f"deadline {clock_text(op.deadline, now=now)}")
                )
        if op.deadline:
            overdue = op.ended_at is None and op.deadline < now
            marker_title = ("overdue since " if overdue else "deadline ") + clock_text(op.deadline, now=now)
            if op.deadline <= end:
                css = "deadline" + (" overdue" if overdue else "")
                row.markers.append(Marker(round(self.pos(op.deadline), 3), css, marker_title))
            else:
                left = duration_text((op.deadline - now).total_seconds())
                row.overflow = f"deadline {clock_text(op.deadline, now=now)}" + (
                    f" (in {left})" if op.ended_at is None else ""
                )

    def rows(self, operations: list[Operation], *, base_depth: int = 0, parent_key: str = "") -> list[Row]:
        """Rows of `operations` in tree order (an operation whose parent is not among them starts at
        `base_depth` under `parent_key`)."""
        rows = []
        for op, depth, parent in _tree_order(operations):
            rows.append(self.row(op, depth=base_depth + depth, parent_key=parent or parent_key))
        return rows


@dataclass
class SummaryView:
    """A group drawn as one lane: its children's counts, span and durations, and what needs attention."""

    children: int
    descendants: int
    counts: list[tuple[str, int]]
    span: Segment | None
    durations: list[tuple[str, str]]
    attention: list[Row]
    attention_counts: dict[str, int]

    @property
    def attention_more(self) -> int:
        return sum(self.attention_counts.values()) - len(self.attention)


class _Listed:
    """An operation named in a group's summary (not a database row): enough to draw its row."""

    def __init__(self, entry: dict):
        self.operation_id = str(entry.get("id") or "")
        self.name = str(entry.get("name") or "")
        self.sub_type = str(entry.get("kind") or "")
        self.op_type = str(entry.get("type") or "")
        self.status = str(entry.get("status") or "")
        self.started_at = timestamp_parse(entry.get("started"))
        self.ended_at = timestamp_parse(entry.get("ended"))
        self.attempts = entry.get("attempts") or 0
        self.error_type, _, self.error_message = str(entry.get("error") or "").partition(": ")
        self.attempt_history: list = []
        self.wait_scheduled_end = self.deadline = None
        self.child_count = 0
        self.parent_name = str(entry.get("in") or "")
        self.rank = str(entry.get("rank") or "")


def group_summary_view(summary: dict | None, *, chart: Chart, parent_key: str, depth: int) -> SummaryView | None:
    if not isinstance(summary, dict):
        return None
    first, last = timestamp_parse(summary.get("first_start")), timestamp_parse(summary.get("last_end"))
    span = None
    if first:
        end = last or (chart.now if chart.running else chart.end)
        span = chart.seg(first, end, "summary", f"first start {clock_text(first)} → {clock_text(last) or 'running'}")
    durations = []
    for key, label in (("min", "min"), ("median", "median"), ("p95", "p95"), ("max", "max")):
        value = (summary.get("durations_ms") or {}).get(key)
        if value is not None:
            durations.append((label, duration_text(value / 1000)))
    attention = []
    for entry in summary.get("attention") or []:
        listed = _Listed(entry)
        row = chart.row(listed, depth=depth, parent_key=parent_key)
        row.listed = True
        row.parent_name = listed.parent_name
        row.rank = listed.rank
        attention.append(row)
    return SummaryView(
        children=int(summary.get("children") or 0),
        descendants=int(summary.get("descendants") or 0),
        counts=list((summary.get("counts") or {}).items()),
        span=span,
        durations=durations,
        attention=attention,
        attention_counts={k: int(v) for k, v in (summary.get("attention_counts") or {}).items()},
    )


def chart_make(
    *,
    execution: Execution,
    operations: list[Operation],
    invocations: list[Invocation],
    now: datetime,
    full_axis: bool = False,
    extra_ends: list[datetime] = (),
) -> tuple[Chart | None, bool]:
    """The chart's axis from what is drawn (and `extra_ends`: the spans of summarised groups); and whether
    some deadline lies beyond it."""
    running = not ExecutionStatus.is_terminal(execution.status)
    starts = [op.started_at for op in operations if op.started_at]
    starts += [inv.started_at for inv in invocations if inv.started_at]
    start = execution.started_at or (min(starts) if starts else None)
    if start is None:
        return None, False
    actual_ends = [execution.ended_at or (now if running else None), *extra_ends]
    actual_ends += [op.ended_at or op.started_at for op in operations]
    actual_ends += [inv.ended_at for inv in invocations]
    end = max([t for t in actual_ends if t] + [start])
    future = _future_moments(operations, execution, now)
    beyond_axis = any(t > end for t in future)
    if full_axis and future:
        end = max([end, *future])
    if end <= start:
        end = start + timedelta(seconds=1)
    return Chart(execution=execution, start=start, end=end, now=now), beyond_axis


def _invocation_lane(chart: Chart, invocations: list[Invocation]) -> tuple[list[Segment], float]:
    """One bar per invocation; past INVOCATION_LANE_LIMIT, one bar per slice of the axis with its count."""
    now = chart.now
    spans = [(inv, start, inv.ended_at or start) for inv, start in _invocation_spans(invocations)]
    invoked = sum(max(0.0, (end - start).total_seconds()) for _, start, end in spans)
    if len(spans) <= INVOCATION_LANE_LIMIT:
        lane = []
        for inv, inv_start, inv_end in spans:
            seconds = (inv_end - inv_start).total_seconds()
            css = "invocation" + (" FAILED" if inv.error_type else "")
            title = (
                f"invocation {clock_text(inv_start, now=now)} · {duration_text(seconds)}"
                + (f" · request {inv.request_id}" if inv.request_id else "")
                + (f" · {inv.error_type}" if inv.error_type else "")
            )
            lane.append(chart.seg(inv_start, inv_end, css, title))
        return lane, invoked
    bins: dict[int, list] = {}
    for inv, inv_start, inv_end in spans:
        index = min(INVOCATION_BINS - 1, int(chart.pos(inv_start) / 100 * INVOCATION_BINS))
        bins.setdefault(index, []).append((inv, inv_start, inv_end))
    lane = []
    for index in sorted(bins):
        members = bins[index]
        failed = sum(1 for inv, _, _ in members if inv.error_type)
        seconds = sum((end - start).total_seconds() for _, start, end in members)
        first, last = min(s for _, s, _ in members), max(e for _, _, e in members)
        title = f"{len(members)} invocations from {clock_text(first, now=now)} · {duration_text(seconds)} invoked" + (
            f" · {failed} failed" if failed else ""
        )
        lane.append(chart.seg(first, last, "invocation" + (" FAILED" if failed else ""), title))
    return lane, invoked


def timeline_build(
    *,
    execution: Execution,
    operations: list[Operation],
    invocations: list[Invocation],
    now: datetime | None = None,
    full_axis: bool = False,
    pauses: list[tuple[datetime, datetime | None]] = (),
    root: Operation | None = None,
) -> Timeline:
    """The chart of `operations` (the rows drawn at first load: summarised groups bring their summary).

    `pauses`: (paused at, resumed at or None) from the ExecutionPaused/ExecutionResumed events. `root`: the
    execution's own operation when its top level is summarised (too many top-level operations).
    """
    now = now or timezone.now()
    summarised = [op for op in operations if getattr(op, "summarized", False)]
    if root is not None and getattr(root, "summarized", False):
        summarised.append(root)
    extra_ends = []
    for op in summarised:
        summary = op.summary if isinstance(op.summary, dict) else {}
        extra_ends += [timestamp_parse(summary.get("first_start")), timestamp_parse(summary.get("last_end"))]
    chart, beyond_axis = chart_make(
        execution=execution,
        operations=operations,
        invocations=invocations,
        now=now,
        full_axis=full_axis,
        extra_ends=[t for t in extra_ends if t],
    )
    if chart is None:
        return Timeline([], [], [], None, None, None, 0, 0, len(invocations), full_axis, False)
    rows = chart.rows(operations)
    root_summary = None
    if root is not None and getattr(root, "summarized", False):
        root_summary = group_summary_view(root.summary, chart=chart, parent_key="", depth=0)
    lane, invoked = _invocation_lane(chart, invocations)
    paused_lane = [
        chart.seg(
            paused_at,
            resumed_at or min(now, chart.end),
            "paused",
            f"paused {clock_text(paused_at, now=now)}"
            + (f" → resumed {clock_text(resumed_at, now=now)}" if resumed_at else " · still paused"),
        )
        for paused_at, resumed_at in pauses
        if paused_at
    ]
    start, end, span = chart.start, chart.end, chart.span
    wall_end = execution.ended_at or (now if chart.running else end)
    wall = max(0.0, (wall_end - start).total_seconds())
    step = _nice_step(span)
    ticks = []
    index = 0
    while index * step <= span + 1e-9:
        t = index * step
        ticks.append((round(t / span * 100, 3), _offset_label(t)))
        index += 1
    now_left = round(chart.pos(now), 3) if chart.running and now <= end else None
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
        root_summary=root_summary,
    )
