"""What the pages show of pushes (executions/push/): whether an execution reports itself, and its reported
states the history does not show yet, laid over the operations a page draws."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from executions.models import Execution, PushedOperation
from executions.push.overlay import operations_overlay
from executions.push.settle import unsettled_pushes
from executions.scheduler import PollConfig
from executions.sync.planning import pushing_executions


@dataclass(frozen=True)
class PushState:
    reporting: bool  # the push plugin has reported for this execution
    last_report: datetime | None
    eventbridge_at: datetime | None
    awaiting: int  # reported operation states the history does not show yet
    pushed_status: str  # a reported end the history does not show yet
    polls_done: bool  # ended with a complete history: never polled again
    repair_seconds: int  # how often a pushing execution's history is re-read (repair sweep: scheduler.py)
    poll_seconds: int  # a non-pushing execution's current poll interval
    next_poll_at: datetime | None


def execution_pushes(*, execution: Execution) -> list[PushedOperation]:
    """The reports of `execution` the history does not show yet (none for an execution that never pushed)."""
    return unsettled_pushes(execution_id=execution.pk) if execution.pushed_at else []


def execution_push_state(*, execution: Execution, pushes: list[PushedOperation]) -> PushState:
    return PushState(
        reporting=execution.pushed_at is not None,
        last_report=execution.pushed_at,
        eventbridge_at=execution.eventbridge_at,
        awaiting=len(pushes),
        pushed_status=execution.pushed_status,
        polls_done=execution.is_terminal and execution.history_complete,
        repair_seconds=int(PollConfig.from_settings(pushing=pushing_executions()).pushed_idle)
        if execution.pushed_at
        else 0,
        poll_seconds=max(execution.poll_backoff_seconds, settings.POLL_ACTIVE_SECONDS),
        next_poll_at=execution.next_poll_at,
    )


def operations_with_pushes(*, execution: Execution, operations: list, pushes: list, add_new: bool = True) -> list:
    """`operations` (rows a page draws) with the reports laid over them. `add_new`: also draw reported operations
    the history does not have at all (not those it has but this page does not draw, such as the children of a
    summarised group: they are drawn with their group)."""
    if not pushes:
        return operations
    drawn = {op.operation_id for op in operations}
    elsewhere = [push.operation_id for push in pushes if push.operation_id not in drawn]
    known = set()
    if add_new and elsewhere:
        known = set(execution.operations.filter(operation_id__in=elsewhere).values_list("operation_id", flat=True))
    wanted = [push for push in pushes if push.operation_id in drawn or (add_new and push.operation_id not in known)]
    return operations_overlay(operations, wanted)
