"""Versions of reported operation states, whether the history already shows one, and the overlay of the reported
states the history does not show yet on the history's operations (pure: no query).

A report's version is `(attempt, rank)` (the plugin's `version`): ranks STARTED 1, PENDING 2, READY 3, any terminal
status 9, any other 0. Per operation the highest version wins; equal or lower ones change nothing.

The history "covers" a report when its operation shows the same state or a later one. Attempts are compared only
for steps, and leniently (the SDK counts a step's attempts from 0 or from 1 depending on the hook): a step whose
history has seen more attempts than the report names covers it; one at the same attempt covers it when its status
ranks at least as high; a step the history shows PENDING (retry scheduled) covers the FAILED attempt that
scheduled it.
"""

from __future__ import annotations

import copy
from datetime import datetime

from executions.models import Operation
from executions.statuses import TERMINAL_OPERATION_STATUSES, OperationStatus

RANKS = {OperationStatus.STARTED: 1, OperationStatus.PENDING: 2, OperationStatus.READY: 3}
TERMINAL_RANK = 9
PUSHED_ORDER = 10**9  # reported operations the history lacks are drawn after every known one


def rank_of(status: str) -> int:
    if status in TERMINAL_OPERATION_STATUSES:
        return TERMINAL_RANK
    return RANKS.get(status, 0)


def history_covers(op, *, attempt: int, rank: int, status: str = "") -> bool:
    """True when the history's operation `op` (None: the history does not have it) shows the state of rank `rank`
    (and `status`, when known: a snapshot gives only ranks) at `attempt`, or a later state."""
    if op is None:
        return False
    history_rank = rank_of(op.status)
    if history_rank == TERMINAL_RANK:
        return True
    if rank == 0:
        return not status or op.status == status
    seen = op.attempts or 0
    if op.op_type == "step" and attempt > max(seen, 1):
        return False  # an attempt the history has not seen start
    if op.op_type == "step" and seen > max(attempt, 1):
        return True  # the history is at a later attempt
    if op.status == OperationStatus.PENDING and status == OperationStatus.FAILED:
        return True  # the failed attempt that scheduled the retry
    return history_rank >= rank


def pushed_view(push, base=None):
    """An Operation-like object: the history's `base` (or a new one when the history lacks it) as the report
    `push` says it is now, marked `pushed` (drawn as "reported, awaiting history")."""
    if base is not None:
        view = copy.copy(base)
    else:
        view = Operation(
            execution_id=push.execution_id,
            operation_id=push.operation_id,
            parent_operation_id=push.parent_operation_id,
            op_type=push.op_type,
            sub_type=push.sub_type,
            name=push.name,
            first_event_id=PUSHED_ORDER + (push.pk or 0),
            last_event_id=PUSHED_ORDER + (push.pk or 0),
        )
        view.child_count = view.descendant_count = 0
    view.status = push.status
    view.started_at = view.started_at or push.started_at or push.observed_at
    terminal = push.status in TERMINAL_OPERATION_STATUSES
    view.ended_at = (push.ended_at or push.observed_at) if terminal else None
    if push.error_type or push.error_message:
        view.error_type, view.error_message = push.error_type, push.error_message
    if view.op_type == "step" and push.attempt > (view.attempts or 0):
        view.attempts = push.attempt
    view.pushed = True
    view.pushed_at = push.observed_at or push.received_at
    return view


def operations_overlay(operations: list, pushes: list) -> list:
    """`operations` (the history's, in their order) with the unsettled reports `pushes` laid over them: a reported
    operation the history has replaces its row, one it lacks is added after the others."""
    by_id = {push.operation_id: push for push in pushes}
    merged = [pushed_view(by_id.pop(op.operation_id), op) if op.operation_id in by_id else op for op in operations]
    merged.extend(pushed_view(push) for push in sorted(by_id.values(), key=lambda p: (p.received_at, p.pk or 0)))
    return merged


def is_pushed(op) -> bool:
    return bool(getattr(op, "pushed", False))


def newest(*moments: datetime | None) -> datetime | None:
    present = [moment for moment in moments if moment]
    return max(present) if present else None
