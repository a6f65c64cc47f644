"""One execution's history sync: continue from the stored marker (or from the start, skipping known
EventIds, when the marker is gone), store every new event exactly once, and commit the history position in
the same transaction as its events, so a worker killed at any point leaves no gap and no duplicate."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.audit import audit_error
from core.time import timestamp_parse
from executions import durable_api
from executions.action_resolution import actions_pending, actions_pending_resolve
from executions.events import event_columns, event_normalize
from executions.locks import execution_lock
from executions.models import Execution, HistoryEvent, Invocation, Operation
from executions.operations import EXECUTION_EVENT_STATUS
from executions.push.settle import pushed_status_doubtful
from executions.statuses import PAUSED_STATUSES, TERMINAL_STATUSES, ActionKind, ExecutionStatus
from executions.sync.derive import execution_derive

logger = logging.getLogger(__name__)


class HistoryRewritten(Exception):
    """Events already stored came back different: the stored copy is re-read from the start."""


@dataclass
class HistorySyncResult:
    events_added: int = 0
    pages: int = 0  # history pages read (the distributed-sync test's worker probe records it)
    fetched: bool = False


ERROR_BACKOFF_CAP_SECONDS = 3600


def execution_history_sync(*, execution_id: int) -> int:
    """Sync one execution now; return the number of events added (0 if another worker holds it)."""
    return history_sync(execution_id).events_added


def history_sync_failed(*, execution_id: int, error: BaseException) -> int:
    """Record why a history sync failed and back off exponentially (the sync interval doubled per failure in a
    row, up to an hour), so a poison execution neither re-runs every cycle nor spends the API budget; the
    execution page shows the error. Returns the backoff in seconds."""
    execution = Execution.objects.filter(pk=execution_id).only("id", "sync_failures").first()
    if execution is None:
        return 0
    failures = execution.sync_failures + 1
    backoff = int(min(ERROR_BACKOFF_CAP_SECONDS, settings.SYNC_INTERVAL_SECONDS * 2 ** min(failures, 20)))
    now = timezone.now()
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    callback_ids = Operation.objects.filter(execution_id=execution_id).exclude(callback_id="")
    Execution.objects.filter(pk=execution_id).update(
        sync_failures=failures,
        sync_error=audit_error(text, *callback_ids.values_list("callback_id", flat=True)),
        sync_error_at=now,
        next_poll_at=now + timedelta(seconds=backoff),
        poll_reason="error",
    )
    return backoff


def history_sync(execution_id: int) -> HistorySyncResult:
    """Sync one execution now (nothing if another worker holds it): what was fetched and added."""
    with execution_lock(execution_id=execution_id) as acquired:
        if not acquired:
            logger.info("execution %s is being synced by another worker", execution_id)
            return HistorySyncResult()
        execution = Execution.objects.get(pk=execution_id)
        if execution.imported:
            return HistorySyncResult()
        if execution.is_terminal and execution.history_complete:
            if execution.next_poll_at is not None:
                Execution.objects.filter(pk=execution.pk).update(next_poll_at=None, poll_reason="done")
            actions_pending_resolve(execution_id=execution.pk)
            return HistorySyncResult()
        result = _history_sync_locked(execution)
        actions_pending_resolve(execution_id=execution.pk)  # admin actions whose answer was lost
        return result


def _history_sync_locked(execution: Execution) -> HistorySyncResult:
    result = HistorySyncResult()
    now = timezone.now()
    marker = execution.history_marker or None
    max_age = timedelta(seconds=settings.SYNC_MARKER_MAX_AGE_SECONDS)
    if marker and (not execution.history_marker_at or now - execution.history_marker_at > max_age):
        marker = None  # expired on the server: re-read from the start, skipping known EventIds
    reached_end, restarted = False, False
    while True:
        try:
            for page in durable_api.execution_history_pages(
                execution_arn=execution.arn, marker=marker, page_size=settings.SYNC_HISTORY_PAGE_SIZE
            ):
                result.pages += 1
                result.fetched = True
                result.events_added += events_store(execution=execution, page=page)
                reached_end = page.next_marker is None
            break
        except durable_api.MarkerExpired:
            if marker is None:
                raise
            marker = None
        except HistoryRewritten:
            if restarted:
                raise
            restarted = True
            logger.warning("history of %s changed under us: re-reading it from the start", execution.arn)
            history_forget(execution=execution)
            marker = None
        except durable_api.ExecutionNotFound:
            logger.warning("execution %s no longer exists on the server", execution.arn)
            Execution.objects.filter(pk=execution.pk).update(
                next_poll_at=None, poll_reason="not_found", history_complete=True
            )
            return result
    execution.refresh_from_db()
    if _describe_due(execution):
        execution_description_store(execution=execution)
    execution_derive(execution=execution, changed=result.events_added > 0, reached_end=reached_end)
    if execution.sync_failures or execution.sync_error:
        Execution.objects.filter(pk=execution.pk).update(sync_failures=0, sync_error="", sync_error_at=None)
    return result


PAUSE_EVENTS = ("ExecutionPaused", "ExecutionResumed")
PAUSE_ACTIONS = (ActionKind.PAUSE, ActionKind.RESUME)
END_EVENTS = tuple(event for event, status in EXECUTION_EVENT_STATUS.items() if status in TERMINAL_STATUSES)


def _describe_due(execution: Execution) -> bool:
    """GetDurableExecution once per execution (DurableConfig, the expected timeout), and again while it is
    pausing or paused or when a pause or resume event has just arrived (status and PauseDetails)."""
    if execution.described_at is None or execution.status in PAUSED_STATUSES:
        return True
    if actions_pending(execution_id=execution.pk).filter(action__in=PAUSE_ACTIONS).exists():
        return True  # an unconfirmed pause or resume: only GetDurableExecution's status proves it
    if (
        pushed_status_doubtful(execution, now=timezone.now())
        and not HistoryEvent.objects.filter(execution=execution, event_type__in=END_EVENTS).exists()
    ):
        return True  # a pushed end the history still lacks after the grace period: the service's status decides
    return HistoryEvent.objects.filter(
        execution=execution, event_id__gt=execution.derived_event_id, event_type__in=PAUSE_EVENTS
    ).exists()


def execution_description_store(*, execution: Execution) -> None:
    """Store what GetDurableExecution adds to the history: DurableConfig, ExpectedExecutionTimeoutTimestamp,
    PauseDetails and a status the history has no event for (PAUSING, DELETING). Failures leave it for later."""
    try:
        described = durable_api.execution_describe(execution_arn=execution.arn)
    except durable_api.DurableApiError as error:
        if isinstance(error, durable_api.TRANSIENT_ERRORS):
            raise
        logger.warning("GetDurableExecution of %s failed: %s", execution.arn, error)
        return
    changes = {
        "durable_config": described.durable_config,
        "expected_timeout_at": timestamp_parse(described.expected_timeout),
        "pause_details": _jsonable(described.pause_details),
        "described_at": timezone.now(),
    }
    if described.status and not execution.is_terminal:
        changes["status"] = described.status[:32]
    elif (
        described.status
        and not ExecutionStatus.is_terminal(described.status)
        and pushed_status_doubtful(execution, now=timezone.now())
    ):
        # A push said it ended, the history has no end event a grace period later and the service says it runs:
        # the push was wrong (history and service are the source of truth).
        logger.warning("%s: pushed %s, the service says %s", execution.arn, execution.pushed_status, described.status)
        changes.update(
            status=described.status[:32], pushed_status="", pushed_status_at=None, ended_at=None, duration_ms=None
        )
    Execution.objects.filter(pk=execution.pk).update(**changes)
    for key, value in changes.items():
        setattr(execution, key, value)


def _jsonable(details: dict | None) -> dict | None:
    if not details:
        return None
    return {key: (value.isoformat() if hasattr(value, "isoformat") else value) for key, value in details.items()}


def events_store(*, execution: Execution, page) -> int:
    """Store a page's new events and advance the history position, atomically. Returns events added."""
    events = [event_normalize(event) for event in page.events]
    with transaction.atomic():
        current = (
            Execution.objects.select_for_update().only("id", "last_event_id", "last_event_at").get(pk=execution.pk)
        )
        known_max = current.last_event_id
        overlap = {int(e["EventId"]): e for e in events if int(e["EventId"]) <= known_max}
        if overlap:
            stored = HistoryEvent.objects.filter(execution_id=execution.pk, event_id__in=list(overlap)).values_list(
                "event_id", "event_type", "operation_id"
            )
            for event_id, event_type, operation_id in stored:
                event = overlap[event_id]
                if (event.get("EventType") or "") != event_type or (event.get("Id") or "")[:256] != operation_id:
                    raise HistoryRewritten(f"event {event_id} of {execution.arn} changed")
        fresh = [e for e in events if int(e["EventId"]) > known_max]
        rows = [HistoryEvent(execution_id=execution.pk, raw=e, **event_columns(e)) for e in fresh]
        HistoryEvent.objects.bulk_create(rows, ignore_conflicts=True)
        changes = {
            "history_marker": page.next_marker or page.marker or "",
            "history_marker_at": timezone.now(),
            "history_synced_at": timezone.now(),
        }
        if rows:
            changes["last_event_id"] = max(row.event_id for row in rows)
            stamps = [row.timestamp for row in rows if row.timestamp]
            if stamps:
                changes["last_event_at"] = max([*stamps, *([current.last_event_at] if current.last_event_at else [])])
        Execution.objects.filter(pk=execution.pk).update(**changes)
    for key, value in changes.items():
        setattr(execution, key, value)
    return len(rows)


def history_forget(*, execution: Execution) -> None:
    """Drop the stored history and everything derived from it (before a re-read from the start)."""
    with transaction.atomic():
        HistoryEvent.objects.filter(execution=execution).delete()
        Operation.objects.filter(execution=execution).delete()
        Invocation.objects.filter(execution=execution).delete()
        Execution.objects.filter(pk=execution.pk).update(
            last_event_id=0,
            derived_event_id=0,
            history_marker="",
            history_complete=False,
            history_resets=execution.history_resets + 1,
        )
    execution.refresh_from_db()
