"""Admin actions on executions: fail a callback, heartbeat a callback, stop an execution (pause, resume and
delete are in `executions.lifecycle`, on the same `action_run`).

Each call writes one `OperatorAction` audit row (who, what, target, reason,
outcome, error), whatever happens. Calls to Lambda go through `durable_api`
only. A double submission makes one API call: a per-target lock covers
concurrent posts, and a fail/stop that already succeeded is not sent again.
After a call the execution is re-synced at once so its page shows the result.

About 310 lines: `action_run` and the three actions built on it; the sending and the resolution of
ambiguous outcomes already live in `action_sending` and `action_resolution`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from core.audit import audit_actor, audit_error, secret_scrub
from core.aws import aws_interactive
from core.locks import cache_lock
from executions import durable_api
from executions.action_resolution import action_resolve, actions_pending, audit_marker
from executions.action_sending import (
    RESOLVED_MESSAGES,
    UNCONFIRMED,
    action_send,
    execution_resync,
    lock_seconds,
)
from executions.models import Execution, Operation, OperatorAction
from executions.selectors import callback_is_overdue
from executions.statuses import ActionKind, ActionOutcome

logger = logging.getLogger(__name__)

MANUAL_FAILURE = "ManualFailure"
MANUAL_STOP = "ManualStop"
NONCE_SECONDS = 24 * 3600

SUCCEEDED, CLOSED, NOT_RUNNING, FAILED, REJECTED, CONFLICT, UNKNOWN = (
    ActionOutcome.SUCCEEDED,
    ActionOutcome.CLOSED,
    ActionOutcome.NOT_RUNNING,
    ActionOutcome.FAILED,
    ActionOutcome.REJECTED,
    ActionOutcome.CONFLICT,
    ActionOutcome.UNKNOWN,
)


class ActionsDisabled(Exception):
    """READ_ONLY is on: no action is accepted."""


@dataclass
class ActionResult:
    audit: OperatorAction
    message: str
    resynced: bool
    resync_error: str = ""

    @property
    def ok(self) -> bool:
        return self.audit.outcome == SUCCEEDED

    @property
    def level(self) -> str:
        warnings = (CLOSED, NOT_RUNNING, CONFLICT, UNKNOWN)
        return (
            "success" if self.audit.outcome == SUCCEEDED else "warning" if self.audit.outcome in warnings else "error"
        )


def actions_enabled() -> bool:
    return not settings.READ_ONLY


def _secrets(operation: Operation | None) -> tuple[str, ...]:
    return (operation.callback_id,) if operation is not None and operation.callback_id else ()


def _audit(
    *,
    user,
    action: str,
    execution: Execution,
    operation: Operation | None,
    reason: str,
    outcome: str,
    error: str = "",
    nonce: str = "",
) -> OperatorAction:
    return OperatorAction.objects.create(
        **audit_actor(user),
        action=action,
        execution=execution,
        execution_arn=execution.arn,
        operation_id=operation.operation_id if operation else "",
        operation_name=operation.name if operation else "",
        reason=reason,
        outcome=outcome,
        error=audit_error(error, *_secrets(operation)),
        request_id=nonce[:64],
    )


def _already_succeeded(*, action: str, execution: Execution, operation: Operation | None) -> OperatorAction | None:
    query = OperatorAction.objects.filter(action=action, execution=execution, outcome=SUCCEEDED)
    if operation is not None:
        query = query.filter(operation_id=operation.operation_id)
    return query.order_by("-created_at").first()


def _pending(*, action: str, execution: Execution, operation: Operation | None) -> OperatorAction | None:
    """An earlier request for the same target whose outcome is not known yet (resolved from the DB first)."""
    query = actions_pending(execution_id=execution.pk).filter(action=action)
    if operation is not None:
        query = query.filter(operation_id=operation.operation_id)
    for audit in query:
        if action_resolve(audit=audit).outcome == UNKNOWN:
            return audit
    return None


def _retryable(outcome: str, error: str) -> bool:
    """A failure that changed nothing and may pass later: the form's nonce stays usable."""
    return outcome == UNKNOWN or (outcome == FAILED and not error.startswith("ValidationException"))


