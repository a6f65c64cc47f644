"""Admin actions on an execution's lifecycle: pause, resume and delete (AWS's Pause/Resume/DeleteDurableExecution).

Same rules as every admin action (`executions.actions.action_run`): Admins only (the views), a reason, an audit
row before the answer is shown, read-only mode respected, one call per form. Pause and resume send a
`ClientToken` derived from the form's nonce, so a resubmitted form reuses it and Lambda pauses at most once.
Deleting removes the execution on AWS, then the console's copy of its history (events, operations,
invocations, payloads); the row itself stays as a tombstone (`deleted_at`), with its audit trail.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone

from executions import durable_api
from executions.actions import CONFLICT, NOT_RUNNING, REJECTED, ActionResult, action_run
from executions.models import Execution, HistoryEvent, Invocation, Operation, OperatorAction
from executions.statuses import PAUSED_STATUSES, ActionKind, ActionOutcome
from executions.sync.history import execution_description_store


def _describe(execution: Execution):
    """After an ambiguous pause or resume: read the status the history has no event for (GetDurableExecution)."""

    def confirm(_audit):
        execution_description_store(execution=execution)

    return confirm


def client_token(*, nonce: str, action: str, execution: Execution) -> str:
    """A ClientToken (1..64 printable characters) that is the same for every submission of one form."""
    seed = nonce or f"{action}:{execution.pk}:{timezone.now().isoformat()}"
    return hashlib.sha256(f"{seed}:{action}:{execution.arn}".encode()).hexdigest()[:64]


def _deleted(execution: Execution):
    if execution.deleted_at:
        return NOT_RUNNING, "This execution was already deleted: nothing to do."
    return None


def execution_pause(*, user, execution: Execution, reason: str, keep_timeout: bool = False, nonce: str = ""):
    """PauseDurableExecution. The execution timeout is paused too (AWS's default) unless `keep_timeout`."""

    def check():
        if blocked := _deleted(execution):
            return blocked
        if execution.is_terminal:
            return NOT_RUNNING, f"The execution has already finished ({execution.status}): nothing to pause."
        if execution.status in PAUSED_STATUSES:
            return CONFLICT, f"The execution is already {execution.status.lower()}: nothing to do."
        return None

    token = client_token(nonce=nonce, action=ActionKind.PAUSE, execution=execution)
    return action_run(
        user=user,
        action=ActionKind.PAUSE,
        execution=execution,
        operation=None,
        reason=reason,
        nonce=nonce,
        precheck=check,
        call=lambda _audit: durable_api.execution_pause(
            execution_arn=execution.arn, reason=reason, client_token=token, timeout_paused=not keep_timeout
        ),
        confirm=_describe(execution),
        done_message="Pause requested: Lambda invokes the function no more until it is resumed"
        + (" (the execution timeout keeps running)." if keep_timeout else " (the execution timeout is paused too)."),
    )


def execution_resume(*, user, execution: Execution, reason: str, nonce: str = "") -> ActionResult:
    """ResumeDurableExecution of a pausing or paused execution."""

    def check():
        if blocked := _deleted(execution):
            return blocked
        if execution.is_terminal:
            return NOT_RUNNING, f"The execution has already finished ({execution.status}): nothing to resume."
        if execution.status not in PAUSED_STATUSES:
            return CONFLICT, f"The execution is not paused ({execution.status or 'unknown'}): nothing to resume."
        return None

    token = client_token(nonce=nonce, action=ActionKind.RESUME, execution=execution)
    return action_run(
        user=user,
        action=ActionKind.RESUME,
        execution=execution,
        operation=None,
        reason=reason,
        nonce=nonce,
        precheck=check,
        call=lambda _audit: durable_api.execution_resume(
            execution_arn=execution.arn, reason=reason, client_token=token
        ),
        done_message="Resumed: Lambda invokes the function again.",
    )


def execution_delete(*, user, execution: Execution, reason: str, nonce: str = "") -> ActionResult:
    """DeleteDurableExecution of a finished execution, then the console's stored history of it."""

    def check():
        if blocked := _deleted(execution):
            return blocked
        if not execution.is_terminal:
            return REJECTED, (
                f"Only finished executions can be deleted; this one is {execution.status or 'unknown'}. Stop it first."
            )
        return None

    def call(_audit):
        try:
            durable_api.execution_delete(execution_arn=execution.arn)
        except durable_api.ExecutionNotFound:
            pass  # already gone on AWS (deleted elsewhere, or past its retention): forget our copy too
        execution_history_purge(execution=execution)

    def confirm(audit):
        """An ambiguous delete is done when the execution is gone (then our copy goes too)."""
        try:
            durable_api.execution_describe(execution_arn=execution.arn)
        except durable_api.ExecutionNotFound:
            execution_history_purge(execution=execution)
            OperatorAction.objects.filter(pk=audit.pk).update(outcome=ActionOutcome.SUCCEEDED)
            audit.outcome = ActionOutcome.SUCCEEDED
        except durable_api.DurableApiError:
            pass  # unreadable: stays unknown

    return action_run(
        user=user,
        action=ActionKind.DELETE,
        execution=execution,
        operation=None,
        reason=reason,
        nonce=nonce,
        precheck=check,
        call=call,
        done_message="Deleted: the execution is gone from Lambda and its history from the console; the audit stays.",
        resync=False,
        confirm=confirm,
    )


def execution_history_purge(*, execution: Execution) -> None:
    """Remove the stored events, operations, invocations and payloads of an execution; keep a tombstone row."""
    with transaction.atomic():
        HistoryEvent.objects.filter(execution=execution).delete()
        Operation.objects.filter(execution=execution).delete()
        Invocation.objects.filter(execution=execution).delete()
        changes = {
            "deleted_at": timezone.now(),
            "input_raw": "",
            "input": None,
            "result_raw": "",
            "result": None,
            "error_data": "",
            "error_stack": None,
            "activity": None,
            "attention_reasons": [],
            "needs_attention": False,
            "pause_details": None,
            "history_marker": "",
            "history_complete": True,
            "next_poll_at": None,
            "poll_reason": "deleted",
            "attention_check_at": None,
        }
        Execution.objects.filter(pk=execution.pk).update(**changes)
    for key, value in changes.items():
        setattr(execution, key, value)
