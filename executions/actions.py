"""Admin actions on executions: fail a callback, heartbeat a callback, stop an execution (pause, resume and
delete are in `executions.lifecycle`, on the same `action_run`).

Each call writes one `OperatorAction` audit row (who, what, target, reason,
outcome, error), whatever happens. Calls to Lambda go through `durable_api`
only. A double submission makes one API call: a per-target lock covers
concurrent posts, and a fail/stop that already succeeded is not sent again.
After a call the execution is re-synced at once so its page shows the result.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from core.audit import audit_actor, audit_error
from core.locks import cache_lock
from executions import durable_api
from executions.models import Execution, Operation, OperatorAction
from executions.selectors import callback_is_overdue
from executions.statuses import TERMINAL_STATUSES, ActionKind, ActionOutcome, ExecutionStatus
from executions.sync.history import execution_history_sync

logger = logging.getLogger(__name__)

MANUAL_FAILURE = "ManualFailure"
MANUAL_STOP = "ManualStop"
LOCK_SECONDS = 60
NONCE_SECONDS = 24 * 3600

SUCCEEDED, CLOSED, NOT_RUNNING, FAILED, REJECTED, CONFLICT = (
    ActionOutcome.SUCCEEDED,
    ActionOutcome.CLOSED,
    ActionOutcome.NOT_RUNNING,
    ActionOutcome.FAILED,
    ActionOutcome.REJECTED,
    ActionOutcome.CONFLICT,
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
        warnings = (CLOSED, NOT_RUNNING, CONFLICT)
        return (
            "success" if self.audit.outcome == SUCCEEDED else "warning" if self.audit.outcome in warnings else "error"
        )


def actions_enabled() -> bool:
    return not settings.READ_ONLY


def execution_resync(*, execution_id: int, settle_seconds: float | None = None) -> tuple[bool, str]:
    """Re-read one execution's history now; (done, error). The poller catches up if this fails.

    An answered callback resumes the execution in a new invocation a moment later, so
    while it is still running the history is re-read for up to `settle_seconds`.
    """
    settle = settings.ACTION_RESYNC_SECONDS if settle_seconds is None else settle_seconds
    deadline = time.monotonic() + settle
    try:
        while True:
            execution_history_sync(execution_id=execution_id)
            status = Execution.objects.filter(pk=execution_id).values_list("status", flat=True).first()
            if status != ExecutionStatus.RUNNING or time.monotonic() >= deadline:
                break
            time.sleep(0.4)
    except Exception as error:  # the action already happened; report, never 500
        logger.warning("re-sync of execution %s after an admin action failed: %s", execution_id, error)
        return False, str(error) or type(error).__name__
    finally:
        # Whatever happened, the poller looks at this execution first in its next cycle.
        Execution.objects.filter(pk=execution_id).exclude(status__in=TERMINAL_STATUSES).update(
            next_poll_at=timezone.now(), poll_backoff_seconds=0
        )
    return True, ""


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
        error=audit_error(error, operation.callback_id if operation else ""),
        request_id=nonce[:64],
    )


def _already_succeeded(*, action: str, execution: Execution, operation: Operation | None) -> OperatorAction | None:
    query = OperatorAction.objects.filter(action=action, execution=execution, outcome=SUCCEEDED)
    if operation is not None:
        query = query.filter(operation_id=operation.operation_id)
    return query.order_by("-created_at").first()


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
) -> ActionResult:
    """Audit, lock and de-duplicate one admin action, call `call()` unless `precheck()` blocks it, re-sync."""
    if not actions_enabled():
        raise ActionsDisabled("The console is in read-only mode: actions are disabled.")
    target = f"{action}:{execution.pk}:{operation.operation_id if operation else ''}"
    if nonce and not cache.add(f"action-nonce:{nonce}:{target}", 1, NONCE_SECONDS):
        audit = _audit(
            user=user,
            action=action,
            execution=execution,
            operation=operation,
            reason=reason,
            outcome=REJECTED,
            error="duplicate submission (this form was already sent)",
            nonce=nonce,
        )
        return ActionResult(audit, "This form was already submitted; nothing was sent again.", False)
    with cache_lock(f"action-lock:{target}", ttl=LOCK_SECONDS) as acquired:
        if not acquired:
            audit = _audit(
                user=user,
                action=action,
                execution=execution,
                operation=operation,
                reason=reason,
                outcome=REJECTED,
                error="another request for the same target is in progress",
                nonce=nonce,
            )
            return ActionResult(audit, "The same action on this target is already in progress.", False)
        blocked = precheck()
        if blocked:
            outcome, message = blocked
            audit = _audit(
                user=user,
                action=action,
                execution=execution,
                operation=operation,
                reason=reason,
                outcome=outcome,
                error=message,
                nonce=nonce,
            )
            resynced, resync_error = (False, "")
            return ActionResult(audit, message, resynced, resync_error)
        outcome, error, message = SUCCEEDED, "", done_message
        try:
            call()
        except durable_api.CallbackClosed as exc:
            outcome, error = CLOSED, str(exc)
            message = "The callback is no longer open (it timed out or was already answered): nothing to do."
        except (durable_api.ExecutionAlreadyFinished, durable_api.ExecutionNotFound) as exc:
            outcome, error = NOT_RUNNING, str(exc)
            message = "The execution is not running any more: nothing to do."
        except durable_api.ExecutionStateConflict as exc:
            outcome, error = CONFLICT, str(exc)
            message = f"Lambda refused: the execution's state does not allow this ({exc}). Nothing was changed."
        except durable_api.TRANSIENT_ERRORS as exc:
            outcome, error = FAILED, str(exc)
            message = f"Lambda could not be reached, nothing was changed; try again later. ({exc})"
        except durable_api.DurableApiError as exc:
            outcome, error = FAILED, f"{exc.code}: {exc}" if exc.code else str(exc)
            message = f"Lambda refused the request: {exc}"
        audit = _audit(
            user=user,
            action=action,
            execution=execution,
            operation=operation,
            reason=reason,
            outcome=outcome,
            error=error,
            nonce=nonce,
        )
    resynced, resync_error = (False, "")
    if resync and outcome in (SUCCEEDED, CLOSED, NOT_RUNNING, CONFLICT):
        resynced, resync_error = execution_resync(execution_id=execution.pk)
    return ActionResult(audit, message, resynced, resync_error)


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
    data = json.dumps(
        {
            "errorType": MANUAL_FAILURE,
            "reason": reason,
            "by": user.get_username(),
            "at": timezone.now().isoformat(timespec="seconds"),
        }
    )
    return action_run(
        user=user,
        action=ActionKind.FAIL_CALLBACK,
        execution=execution,
        operation=operation,
        reason=reason,
        nonce=nonce,
        precheck=_callback_precheck(ActionKind.FAIL_CALLBACK, execution, operation, early_confirmed=early_confirmed),
        call=lambda: durable_api.callback_fail(
            callback_id=operation.callback_id, error_type=MANUAL_FAILURE, message=reason, data=data
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
        call=lambda: durable_api.callback_heartbeat(callback_id=operation.callback_id),
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
        call=lambda: durable_api.execution_stop(
            execution_arn=execution.arn, error_type=error_type or MANUAL_STOP, message=reason
        ),
        done_message="Stop requested: the execution is being stopped.",
    )
