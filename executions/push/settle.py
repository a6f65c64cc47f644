"""Reported states stop being shown over the history once it shows them (or never will): called by the derive
step after every history sync, so "reported, awaiting history" marks disappear with the fetch that confirms them.

- HISTORY: the history's operation shows the reported state or a later one (`overlay.history_covers`);
- FINAL: the history is complete (the execution ended and its end event is stored): what it lacks did not
  happen, as far as what is stored goes;
- STALE: the history has moved on by more than `SETTLE_GRACE` past the moment the report describes and still
  does not show it (a report of a state that was never checkpointed).

A reported end of the execution (`Execution.pushed_status`) is settled by the derive step when the history's
own end event arrives; when it still has none `SETTLE_GRACE` after the report, `pushed_status_doubtful` asks
GetDurableExecution, whose status then wins (executions/sync/history.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from executions.models import Execution, Operation, PushedOperation
from executions.push.overlay import history_covers, rank_of
from executions.statuses import PushSettlement

# Time for a reported state to reach the history: a checkpoint is in the history within a second or two of the
# hook that reports it; a minute leaves room for a slow flush and clocks a little apart.
SETTLE_GRACE = timedelta(seconds=60)


def unsettled_pushes(*, execution_id: int) -> list[PushedOperation]:
    """The reports of an execution the history does not show yet (few: each fetch settles them)."""
    return list(
        PushedOperation.objects.filter(execution_id=execution_id, settled_at__isnull=True).order_by("received_at", "id")
    )


def pushes_settle(*, execution: Execution, now: datetime, final: bool = False) -> int:
    """Settle the unsettled reports of `execution` that its stored history shows (or all of them when `final`);
    returns how many were settled."""
    pushes = unsettled_pushes(execution_id=execution.pk)
    if not pushes:
        return 0
    if final:
        return PushedOperation.objects.filter(pk__in=[p.pk for p in pushes], settled_at__isnull=True).update(
            settled_at=now, settled_by=PushSettlement.FINAL
        )
    history = {
        op.operation_id: op
        for op in Operation.objects.filter(
            execution=execution, operation_id__in=[push.operation_id for push in pushes]
        ).only("operation_id", "op_type", "status", "attempts")
    }
    shown, stale = [], []
    for push in pushes:
        op = history.get(push.operation_id)
        if history_covers(op, attempt=push.attempt, rank=rank_of(push.status), status=push.status):
            shown.append(push.pk)
        elif execution.last_event_at and push.observed_at and execution.last_event_at > push.observed_at + SETTLE_GRACE:
            stale.append(push.pk)
    settled = 0
    for pks, how in ((shown, PushSettlement.HISTORY), (stale, PushSettlement.STALE)):
        if pks:
            settled += PushedOperation.objects.filter(pk__in=pks, settled_at__isnull=True).update(
                settled_at=now, settled_by=how
            )
    return settled


def pushed_status_doubtful(execution: Execution, *, now: datetime) -> bool:
    """A reported end of the execution that the history still lacks SETTLE_GRACE after it was received."""
    return bool(
        execution.pushed_status and execution.pushed_status_at and now - execution.pushed_status_at > SETTLE_GRACE
    )
