"""Admin actions whose answer was lost (`ActionOutcome.UNKNOWN`), resolved from what the service shows.

An ambiguous failure (read timeout, reset connection, 5xx) may come after Lambda acted. The action's audit row
stays "sent, not yet confirmed" until the synced history (or GetDurableExecution's status) proves what happened:

- fail callback: the callback ended with `CallbackFailed` carrying the row's `auditId` -> succeeded; ended any
  other way -> closed; still open in a history read after the send -> failed (not delivered, nothing changed);
- stop: the execution is STOPPED -> succeeded; ended otherwise -> not running; still live -> failed;
- pause / resume: PAUSING or PAUSED / RUNNING -> succeeded; the other state -> failed.

The action itself resolves it right after its re-sync; every later history sync of the execution resolves what
is still pending (`actions_pending_resolve`), so nothing is left unknown after a worker was recycled mid-request.
Nothing here calls Lambda: it reads the console's database only.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from core.decoding import error_decode
from executions.models import Execution, HistoryEvent, Operation, OperatorAction
from executions.statuses import PAUSED_STATUSES, TERMINAL_STATUSES, ActionKind, ActionOutcome, ExecutionStatus

NOT_DELIVERED = "not delivered: a history read after the request shows nothing changed"
# A request still in flight when the client gave up finishes within the client's timeouts; a history read this
# long after the action was audited is after the request, whatever happened to the answer.
SETTLED_SECONDS = 60


def audit_marker(audit: OperatorAction) -> str:
    """The marker a callback failure carries in its ErrorData so the history shows it is this row's."""
    return f"console-action-{audit.pk}"


def _callback_outcome(audit: OperatorAction, execution: Execution, read_after: datetime):
    operation = Operation.objects.filter(execution=execution, operation_id=audit.operation_id).first()
    if operation is None:
        return None
    if operation.ended_at is None:
        synced = execution.history_synced_at
        return (ActionOutcome.FAILED, NOT_DELIVERED) if synced and synced > read_after else None
    ended = HistoryEvent.objects.filter(
        execution=execution, operation_id=audit.operation_id, event_type="CallbackFailed"
    ).first()
    error = error_decode(ended.details) if ended else None
    if error and audit_marker(audit) in json.dumps(ended.details, default=str):
        return ActionOutcome.SUCCEEDED, ""
    how = f"the callback ended {operation.status or 'otherwise'}" + (f" ({error.type})" if error else "")
    return ActionOutcome.CLOSED, f"{how}, not by this request"


def _state_outcome(audit: OperatorAction, execution: Execution, read_after: datetime):
    status = execution.status
    fresh = bool(
        (execution.history_synced_at and execution.history_synced_at > read_after)
        or (execution.described_at and execution.described_at > read_after)
    )
    if audit.action == ActionKind.STOP:
        if status == ExecutionStatus.STOPPED:
            return ActionOutcome.SUCCEEDED, ""
        if status in TERMINAL_STATUSES:
            return ActionOutcome.NOT_RUNNING, f"the execution ended {status} before the stop"
    elif audit.action == ActionKind.PAUSE:
        if status in PAUSED_STATUSES:
            return ActionOutcome.SUCCEEDED, ""
        if status in TERMINAL_STATUSES:
            return ActionOutcome.NOT_RUNNING, f"the execution ended {status}"
    elif audit.action == ActionKind.DELETE:
        if execution.deleted_at:
            return ActionOutcome.SUCCEEDED, ""
    elif audit.action == ActionKind.RESUME:
        if status == ExecutionStatus.RUNNING and fresh:
            return ActionOutcome.SUCCEEDED, ""
        if status in TERMINAL_STATUSES:
            return ActionOutcome.NOT_RUNNING, f"the execution ended {status}"
    else:
        return None
    return (ActionOutcome.FAILED, NOT_DELIVERED) if fresh else None


def action_resolve(*, audit: OperatorAction, read_after: datetime | None = None) -> OperatorAction:
    """Resolve one unknown action from the stored execution (history read after `read_after`); saved if resolved."""
    if audit.outcome != ActionOutcome.UNKNOWN or audit.execution_id is None:
        return audit
    audit.refresh_from_db(fields=["outcome", "error"])  # a sync may have resolved it meanwhile
    if audit.outcome != ActionOutcome.UNKNOWN:
        return audit
    execution = Execution.objects.filter(pk=audit.execution_id).first()
    if execution is None:
        return audit
    after = read_after or audit.created_at + timedelta(seconds=SETTLED_SECONDS)
    if audit.action == ActionKind.FAIL_CALLBACK:
        resolved = _callback_outcome(audit, execution, after)
    else:
        resolved = _state_outcome(audit, execution, after)
    if resolved is None:
        return audit
    outcome, note = resolved
    error = (audit.error + "; " if audit.error else "") + f"resolved {outcome}" + (f": {note}" if note else "")
    updated = OperatorAction.objects.filter(pk=audit.pk, outcome=ActionOutcome.UNKNOWN).update(
        outcome=outcome, error=error[:4000]
    )
    if updated:
        audit.outcome, audit.error = outcome, error[:4000]
    return audit


def actions_pending(*, execution_id: int):
    return OperatorAction.objects.filter(execution_id=execution_id, outcome=ActionOutcome.UNKNOWN)


def actions_pending_resolve(*, execution_id: int) -> int:
    """Resolve the execution's unknown actions that the stored history now proves; the number resolved."""
    resolved = 0
    for audit in actions_pending(execution_id=execution_id):
        resolved += int(action_resolve(audit=audit).outcome != ActionOutcome.UNKNOWN)
    return resolved