def action_run(
    *,
    user,
    action: str,
    execution: Execution,
    operation: Operation | None,
    reason: str,
    nonce: str,
    precheck,
    call,
    done_message: str,
    resync: bool = True,
    confirm=None,
) -> ActionResult:
    """Audit, lock and de-duplicate one admin action, call `call(audit)` unless `precheck()` blocks it, re-sync.

    Answers within DECISION_TIMEOUT_SECONDS: the call makes one attempt with the interactive timeouts. The audit
    row is written "sent, not yet confirmed" before the call and completed after; an ambiguous failure is
    resolved from a re-read of the execution (`confirm()` first, when given, e.g. GetDurableExecution), or left
    unknown for the next sync to resolve. The form's nonce is consumed only once the outcome is known.
    """
    if not actions_enabled():
        raise ActionsDisabled("The console is in read-only mode: actions are disabled.")
    deadline = time.monotonic() + float(settings.DECISION_TIMEOUT_SECONDS)
    secrets = _secrets(operation)
    target = f"{action}:{execution.pk}:{operation.operation_id if operation else ''}"
    nonce_key = f"action-nonce:{nonce}:{target}"
    common = {"user": user, "action": action, "execution": execution, "operation": operation, "reason": reason}

    def refuse(outcome: str, message: str, error: str = "") -> ActionResult:
        return ActionResult(_audit(**common, outcome=outcome, error=error or message, nonce=nonce), message, False)

    if execution.imported:
        return refuse(REJECTED, "This is an imported copy of a history (offline): no action can be sent from it.")
    if nonce and cache.get(nonce_key):
        return refuse(
            REJECTED,
            "This form was already submitted; nothing was sent again.",
            "duplicate submission (this form was already sent)",
        )
    with cache_lock(f"action-lock:{target}", ttl=lock_seconds()) as acquired:
        if not acquired:
            return refuse(
                REJECTED,
                "The same action on this target is already in progress.",
                "another request for the same target is in progress",
            )
        if _pending(action=action, execution=execution, operation=operation):
            return refuse(
                REJECTED, "An earlier request for the same target is " + UNCONFIRMED[0].lower() + UNCONFIRMED[1:]
            )
        blocked = precheck()
        if blocked:
            outcome, message = blocked
            if nonce:
                cache.set(nonce_key, 1, NONCE_SECONDS)
            return refuse(outcome, message)
        audit = _audit(**common, outcome=UNKNOWN, error="", nonce=nonce)  # recorded before it is sent
        sent_at = timezone.now()
        outcome, error, message = action_send(call, audit, done_message, secrets)
        OperatorAction.objects.filter(pk=audit.pk).update(outcome=outcome, error=audit_error(error, *secrets))
        audit.outcome, audit.error = outcome, audit_error(error, *secrets)
        resynced, resync_error = False, ""
        if outcome == UNKNOWN and action == ActionKind.HEARTBEAT:
            # No event records heartbeats, so nothing can prove one arrived; another heartbeat is harmless.
            outcome, message = FAILED, f"The heartbeat may not have arrived ({error}); sending another is safe."
            OperatorAction.objects.filter(pk=audit.pk).update(outcome=outcome)
            audit.outcome = outcome
        if outcome == UNKNOWN:
            if confirm is not None:
                with aws_interactive():
                    confirm(audit)
            if resync:
                with aws_interactive():
                    resynced, resync_error = execution_resync(execution_id=execution.pk, deadline=deadline)
            audit = action_resolve(audit=audit, read_after=sent_at)
            if audit.outcome != UNKNOWN:
                outcome = audit.outcome
                message = done_message if outcome == SUCCEEDED else RESOLVED_MESSAGES.get(outcome, message)
        if nonce and not _retryable(audit.outcome, audit.error):
            cache.set(nonce_key, 1, NONCE_SECONDS)
    if resync and outcome in (SUCCEEDED, CLOSED, NOT_RUNNING, CONFLICT) and not resynced:
        with aws_interactive():
            resynced, resync_error = execution_resync(execution_id=execution.pk, deadline=deadline)
    return ActionResult(audit, secret_scrub(message, *secrets), resynced, secret_scrub(resync_error, *secrets))


