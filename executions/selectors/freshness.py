"""How fresh the console's copy is: the last successful sync of each monitored function."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from executions.models import MonitoredFunction


@dataclass
class FunctionFreshness:
    name: str
    last_success: datetime | None
    last_error: str
    last_error_at: datetime | None
    stale: bool


@dataclass
class Freshness:
    functions: list[FunctionFreshness]
    oldest_success: datetime | None
    stale: bool


def freshness_get(*, now: datetime | None = None) -> Freshness:
    """Time of the last successful sync per monitored function, and whether it is stale."""
    now = now or timezone.now()
    limit = timedelta(seconds=settings.SYNC_STALE_SECONDS)
    rows = []
    for function in MonitoredFunction.objects.filter(enabled=True).order_by("name", "qualifier"):
        last = function.last_sync_succeeded_at
        erroring = bool(function.last_sync_error_at and (last is None or function.last_sync_error_at > last))
        stale = last is None or now - last > limit or erroring
        rows.append(
            FunctionFreshness(
                name=str(function),
                last_success=last,
                last_error=function.last_sync_error if erroring else "",
                last_error_at=function.last_sync_error_at if erroring else None,
                stale=stale,
            )
        )
    successes = [row.last_success for row in rows if row.last_success]
    return Freshness(
        functions=rows,
        oldest_success=min(successes) if successes else None,
        stale=any(row.stale for row in rows),
    )
