"""What an execution is doing now, and why it may need attention (computed at sync time).

Pure functions over Operation-like objects, so they run after every history sync
and in the periodic, API-free re-check of running executions (`attention_check_at`).
Reason codes are stable; the stuck list filters on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from core.time import timestamp_parse
from executions.statuses import (
    FAILED_OPERATION_STATUSES,
    LIVE_STATUSES,
    OPEN_OPERATION_STATUSES,
    ExecutionStatus,
    OperationStatus,
)

CALLBACK_OVERDUE = "callback_overdue"
CALLBACK_SLA = "callback_sla"
WAIT_OVERDUE = "wait_overdue"
NO_PROGRESS = "no_progress"
STEP_RETRIES = "step_retries"
INVOCATION_FAILED = "invocation_failed"
TIMED_OUT = "timed_out"
PAUSED = "paused"

# Which open leaf operation describes "what it is doing now", most telling first.
ACTIVITY_ORDER = {"callback": 0, "retry": 1, "wait": 2, "invoke": 3, "step": 4}


@dataclass(frozen=True)
class Thresholds:
    callback_sla: timedelta
    no_progress: timedelta
    wait_grace: timedelta
    step_failed_attempts: int
    paused: timedelta = timedelta(hours=24)

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            callback_sla=timedelta(seconds=settings.ATTENTION_CALLBACK_SLA_SECONDS),
            no_progress=timedelta(seconds=settings.ATTENTION_NO_PROGRESS_SECONDS),
            wait_grace=timedelta(seconds=settings.ATTENTION_WAIT_GRACE_SECONDS),
            step_failed_attempts=settings.ATTENTION_STEP_FAILED_ATTEMPTS,
            paused=timedelta(seconds=settings.ATTENTION_PAUSED_SECONDS),
        )


@dataclass(frozen=True)
class Pause:
    """When the pause was requested and why (PauseDetails of GetDurableExecution, or the ExecutionPaused event)."""

    since: datetime | None
    reason: str = ""


@dataclass(frozen=True)
class Assessment:
    activity: dict | None
    reasons: list[dict]
    check_at: datetime | None  # when a threshold will next be crossed (re-assess then, no API call needed)
    has_failures: bool


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def next_attempt_at(operation) -> datetime | None:
    history = operation.attempt_history or []
    return timestamp_parse(history[-1].get("next_attempt_at")) if history else None


def _leaf_kind(operation) -> str | None:
    if operation.op_type == "callback":
        return "callback"
    if operation.op_type == "wait":
        return "wait"
    if operation.op_type == "chained_invoke":
        return "invoke"
    if operation.op_type == "step":
        return "retry" if operation.status == OperationStatus.PENDING else "step"
    return None


def _activity_of(kind: str, op) -> dict:
    base = {"kind": kind, "name": op.name or op.operation_id[:12], "operation_id": op.operation_id}
    if kind == "callback":
        return {
            **base,
            "since": _iso(op.started_at),
            "deadline": _iso(op.deadline),
            "heartbeat_timeout": op.heartbeat_timeout_seconds,
        }
    if kind == "wait":
        return {**base, "since": _iso(op.started_at), "until": _iso(op.wait_scheduled_end)}
    if kind == "retry":
        last = (op.attempt_history or [{}])[-1]
        error = ": ".join(part for part in (last.get("error_type", ""), last.get("error_message", "")) if part)
        return {
            **base,
            "attempt": op.attempts + 1,
            "next_attempt_at": _iso(next_attempt_at(op)),
            "error": error[:500],
        }
    if kind == "invoke":
        return {**base, "since": _iso(op.started_at), "function": (op.extra or {}).get("function_name", "")}
    return {**base, "since": _iso(op.started_at)}


def execution_assess(
    *,
    status: str,
    operations: list,
    invocation_errors: list[tuple[str, str]],
    last_event_at: datetime | None,
    now: datetime,
    thresholds: Thresholds,
    pause: Pause | None = None,
) -> Assessment:
    """Activity, attention reasons and the next re-check time of one execution.

    A pausing or paused execution (`pause` given) is doing "paused since ...: reason"; it needs attention
    (`paused`) once it has been paused longer than `thresholds.paused`, and its idleness is not "no progress".
    """
    running = status in LIVE_STATUSES
    reasons: list[dict] = []
    check_times: list[datetime] = []
    steps = [op for op in operations if op.op_type == "step"]
    has_failures = status in (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT) or bool(invocation_errors)
    has_failures = has_failures or any(
        op.op_type != "execution" and op.status in FAILED_OPERATION_STATUSES for op in operations
    )
    has_failures = has_failures or any(
        attempt.get("status") == OperationStatus.FAILED for op in steps for attempt in (op.attempt_history or [])
    )

    if status == ExecutionStatus.TIMED_OUT:
        reasons.append({"code": TIMED_OUT, "message": "The execution timed out."})
    if invocation_errors:
        error_type, message = invocation_errors[-1]
        reasons.append(
            {
                "code": INVOCATION_FAILED,
                "message": f"{len(invocation_errors)} invocation(s) failed; last: {error_type}: {message}"[:500],
            }
        )
    for op in steps:
        failed = sum(1 for attempt in op.attempt_history or [] if attempt.get("status") == OperationStatus.FAILED)
        if failed >= thresholds.step_failed_attempts:
            reasons.append(
                {
                    "code": STEP_RETRIES,
                    "message": f"Step {op.name or op.operation_id[:12]} failed {failed} attempts"
                    + (f" (last: {op.error_type})" if op.error_type else "")
                    + ".",
                    "operation_id": op.operation_id,
                }
            )

    if not running:
        return Assessment(activity=None, reasons=reasons, check_at=None, has_failures=has_failures)

    open_ops = [op for op in operations if op.op_type != "execution" and op.status in OPEN_OPERATION_STATUSES]
    leaves = [(kind, op) for op in open_ops if (kind := _leaf_kind(op))]
    for kind, op in leaves:
        label = op.name or op.operation_id[:12]
        if kind == "callback":
            if op.deadline:
                if op.deadline <= now:
                    reasons.append(
                        {
                            "code": CALLBACK_OVERDUE,
                            "message": f"Callback {label} is still open past its deadline {_iso(op.deadline)}.",
                            "operation_id": op.operation_id,
                        }
                    )
                else:
                    check_times.append(op.deadline)
            if op.started_at:
                sla_end = op.started_at + thresholds.callback_sla
                if sla_end <= now:
                    hours = thresholds.callback_sla.total_seconds() / 3600
                    reasons.append(
                        {
                            "code": CALLBACK_SLA,
                            "message": f"Callback {label} has been open for more than {hours:g} h.",
                            "operation_id": op.operation_id,
                        }
                    )
                else:
                    check_times.append(sla_end)
        if kind == "wait" and op.wait_scheduled_end:
            overdue_at = op.wait_scheduled_end + thresholds.wait_grace
            if overdue_at <= now:
                reasons.append(
                    {
                        "code": WAIT_OVERDUE,
                        "message": f"Wait {label} should have ended at {_iso(op.wait_scheduled_end)}.",
                        "operation_id": op.operation_id,
                    }
                )
            else:
                check_times.append(overdue_at)

    paused = status in (ExecutionStatus.PAUSING, ExecutionStatus.PAUSED)
    if paused and pause and pause.since:
        paused_until = pause.since + thresholds.paused
        if paused_until <= now:
            hours = thresholds.paused.total_seconds() / 3600
            reasons.append(
                {
                    "code": PAUSED,
                    "message": f"Paused for more than {hours:g} h"
                    + (f" ({pause.reason})" if pause.reason else "")
                    + ".",
                }
            )
        else:
            check_times.append(paused_until)

    idle_on_purpose = paused or any(kind in ("callback", "wait", "retry", "invoke") for kind, _ in leaves)
    if not idle_on_purpose and last_event_at:
        stalled_at = last_event_at + thresholds.no_progress
        if stalled_at <= now:
            minutes = (now - last_event_at).total_seconds() / 60
            reasons.append(
                {
                    "code": NO_PROGRESS,
                    "message": f"Running with no new event for {minutes:.0f} min and nothing to wait for.",
                }
            )
        else:
            check_times.append(stalled_at)

    if paused:
        activity = {
            "kind": "paused",
            "status": status,
            "since": _iso(pause.since if pause and pause.since else last_event_at),
            "reason": (pause.reason if pause else "")[:500],
        }
    elif leaves:
        kind, op = min(leaves, key=lambda pair: (ACTIVITY_ORDER.get(pair[0], 9), pair[1].first_event_id))
        activity = _activity_of(kind, op)
    else:
        contexts = [op for op in open_ops if op.op_type == "context"]
        activity = (
            _activity_of("context", max(contexts, key=lambda op: op.first_event_id))
            if contexts
            else {"kind": "running", "since": _iso(last_event_at)}
        )
    activity["open_operations"] = len(open_ops)
    check_at = min(check_times) if check_times else None
    return Assessment(activity=activity, reasons=reasons, check_at=check_at, has_failures=has_failures)


# --- business outcome of an order-approval execution ------------------------------------------------------------

OUTCOME_WORDS = {
    "approved": "approved",
    "rejected": "rejected",
    "expired": "approval timed out: order expired",
    "failed": "approval failed: order failed",
    "invalid": "order invalid: it never reached an approver",
}
INVALID_ORDER_ERRORS = ("InvalidOrderError",)


def order_outcome(*, status: str, result, error_type: str = "", stored: str = "", is_order: bool = False) -> str:
    """The order-approval workflow's outcome (approved, rejected, expired, failed, invalid), or "" for another
    function's execution or one still running.

    `stored` is the outcome recorded at sync time when there is one; otherwise it is read from the result the
    workflow returns (`{"outcome": ...}`), an execution that raised `InvalidOrderError` is `invalid`, and an order's
    execution (`is_order`) that ended otherwise without a result (failed, timed out, stopped) is `failed`.
    """
    if stored:
        return stored
    if isinstance(result, dict) and isinstance(result.get("outcome"), str) and "orderId" in result:
        return result["outcome"][:32]
    if status == ExecutionStatus.FAILED and error_type.rsplit(".", 1)[-1] in INVALID_ORDER_ERRORS:
        return "invalid"
    if is_order and status in (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.STOPPED):
        return "failed"
    return ""


def outcome_words(outcome: str) -> str:
    return OUTCOME_WORDS.get(outcome, outcome)
