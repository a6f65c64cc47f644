"""Operations, invocations and the execution's summary, derived from the stored events.

Their own position (`derived_event_id`) makes this step resumable: only events after it are read again.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.decoding import error_decode, payload_decode
from core.time import timestamp_parse
from executions.models import Execution, HistoryEvent, Invocation, Operation
from executions.operations import execution_status_from, operation_derive
from executions.order_fields import CREATE_ORDER_STEP, order_outcome_of, order_ref_from_step_details
from executions.push.settle import pushes_settle
from executions.statuses import TERMINAL_STATUSES, ExecutionStatus
from executions.sync.planning import assess_and_plan
from executions.sync.tree import operation_tree_update

API_ONLY_STATUSES = (ExecutionStatus.PAUSING, ExecutionStatus.DELETING)
# What a push (executions/push/ingest.py) or the lister may have written since the sync read the row: read again
# under the row lock, so the save below never puts an older value back.
CONCURRENT_FIELDS = [
    "status", "ended_at", "duration_ms", "error_type", "error_message", "pushed_at", "pushed_status",
    "pushed_status_at", "eventbridge_at", "next_poll_at", "poll_priority", "poll_reason", "poll_backoff_seconds",
]  # fmt: skip


def execution_derive(*, execution: Execution, changed: bool, reached_end: bool, now: datetime | None = None) -> None:
    """Recompute operations/invocations touched by new events, then the execution's summary and schedule."""
    now = now or timezone.now()
    with transaction.atomic():
        list(Execution.objects.select_for_update().filter(pk=execution.pk).values_list("pk"))  # pushes wait
        execution.refresh_from_db(fields=CONCURRENT_FIELDS)
        new_events = list(
            HistoryEvent.objects.filter(execution=execution, event_id__gt=execution.derived_event_id).only(
                "event_id", "event_type", "operation_id", "timestamp", "details"
            )
        )
        _invocations_store(execution, [e for e in new_events if e.event_type == "InvocationCompleted"])
        touched = {e.operation_id for e in new_events if e.operation_id and e.event_type != "InvocationCompleted"}
        if touched:
            _operations_store(execution, touched)
        execution_events = list(HistoryEvent.objects.filter(execution=execution, event_type__startswith="Execution"))
        _execution_fields_apply(execution, execution_events)
        _order_fields_apply(execution, new_events)
        execution.derived_event_id = execution.last_event_id
        terminal_in_history = (execution_status_from(execution_events) or "") in TERMINAL_STATUSES
        if execution.imported or (execution.is_terminal and reached_end and terminal_in_history):
            execution.history_complete = True
        if execution.pushed_at:  # reports the history now shows stop being shown over it
            pushes_settle(execution=execution, now=now, final=execution.history_complete)
        if changed:
            execution.last_change_seen_at = now
        assess_and_plan(execution, now=now, changed=changed)
        execution.save()


def _invocations_store(execution: Execution, events: list) -> None:
    for event in events:
        details = event.details or {}
        error = error_decode(details)
        Invocation.objects.update_or_create(
            execution=execution,
            event_id=event.event_id,
            defaults={
                "started_at": timestamp_parse(details.get("StartTimestamp")),
                "ended_at": timestamp_parse(details.get("EndTimestamp")) or event.timestamp,
                "request_id": str(details.get("RequestId") or "")[:128],
                "error_type": error.type if error else "",
                "error_message": error.message if error else "",
            },
        )


def _operations_store(execution: Execution, touched: set[str]) -> None:
    by_operation: dict[str, list] = {}
    events = HistoryEvent.objects.filter(execution=execution, operation_id__in=list(touched)).only(
        "event_id", "event_type", "sub_type", "operation_id", "parent_id", "name", "timestamp", "details"
    )
    for event in events:
        if event.event_type != "InvocationCompleted":
            by_operation.setdefault(event.operation_id, []).append(event)
    existing = {op.operation_id: op for op in Operation.objects.filter(execution=execution, operation_id__in=touched)}
    create, update = [], []
    for operation_id, op_events in by_operation.items():
        fields = operation_derive(op_events)
        op = existing.get(operation_id)
        if op is None:
            create.append(Operation(execution=execution, operation_id=operation_id, **fields))
        else:
            for key, value in fields.items():
                setattr(op, key, value)
            update.append(op)
    if create:
        Operation.objects.bulk_create(create, ignore_conflicts=True)
    if update:
        Operation.objects.bulk_update(update, _OPERATION_FIELDS)
    operation_tree_update(execution)


_OPERATION_FIELDS = [
    "op_type", "sub_type", "name", "parent_operation_id", "started_at", "ended_at", "status", "attempts",
    "attempt_history", "callback_id", "callback_timeout_seconds", "heartbeat_timeout_seconds", "deadline",
    "wait_seconds", "wait_scheduled_end", "error_type", "error_message", "error_data", "result_preview",
    "result_truncated", "result_size", "extra", "first_event_id", "last_event_id",
]  # fmt: skip


def _execution_fields_apply(execution: Execution, events: list) -> None:
    for event in sorted(events, key=lambda e: e.event_id):
        details = event.details or {}
        if event.event_type == "ExecutionStarted":
            started = payload_decode(details.get("Input"))
            execution.input_raw = started.raw
            execution.input = started.value if started.is_json else None
            execution.execution_timeout_seconds = details.get("ExecutionTimeout")
            execution.started_at = execution.started_at or event.timestamp
            if not execution.name and event.name:
                execution.name = event.name[:256]
        if "Result" in details and event.event_type.startswith("Execution"):
            result = payload_decode(details["Result"])
            execution.result_raw = result.raw
            execution.result = result.value if result.is_json else None
        error = error_decode(details)
        if error:
            execution.error_type, execution.error_message = error.type, error.message
            execution.error_data, execution.error_stack = error.data, error.stack
    status = execution_status_from(events)
    if status == ExecutionStatus.RUNNING and execution.status in API_ONLY_STATUSES:
        status = None  # PAUSING and DELETING have no event: GetDurableExecution's status is newer
    if status in TERMINAL_STATUSES:
        execution.pushed_status, execution.pushed_status_at = "", None  # the history's own end: it wins
    # Never back to running from a terminal status: the history of an execution the list, a push or EventBridge
    # reported ended may not have its end event yet (a push's end is in `pushed_status` until then).
    if status and (status in TERMINAL_STATUSES or not execution.is_terminal):
        execution.status = status[:32]
        if status in TERMINAL_STATUSES:
            terminal = [e for e in events if e.event_type.startswith("Execution") and e.timestamp]
            execution.ended_at = terminal[-1].timestamp if terminal else execution.ended_at
    if execution.is_terminal and execution.started_at and execution.ended_at:
        execution.duration_ms = int((execution.ended_at - execution.started_at).total_seconds() * 1000)


def _order_fields_apply(execution: Execution, new_events: list) -> None:
    """Order id and customer (once, from the create_order step's result) and the outcome, for order approvals."""
    if execution.function_name != settings.ORDER_APPROVAL_FUNCTION:
        return
    if not execution.order_id and any(e.event_type == "StepSucceeded" for e in new_events):
        event = (
            HistoryEvent.objects.filter(execution=execution, event_type="StepSucceeded", name=CREATE_ORDER_STEP)
            .only("details")
            .first()
        )
        ref = order_ref_from_step_details(event.details if event else None)
        if ref:
            execution.order_id, execution.customer_name = ref.order_id, ref.customer_name
    execution.order_outcome = order_outcome_of(
        result=execution.result, error_type=execution.error_type, terminal=execution.is_terminal
    )
