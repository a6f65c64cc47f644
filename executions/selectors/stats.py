"""Finished executions over time (the overview's chart)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from executions.models import Execution
from executions.statuses import ExecutionStatus


def executions_by_status_over_time(*, now: datetime | None = None, days: int = 14, hourly: bool = False):
    """[(bucket start, {status: count})] of finished executions, oldest bucket first, no gaps.

    One grouped query with a filtered count per bucket: no per-row date function, so it stays
    cheap with a large table.
    """
    now = now or timezone.now()
    if hourly:
        step, buckets = timedelta(hours=1), 24
        start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    else:
        step, buckets = timedelta(days=1), days
        local = timezone.localtime(now)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    edges = [start + step * i for i in range(buckets + 1)]
    aggregates = {
        f"b{i}": Count("id", filter=Q(ended_at__gte=edges[i], ended_at__lt=edges[i + 1])) for i in range(buckets)
    }
    rows = (
        Execution.objects.filter(ended_at__gte=start, ended_at__lt=edges[-1])
        .exclude(status=ExecutionStatus.RUNNING)
        .order_by()
        .values("status")
        .annotate(**aggregates)
    )
    counts: dict[datetime, dict[str, int]] = {edges[i]: {} for i in range(buckets)}
    for row in rows:
        for i in range(buckets):
            if row[f"b{i}"]:
                counts[edges[i]][row["status"]] = row[f"b{i}"]
    return list(counts.items())