def _callback_precheck(action: str, execution: Execution, operation: Operation, *, early_confirmed: bool = True):
    def check():
        if execution.is_terminal:
            return NOT_RUNNING, f"The execution has already finished ({execution.status}): nothing to do."
        if operation.ended_at is not None:
            return CLOSED, f"The callback is already closed ({operation.status or 'ended'}): nothing to do."
        if action == ActionKind.FAIL_CALLBACK and _already_succeeded(
            action=action, execution=execution, operation=operation
        ):
            return REJECTED, "This callback was already failed from the console: nothing was sent again."
        if not early_confirmed and not callback_is_overdue(operation):
            return REJECTED, (
                "The callback is not past its deadline or SLA: failing it early needs an extra confirmation."
            )
        if not operation.callback_id:
            return FAILED, "The callback id of this operation is not known yet (the sync has not seen it)."
        return None

    return check


def callback_fail(
    *, user, execution: Execution, operation: Operation, reason: str, nonce: str = "", early_confirmed: bool = False
) -> ActionResult:
    """SendDurableExecutionCallbackFailure with a typed error (ManualFailure and the reason).

    Callbacks that are not overdue yet are failed only with `early_confirmed`.
    """
    at = timezone.now().isoformat(timespec="seconds")

    def data(audit: OperatorAction) -> str:
        by = user.get_username()
        fields = {"errorType": MANUAL_FAILURE, "reason": reason, "by": by, "at": at, "auditId": audit_marker(audit)}
        return json.dumps(fields)

    return action_run(
        user=user,
        action=ActionKind.FAIL_CALLBACK,
        execution=execution,
        operation=operation,
        reason=reason,
        nonce=nonce,
        precheck=_callback_precheck(ActionKind.FAIL_CALLBACK, execution, operation, early_confirmed=early_confirmed),
        call=lambda audit: durable_api.callback_fail(
            callback_id=operation.callback_id, error_type=MANUAL_FAILURE, message=reason, data=data(audit)
        ),
        done_message=f"Callback {operation.name or operation.operation_id} failed with ManualFailure.",
    )


def callback_heartbeat(
    *, user, execution: Execution, operation: Operation, reason: str = "", nonce: str = ""
) -> ActionResult:
    """SendDurableExecutionCallbackHeartbeat: keeps a callback with a heartbeat timeout alive."""
    return action_run(
        user=user,
        action=ActionKind.HEARTBEAT,
        execution=execution,
        operation=operation,
        reason=reason or "heartbeat",
        nonce=nonce,
        precheck=_callback_precheck(ActionKind.HEARTBEAT, execution, operation),
        call=lambda _audit: durable_api.callback_heartbeat(callback_id=operation.callback_id),
        done_message=f"Heartbeat sent to callback {operation.name or operation.operation_id}.",
    )


def execution_stop(
    *, user, execution: Execution, reason: str, error_type: str = MANUAL_STOP, nonce: str = ""
) -> ActionResult:
    """StopDurableExecution with an error type and the reason."""

    def check():
        if execution.is_terminal:
            return NOT_RUNNING, f"The execution has already finished ({execution.status}): nothing to do."
        if _already_succeeded(action=ActionKind.STOP, execution=execution, operation=None):
            return REJECTED, "This execution was already stopped from the console: nothing was sent again."
        return None

    return action_run(
        user=user,
        action=ActionKind.STOP,
        execution=execution,
        operation=None,
        reason=reason,
        nonce=nonce,
        precheck=check,
        call=lambda _audit: durable_api.execution_stop(
            execution_arn=execution.arn, error_type=error_type or MANUAL_STOP, message=reason
        ),
        done_message="Stop requested: the execution is being stopped.",
    )
