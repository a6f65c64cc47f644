"""The triage lists: what needs attention, what failed, what timed out or is overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.pagination import keyset_order
from executions.attention import CALLBACK_OVERDUE, CALLBACK_SLA, TIMED_OUT, WAIT_OVERDUE
from executions.models import Execution, Operation
from executions.statuses import ExecutionStatus, OperationStatus

OVERDUE_REASON_CODES = (CALLBACK_OVERDUE, CALLBACK_SLA, WAIT_OVERDUE, TIMED_OUT)


def callback_sla_seconds() -> int:
    return int(getattr(settings, "ATTENTION_CALLBACK_SLA_SECONDS", 24 * 3600))


def attention_list(*, function: str = "", limit: int = 200) -> list[Execution]:
    query = Execution.objects.filter(needs_attention=True)
    if function:
        query = query.filter(function_name=function)
    return list(query.order_by(*keyset_order("started_at", False))[:limit])


def failures_list(*, since: datetime | None = None, function: str = "", limit: int = 200) -> list[Execution]:
    query = Execution.objects.filter(Q(status=ExecutionStatus.FAILED) | Q(has_failures=True))
    if since:
        query = query.filter(Q(started_at__gte=since) | Q(ended_at__gte=since))
    if function:
        query = query.filter(function_name=function)
    return list(query.order_by(*keyset_order("started_at", False))[:limit])


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
