"""The operation tree of one execution, precomputed when its events are derived, so a page reads few rows.

For every operation: its parent link and depth, how many children and descendants it has, how urgent it is
(`attention_rank`: failed, retrying, running, done), and whether the timeline draws it at first load.
For every group (map, parallel, child context, or the execution's top level): a summary of its children
(counts by status, span, duration distribution) and the failed, retrying and running operations anywhere
below it, so they are visible at first load however deep they are.

Which rows the timeline draws at first load (`timeline_visible`): groups are opened breadth first, shallow
levels before deep ones; a group with more children than TIMELINE_GROUP_LIMIT, or whose children would take
the page past TIMELINE_ROW_BUDGET rows, is drawn as one summary lane instead (`summarized`) and its children
are loaded on demand.
"""

from __future__ import annotations

import statistics
from collections import deque

from django.conf import settings

from executions.models import Execution, Operation
from executions.statuses import FAILED_OPERATION_STATUSES, OperationStatus

ROOT = ""  # the key of the execution's top level, a group like any other
ATTENTION_LISTED = 10  # failed / retrying / running descendants listed in a group's summary

RANK_FAILED, RANK_RETRYING, RANK_RUNNING, RANK_DONE = 0, 1, 2, 3
RANK_NAMES = {RANK_FAILED: "failed", RANK_RETRYING: "retrying", RANK_RUNNING: "running"}

_FIELDS = (
    "id", "operation_id", "parent_operation_id", "parent_id", "depth", "op_type", "sub_type", "name", "status",
    "started_at", "ended_at", "attempts", "error_type", "error_message", "first_event_id", "child_count",
    "descendant_count", "attention_rank", "timeline_visible", "summarized", "summary",
)  # fmt: skip
_STORED = [
    "parent", "depth", "child_count", "descendant_count", "attention_rank", "timeline_visible", "summarized",
    "summary",
]  # fmt: skip


def attention_rank(op: Operation) -> int:
    """0 failed (or timed out, stopped), 1 retrying, 2 still running, 3 finished well."""
    if op.status in FAILED_OPERATION_STATUSES:
        return RANK_FAILED
    if op.status == OperationStatus.PENDING or (op.ended_at is None and (op.attempts or 0) > 1):
        return RANK_RETRYING
    if op.ended_at is None and op.op_type != "execution":
        return RANK_RUNNING
    return RANK_DONE


def _percentile(ordered: list[int], share: float) -> int:
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def _attention_entry(op: Operation, parent_names: dict[str, str]) -> dict:
    error = ": ".join(part for part in (op.error_type, (op.error_message or "")[:200]) if part)
    return {
        "id": op.operation_id,
        "name": op.name or op.sub_type or op.op_type,
        "type": op.op_type,
        "kind": op.sub_type,
        "status": op.status,
        "rank": RANK_NAMES.get(op.attention_rank, ""),
        "attempts": op.attempts or 0,
        "error": error,
        "in": parent_names.get(op.parent_operation_id, ""),
        "started": _iso(op.started_at),
        "ended": _iso(op.ended_at),
    }


def group_summary(children: list[Operation], below: list[Operation], parent_names: dict[str, str]) -> dict:
    """Counts, span and durations of the direct `children`; the operations needing attention among `below`."""
    counts: dict[str, int] = {}
    for child in children:
        key = child.status or "UNKNOWN"
        counts[key] = counts.get(key, 0) + 1
    starts = [c.started_at for c in children if c.started_at]
    open_children = any(c.ended_at is None for c in children)
    ends = [c.ended_at for c in children if c.ended_at]
    durations = sorted(
        int((c.ended_at - c.started_at).total_seconds() * 1000) for c in children if c.started_at and c.ended_at
    )
    urgent = sorted(
        (op for op in below if op.attention_rank < RANK_DONE), key=lambda o: (o.attention_rank, o.first_event_id)
    )
    by_rank = {name: sum(1 for op in urgent if op.attention_rank == rank) for rank, name in RANK_NAMES.items()}
    return {
        "children": len(children),
        "descendants": len(below),
        "counts": dict(sorted(counts.items(), key=lambda item: -item[1])),
        "first_start": _iso(min(starts)) if starts else None,
        "last_end": None if open_children or not ends else _iso(max(ends)),
        "durations_ms": (
            {
                "min": durations[0],
                "median": int(statistics.median(durations)),
                "p95": _percentile(durations, 0.95),
                "max": durations[-1],
            }
            if durations
            else None
        ),
        "attention": [_attention_entry(op, parent_names) for op in urgent[:ATTENTION_LISTED]],
        "attention_counts": by_rank,
    }


