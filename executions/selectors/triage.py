"""The triage lists: what needs attention, what failed, what timed out or is overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.formatting import duration_text
from core.pagination import keyset_order
from executions import attention
from executions.attention import CALLBACK_OVERDUE, CALLBACK_SLA, TIMED_OUT, WAIT_OVERDUE
from executions.models import Execution, Invocation, Operation
from executions.selectors.outcomes import outcomes_annotate
from executions.statuses import ExecutionStatus, OperationStatus

OVERDUE_REASON_CODES = (CALLBACK_OVERDUE, CALLBACK_SLA, WAIT_OVERDUE, TIMED_OUT)


def callback_sla_seconds() -> int:
    return int(getattr(settings, "ATTENTION_CALLBACK_SLA_SECONDS", 24 * 3600))


def attention_list(*, function: str = "", limit: int = 200) -> list[Execution]:
    query = Execution.objects.filter(needs_attention=True)
    if function:
        query = query.filter(function_name=function)
    return list(query.order_by(*keyset_order("started_at", False))[:limit])


FAILED_EXECUTION_STATUSES = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT)
UNRECOVERED_OPERATION_STATUSES = (OperationStatus.FAILED, OperationStatus.TIMED_OUT)


def _unrecovered_operations() -> QuerySet[Operation]:
    """Operations whose last state is a failure: a step that failed and then succeeded on a retry is not one, and
    neither is a callback that timed out (the workflow's business outcome: the approval expired)."""
    return (
        Operation.objects.filter(status__in=UNRECOVERED_OPERATION_STATUSES)
        .exclude(op_type="execution")
        .exclude(op_type="callback", status=OperationStatus.TIMED_OUT)
    )


def failures_list(*, since: datetime | None = None, function: str = "", limit: int = 200) -> list[Execution]:
    """The failures list, newest first (`failures_query`)."""
    return list(failures_query(since=since, function=function).order_by(*keyset_order("started_at", False))[:limit])


def failures_query(*, since: datetime | None = None, function: str = "") -> QuerySet[Execution]:
    """Executions that failed or timed out, and executions that did not succeed (running, paused, stopped) holding an
    operation that failed without recovery or a failed invocation. A succeeded execution is never a failure: the
    workflow recovered from whatever failed inside it (a retried step, an expired approval). The overview counts
    the same query, so its number is the length of the list it links to."""
    unrecovered = _unrecovered_operations().values("execution_id")
    crashed = Invocation.objects.exclude(error_type="").values("execution_id")
    query = Execution.objects.filter(
        Q(status__in=FAILED_EXECUTION_STATUSES)
        | (Q(has_failures=True) & ~Q(status=ExecutionStatus.SUCCEEDED) & (Q(id__in=unrecovered) | Q(id__in=crashed)))
    )
    if since:
        query = query.filter(Q(started_at__gte=since) | Q(ended_at__gte=since))
    if function:
        query = query.filter(function_name=function)
    return query


def open_callbacks_query() -> QuerySet[Operation]:
    """Open callbacks of running executions; never an imported (offline) copy's, whose callbacks live elsewhere."""
    return Operation.objects.filter(
        op_type="callback", ended_at__isnull=True, execution__status=ExecutionStatus.RUNNING, execution__imported=False
    )


def overdue_callbacks(*, now: datetime | None = None, function: str = "", limit: int = 500) -> list[Operation]:
    """Open callbacks past their deadline or past the SLA, oldest first."""
    now = now or timezone.now()
    sla_start = now - timedelta(seconds=callback_sla_seconds())
    query = open_callbacks_query().filter(Q(deadline__lt=now) | Q(started_at__lt=sla_start))
    if function:
        query = query.filter(execution__function_name=function)
    return list(query.select_related("execution").order_by("started_at", "id")[:limit])


def timed_out_list(*, since: datetime | None = None, function: str = "", limit: int = 200) -> list[Execution]:
    """Executions that timed out, or hold a timed-out operation / an overdue wait or callback."""
    reasons = Q()
    for code in OVERDUE_REASON_CODES:
        reasons |= Q(attention_reasons__icontains=f'"{code}"')
    timed_ops = Operation.objects.filter(status=OperationStatus.TIMED_OUT).values("execution_id")
    query = Execution.objects.filter(
        Q(status=ExecutionStatus.TIMED_OUT) | Q(id__in=timed_ops) | (Q(needs_attention=True) & reasons)
    )
    if since:
        query = query.filter(Q(started_at__gte=since) | Q(ended_at__gte=since))
    if function:
        query = query.filter(function_name=function)
    return list(query.order_by(*keyset_order("started_at", False))[:limit])


def callback_is_overdue(operation: Operation, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if operation.deadline and operation.deadline < now:
        return True
    return bool(operation.started_at and now - operation.started_at > timedelta(seconds=callback_sla_seconds()))


# --- what each triage row says -------------------------------------------------------------------------------------

REASON_GROUPS = {
    attention.CALLBACK_OVERDUE: "Callback past its deadline",
    attention.CALLBACK_SLA: "Callback open past the SLA",
    attention.WAIT_OVERDUE: "Wait past its end",
    attention.NO_PROGRESS: "No progress",
    attention.STEP_RETRIES: "Step retrying",
    attention.INVOCATION_FAILED: "Invocation failed",
    attention.TIMED_OUT: "Execution timed out",
    attention.PAUSED: "Paused too long",
}
OP_KIND_WORDS = {
    "step": "Step",
    "wait": "Wait",
    "callback": "Callback",
    "context": "Context",
    "chained_invoke": "Invoke",
}


@dataclass
class Problem:
    """What one triage row says failed: in words, which operation, its error and attempts, and its group."""

    summary: str
    group: str
    operation: Operation | None = None
    error_type: str = ""
    error_message: str = ""
    attempts: int = 0
    failed_event: bool = False  # a failed event or invocation is in the history: link to it


def _op_error(op: Operation | None) -> tuple[str, str]:
    if op is None:
        return "", ""
    if op.error_type or op.error_message:
        return op.error_type, op.error_message
    history = op.attempt_history or []
    if history:
        last = history[-1]
        return str(last.get("error_type") or ""), str(last.get("error_message") or "")
    return "", ""


def _op_label(op: Operation) -> str:
    return f"{OP_KIND_WORDS.get(op.op_type, op.op_type.capitalize() or 'Operation')} {op.name or op.operation_id[:12]}"


def _problem_for_operation(op: Operation, summary: str, *, group: str = "", failed: bool = True) -> Problem:
    error_type, error_message = _op_error(op)
    attempts = op.attempts or len(op.attempt_history or [])
    return Problem(
        summary=summary,
        group=error_type or group or summary,
        operation=op,
        error_type=error_type,
        error_message=error_message,
        attempts=attempts,
        failed_event=failed,
    )


def _reasons(row: Execution) -> list[dict]:
    value = row.attention_reasons or []
    return [item for item in (value if isinstance(value, list) else [value]) if isinstance(item, dict)]


def _failure_problem(row: Execution, ops: list[Operation], crashes: list[Invocation]) -> Problem:
    failed = [op for op in ops if op.status in UNRECOVERED_OPERATION_STATUSES]
    last_failed = failed[-1] if failed else None
    if row.status in FAILED_EXECUTION_STATUSES:
        verb = "failed" if row.status == ExecutionStatus.FAILED else "timed out"
        summary = f"Execution {verb}" + (f" in {_op_label(last_failed).lower()}" if last_failed else "")
        if row.outcome == "invalid":
            summary = f"Execution failed: {row.outcome_words}"
        error_type, error_message = row.error_type, row.error_message
        if not (error_type or error_message):
            error_type, error_message = _op_error(last_failed)
        return Problem(
            summary=summary,
            group=error_type or f"Execution {verb}",
            operation=last_failed,
            error_type=error_type,
            error_message=error_message,
            attempts=(last_failed.attempts or len(last_failed.attempt_history or [])) if last_failed else 0,
            failed_event=True,
        )
    unrecovered = [op for op in failed if not (op.op_type == "callback" and op.status == OperationStatus.TIMED_OUT)]
    state = (row.status or "unknown").replace("_", " ").lower()
    if unrecovered:
        op = unrecovered[-1]
        verb = "timed out" if op.status == OperationStatus.TIMED_OUT else "failed"
        return _problem_for_operation(op, f"{_op_label(op)} {verb} without recovery; the execution is {state}")
    if crashes:
        last = crashes[-1]
        return Problem(
            summary=f"{len(crashes)} invocation{'s' if len(crashes) != 1 else ''} failed; the execution is {state}",
            group=last.error_type or "Invocation failed",
            error_type=last.error_type,
            error_message=last.error_message,
            failed_event=True,
        )
    return Problem(summary=f"Failed operations; the execution is {state}", group="Failed operations", failed_event=True)


def _reason_problem(row: Execution, reason: dict, by_id: dict[str, Operation]) -> Problem:
    code = str(reason.get("code", ""))
    summary = str(reason.get("message") or code)
    op = by_id.get(str(reason.get("operation_id", "")))
    group = REASON_GROUPS.get(code, code or "Needs attention")
    if op is not None:
        problem = _problem_for_operation(op, summary, group=group, failed=code == attention.STEP_RETRIES)
        if code != attention.STEP_RETRIES:
            problem.group = group  # a callback past its deadline is grouped as that, not by an old error
        return problem
    return Problem(
        summary=summary, group=group, failed_event=code in (attention.INVOCATION_FAILED, attention.TIMED_OUT)
    )


def _timeout_problem(row: Execution, ops: list[Operation], by_id: dict[str, Operation]) -> Problem:
    timed_out = [op for op in ops if op.status == OperationStatus.TIMED_OUT]
    if row.status == ExecutionStatus.TIMED_OUT:
        op = timed_out[-1] if timed_out else None
        return Problem(
            summary="Execution timed out" + (f" in {_op_label(op).lower()}" if op else ""),
            group=row.error_type or "Execution timed out",
            operation=op,
            error_type=row.error_type,
            error_message=row.error_message,
            failed_event=True,
        )
    if timed_out:
        op = timed_out[-1]
        if op.op_type == "callback" and row.outcome == "expired":
            return _problem_for_operation(op, row.outcome_words.capitalize(), group="Approval expired")
        return _problem_for_operation(op, f"{_op_label(op)} timed out", group="Operation timed out")
    for reason in _reasons(row):
        if reason.get("code") in OVERDUE_REASON_CODES:
            return _reason_problem(row, reason, by_id)
    return Problem(summary="An operation timed out", group="Operation timed out")


def triage_annotate(*, rows: list[Execution], mode: str) -> None:
    """Attach `problem` (a Problem), `order`, `outcome` and `outcome_words` to each row of a triage list, with the
    few queries a whole list needs."""
    outcomes_annotate(rows)
    ids = [row.pk for row in rows]
    if not ids:
        return
    reason_ops = {str(r["operation_id"]) for row in rows for r in _reasons(row) if r.get("operation_id")}
    ops = (
        Operation.objects.filter(execution_id__in=ids)
        .exclude(op_type="execution")
        .filter(Q(status__in=UNRECOVERED_OPERATION_STATUSES) | Q(operation_id__in=reason_ops))
        .defer("callback_id", "summary", "extra")
        .order_by("last_event_id", "id")
    )
    ops_by_execution: dict[int, list[Operation]] = {}
    for op in ops:
        ops_by_execution.setdefault(op.execution_id, []).append(op)
    crashes_by_execution: dict[int, list[Invocation]] = {}
    if mode == "failures":
        for invocation in Invocation.objects.filter(execution_id__in=ids).exclude(error_type="").order_by("event_id"):
            crashes_by_execution.setdefault(invocation.execution_id, []).append(invocation)
    for row in rows:
        row_ops = ops_by_execution.get(row.pk, [])
        by_id = {op.operation_id: op for op in row_ops}
        if mode == "failures":
            row.problem = _failure_problem(row, row_ops, crashes_by_execution.get(row.pk, []))
        elif mode == "timeouts":
            row.problem = _timeout_problem(row, row_ops, by_id)
        else:
            reasons = _reasons(row)
            row.problem = (
                _reason_problem(row, reasons[0], by_id)
                if reasons
                else Problem(summary="Needs attention", group="Needs attention")
            )


def triage_groups(rows: list[Execution]) -> list[dict]:
    """Rows grouped by error type (or what is wrong, in words, when there is no error), biggest group first; rows
    keep their order (oldest first) within a group."""
    groups: dict[str, list[Execution]] = {}
    for row in rows:
        problem = getattr(row, "problem", None)
        groups.setdefault(problem.group if problem else "Other", []).append(row)
    return [
        {"label": label, "rows": members}
        for label, members in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0].lower()))
    ]


def thresholds_words() -> dict[str, str]:
    """The attention thresholds in force, in words, with the setting that sets each (for the empty states)."""
    return {
        "callback_sla": f"{duration_text(settings.ATTENTION_CALLBACK_SLA_SECONDS)} (ATTENTION_CALLBACK_SLA_SECONDS)",
        "wait_grace": f"{duration_text(settings.ATTENTION_WAIT_GRACE_SECONDS)} (ATTENTION_WAIT_GRACE_SECONDS)",
        "no_progress": f"{duration_text(settings.ATTENTION_NO_PROGRESS_SECONDS)} (ATTENTION_NO_PROGRESS_SECONDS)",
        "step_attempts": f"{settings.ATTENTION_STEP_FAILED_ATTEMPTS} failed attempts (ATTENTION_STEP_FAILED_ATTEMPTS)",
        "paused": f"{duration_text(settings.ATTENTION_PAUSED_SECONDS)} (ATTENTION_PAUSED_SECONDS)",
    }
