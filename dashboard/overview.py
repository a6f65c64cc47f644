"""The overview page's numbers: executions and approvals side by side (the one place that reads both)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from approvals import selectors as approvals_selectors
from executions.models import Execution
from executions.selectors import failures_query
from executions.statuses import ExecutionStatus


def orders_pending_count() -> int | None:
    """Pending approvals, or None while the orders table cannot answer."""
    try:
        return approvals_selectors.orders_pending_count()
    except Exception:  # the overview must render even when DynamoDB is down
        return None


@dataclass
class OverviewCounts:
    pending_approvals: int | None
    running: int
    attention: int
    failed_24h: int
    timed_out_24h: int
    total: int


def overview_counts(*, now: datetime | None = None) -> OverviewCounts:
    now = now or timezone.now()
    since = now - timedelta(hours=24)
    recent = Execution.objects.filter(ended_at__gte=since)
    return OverviewCounts(
        pending_approvals=orders_pending_count(),
        running=Execution.objects.filter(status=ExecutionStatus.RUNNING).count(),
        attention=Execution.objects.filter(needs_attention=True).count(),
        failed_24h=failures_query(since=since).count(),  # the list the tile links to, counted
        timed_out_24h=recent.filter(status=ExecutionStatus.TIMED_OUT).count(),
        total=Execution.objects.count(),
    )