def operation_tree_update(execution: Execution) -> None:
    """Recompute the tree facts of every operation of `execution` and store the ones that changed."""
    rows = list(Operation.objects.filter(execution=execution).only(*_FIELDS).order_by("first_event_id", "id"))
    by_id = {row.operation_id: row for row in rows}
    execution_row = next((row for row in rows if row.op_type == "execution"), None)

    children: dict[str, list[Operation]] = {ROOT: []}
    for row in rows:
        if row.op_type == "execution":
            continue
        parent = by_id.get(row.parent_operation_id)
        key = row.parent_operation_id if parent is not None and parent.op_type != "execution" else ROOT
        children.setdefault(key, []).append(row)
    parent_names = {row.operation_id: row.name or row.sub_type or row.op_type for row in rows}

    # Depth first from the top level (iterative, cycle safe): depth, descendants, ranks.
    order: list[tuple[Operation, int]] = []
    seen: set[str] = set()
    stack = [(row, 0) for row in reversed(children[ROOT])]
    while stack:
        row, depth = stack.pop()
        if row.operation_id in seen:
            continue
        seen.add(row.operation_id)
        order.append((row, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(row.operation_id, [])))
    reachable = [row for row, _ in order]
    for row in rows:  # operations caught in a malformed cycle: shown at the top level
        if row.operation_id not in seen and row.op_type != "execution":
            children[ROOT].append(row)
            order.append((row, 0))
            reachable.append(row)

    new: dict[int, dict] = {}
    below: dict[str, list[Operation]] = {}
    for row, depth in reversed(order):  # children before their parents
        row.attention_rank = attention_rank(row)
        kids = children.get(row.operation_id, [])
        under = [*kids]
        for kid in kids:
            under.extend(below.get(kid.operation_id, ()))
        below[row.operation_id] = under
        parent = by_id.get(row.parent_operation_id)
        new[row.pk] = {
            "parent_id": parent.pk if parent is not None else None,
            "depth": depth,
            "child_count": len(kids),
            "descendant_count": len(under),
            "attention_rank": row.attention_rank,
        }

    # Breadth first: which groups open at first load.
    limit, budget = settings.TIMELINE_GROUP_LIMIT, settings.TIMELINE_ROW_BUDGET
    visible: set[str] = set()
    summarized: set[str] = set()
    shown = 0
    queue: deque[str] = deque([ROOT])
    while queue:
        key = queue.popleft()
        kids = children.get(key, [])
        if not kids:
            continue
        if len(kids) > limit or shown + len(kids) > budget:
            summarized.add(key)
            continue
        shown += len(kids)
        for kid in kids:
            visible.add(kid.operation_id)
            queue.append(kid.operation_id)

    changed = []
    for row in reachable:
        facts = new[row.pk]
        facts["timeline_visible"] = row.operation_id in visible
        facts["summarized"] = row.operation_id in summarized
        kids = children.get(row.operation_id, [])
        facts["summary"] = group_summary(kids, below[row.operation_id], parent_names) if kids else None
        if any(getattr(row, name) != value for name, value in facts.items()):
            for name, value in facts.items():
                setattr(row, name, value)
            changed.append(row)
    if execution_row is not None:
        root_facts = {
            "parent_id": None,
            "depth": 0,
            "child_count": len(children[ROOT]),
            "descendant_count": len(reachable),
            "attention_rank": attention_rank(execution_row),
            "timeline_visible": False,
            "summarized": ROOT in summarized,
            "summary": group_summary(children[ROOT], reachable, parent_names) if children[ROOT] else None,
        }
        if any(getattr(execution_row, name) != value for name, value in root_facts.items()):
            for name, value in root_facts.items():
                setattr(execution_row, name, value)
            changed.append(execution_row)
    if changed:
        Operation.objects.bulk_update(changed, _STORED, batch_size=500)
