"""One poll cycle (`functions_sync`): list each monitored function's executions, then fetch the histories
of the executions that are due by priority (scheduler.py), within the API budget.

The listing is a repair sweep where EventBridge announces executions (executions/push/): a function whose
status events arrived within SYNC_LIST_INTERVAL_SECONDS is listed at most that often; others every cycle."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from executions import durable_api
from executions.models import Execution, MonitoredFunction
from executions.scheduler import due_select, overdue_reserve
from executions.statuses import TERMINAL_STATUSES
from executions.sync.history import history_sync, history_sync_failed
from executions.sync.listing import function_list_sync
from executions.sync.planning import attention_refresh

logger = logging.getLogger(__name__)

LEASE_SECONDS_MIN = 60


def monitored_functions_seed(*, names: list[str] | None = None) -> list[MonitoredFunction]:
    """Make sure a MonitoredFunction exists for each `NAME[:QUALIFIER]` (default: DURABLE_FUNCTIONS)."""
    functions = []
    for text in names if names is not None else settings.DURABLE_FUNCTIONS:
        name, _, qualifier = text.strip().partition(":")
        if name:
            function, _ = MonitoredFunction.objects.get_or_create(name=name, qualifier=qualifier)
            functions.append(function)
    return functions


def functions_sync(*, function_name: str | None = None, dispatch=None) -> dict:
    """One full cycle; returns {"functions", "listed", "history_fetches", "events_added", "api_calls", "duration_ms"}.

    Histories are fetched inline, or handed to `dispatch(execution_id)` (the Celery beat task fans out). A function
    named in `function_name` is always listed; the others when `list_due` says so.
    """
    began, calls_before = time.monotonic(), durable_api.api_calls_made()
    monitored_functions_seed()
    functions = MonitoredFunction.objects.filter(enabled=True)
    if function_name:
        name, _, qualifier = function_name.partition(":")
        monitored_functions_seed(names=[function_name])
        functions = MonitoredFunction.objects.filter(name=name, qualifier=qualifier)
    functions = list(functions)

    listed, list_calls, listed_ok = 0, 0, []
    for function in functions:
        function.last_sync_started_at = timezone.now()
        function.save(update_fields=["last_sync_started_at"])
        if not function_name and not list_due(function=function, now=function.last_sync_started_at):
            listed_ok.append(function)  # EventBridge announces its executions: the cycle is as fresh as a listing
            continue
        calls = durable_api.api_calls_made()
        try:
            listed += function_list_sync(function=function)
            listed_ok.append(function)
            MonitoredFunction.objects.filter(pk=function.pk).update(listed_at=function.last_sync_started_at)
        except durable_api.DurableApiError as error:
            logger.warning("listing %s failed: %s", function, error)
            MonitoredFunction.objects.filter(pk=function.pk).update(
                last_sync_error=f"{type(error).__name__}: {error}"[:2000], last_sync_error_at=timezone.now()
            )
        list_calls += durable_api.api_calls_made() - calls

    due = executions_due(function_ids=[f.pk for f in functions], limit=fetch_budget(list_calls=list_calls))
    fetches, added = 0, 0
    if dispatch is not None:
        lease = timezone.now() + timedelta(seconds=max(LEASE_SECONDS_MIN, 6 * settings.SYNC_INTERVAL_SECONDS))
        for execution_id in due:
            Execution.objects.filter(pk=execution_id).update(next_poll_at=lease, poll_reason="queued")
            dispatch(execution_id)
        fetches = len(due)
    else:
        for execution_id in due:
            try:
                result = history_sync(execution_id)
            except durable_api.TRANSIENT_ERRORS as error:
                logger.warning("history sync of execution %s deferred: %s", execution_id, error)
                continue
            except Exception as error:
                # One broken execution must not stop the cycle: record it and back off exponentially.
                logger.exception("history sync of execution %s failed", execution_id)
                history_sync_failed(execution_id=execution_id, error=error)
                continue
            fetches += int(result.fetched)
            added += result.events_added

    attention_refresh()
    stats = {
        "functions": len(functions),
        "listed": listed,
        "history_fetches": fetches,
        "events_added": added,
        "api_calls": durable_api.api_calls_made() - calls_before,
        "duration_ms": int((time.monotonic() - began) * 1000),
    }
    finished = timezone.now()
    for function in listed_ok:
        MonitoredFunction.objects.filter(pk=function.pk).update(
            last_sync_succeeded_at=finished, last_sync_error="", last_sync_stats=stats
        )
    return stats


def list_due(*, function: MonitoredFunction, now: datetime) -> bool:
    """Whether to list the function this cycle: always, unless its EventBridge status events are flowing (one
    arrived within SYNC_LIST_INTERVAL_SECONDS); then once per SYNC_LIST_INTERVAL_SECONDS, to find an execution
    whose event was lost."""
    interval = timedelta(seconds=settings.SYNC_LIST_INTERVAL_SECONDS)
    flowing = function.eventbridge_at is not None and now - function.eventbridge_at <= interval
    return not flowing or function.listed_at is None or now - function.listed_at >= interval


def fetch_budget(*, list_calls: int, now: datetime | None = None) -> int:
    """History fetches this cycle may start: the interval's calls, minus the list calls and minus the fetches
    handed out by earlier cycles that have not run yet (still leased), so that a backlog never builds up in
    the task queue, where the scheduler's order would be lost."""
    queued = Execution.objects.filter(poll_reason="queued", next_poll_at__gt=now or timezone.now()).count()
    return max(0, max(1, int(settings.DURABLE_API_MAX_RPS * settings.SYNC_INTERVAL_SECONDS) - list_calls) - queued)


def executions_due(*, function_ids: list[int] | None = None, limit: int, now: datetime | None = None) -> list[int]:
    """Ids of the executions to fetch now: by priority, then longest overdue, except for a share of the
    budget that goes to the longest overdue of any class (`scheduler.due_select`: no class starves)."""
    now = now or timezone.now()
    queryset = Execution.objects.filter(imported=False).filter(
        Q(next_poll_at__lte=now) | Q(next_poll_at__isnull=True, history_complete=False)
    )
    queryset = queryset.exclude(history_complete=True, status__in=TERMINAL_STATUSES)
    if function_ids is not None:
        queryset = queryset.filter(function_id__in=function_ids)
    due_at = F("next_poll_at").asc(nulls_first=True)  # no next_poll_at and an incomplete history: due
    ids = queryset.values_list("pk", flat=True)
    return due_select(
        by_priority=ids.order_by("poll_priority", due_at, "id")[: limit + overdue_reserve(limit)],
        by_lateness=ids.order_by(due_at, "id")[: overdue_reserve(limit)],
        limit=limit,
    )
