"""Keep the Django copy of every durable execution in step with the Lambda durable APIs.

One cycle (`functions_sync`): list each monitored function's executions newest first
down to its watermark (minus an overlap), upsert them, then fetch the histories of
the executions that are due by priority (scheduler.py), within the API budget.

One history sync (`execution_history_sync`) continues from the stored marker (or
from the start, skipping known EventIds, when the marker is gone), stores every
new event exactly once, and commits the history position in the same transaction
as its events, so a worker killed at any point leaves no gap and no duplicate.
Operations, invocations, activity and attention are then derived from the events
(their own position, `derived_event_id`, makes that step resumable too).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.decoding import error_decode, payload_decode
from core.time import timestamp_parse
from executions import durable_api
from executions.attention import Thresholds, execution_assess
from executions.events import event_columns, event_normalize
from executions.locks import execution_lock
from executions.models import (
    TERMINAL_STATUSES,
    Execution,
    HistoryEvent,
    Invocation,
    MonitoredFunction,
    Operation,
)
from executions.operations import OPEN_OPERATION_STATUSES, execution_status_from, operation_derive
from executions.scheduler import FINISHING, NEW, PollConfig, due_select, overdue_reserve, poll_plan

logger = logging.getLogger(__name__)

FULL_LIST_PAGE_SIZE = 1000
LEASE_SECONDS_MIN = 60


class HistoryRewritten(Exception):
    """Events already stored came back different: the stored copy is re-read from the start."""


@dataclass
class HistorySyncResult:
    events_added: int = 0
    pages: int = 0
    fetched: bool = False


# --- the cycle -------------------------------------------------------------------------------


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

    Histories are fetched inline, or handed to `dispatch(execution_id)` (the Celery beat task fans out).
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
        calls = durable_api.api_calls_made()
        try:
            listed += function_list_sync(function=function)
            listed_ok.append(function)
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
                result = _history_sync(execution_id)
            except durable_api.TRANSIENT_ERRORS as error:
                logger.warning("history sync of execution %s deferred: %s", execution_id, error)
                continue
            except Exception:
                # One broken execution must not stop the cycle: log it and retry it after the longest backoff.
                logger.exception("history sync of execution %s failed", execution_id)
                retry_at = timezone.now() + timedelta(seconds=settings.POLL_BACKOFF_CAP_SECONDS)
                Execution.objects.filter(pk=execution_id).update(next_poll_at=retry_at, poll_reason="error")
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


def execution_poll_soon(*, execution_arn: str, now: datetime | None = None) -> bool:
    """After the console answered a callback of this execution: fetch it in the first cycle after its
    resumed invocation (POLL_ACTIVE_SECONDS), ahead of older work, without calling the API now.

    Cheaper than a sync right away, which sees the invocation still running and costs a second call.
    False if the execution is not known yet (the lister brings it in as new) or is finished.
    """
    at = (now or timezone.now()) + timedelta(seconds=settings.POLL_ACTIVE_SECONDS)
    updated = (
        Execution.objects.filter(arn=execution_arn, imported=False)
        .exclude(status__in=TERMINAL_STATUSES)
        .update(next_poll_at=at, poll_priority=NEW, poll_backoff_seconds=0, poll_reason="answered")
    )
    return updated > 0


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


def function_list_sync(*, function: MonitoredFunction) -> int:
    """List the function's executions newest first, down to the watermark minus the overlap."""
    cutoff = (
        function.list_watermark - timedelta(seconds=settings.SYNC_LIST_OVERLAP_SECONDS)
        if function.list_watermark
        else None
    )
    page_size = settings.SYNC_LIST_PAGE_SIZE if cutoff else FULL_LIST_PAGE_SIZE
    newest, count = function.list_watermark, 0
    for page in durable_api.executions_list_pages(
        function_name=function.name, qualifier=function.qualifier, page_size=page_size
    ):
        executions_upsert(function=function, summaries=page)
        count += len(page)
        starts = [timestamp_parse(summary.start) for summary in page if summary.start]
        if starts:
            newest = max([newest, *starts]) if newest else max(starts)
        if cutoff and starts and min(starts) < cutoff:
            break
    if newest != function.list_watermark:
        MonitoredFunction.objects.filter(pk=function.pk).update(list_watermark=newest)
        function.list_watermark = newest
    return count


def executions_upsert(*, function: MonitoredFunction, summaries: list) -> None:
    """Create unseen executions (due at once) and take status changes from the list (never a downgrade)."""
    if not summaries:
        return
    now = timezone.now()
    known = {
        execution.arn: execution
        for execution in Execution.objects.filter(arn__in=[s.arn for s in summaries]).only(
            "id", "arn", "status", "history_complete", "ended_at", "imported"
        )
    }
    new = []
    for summary in summaries:
        execution = known.get(summary.arn)
        if execution is None:
            new.append(
                Execution(
                    arn=summary.arn,
                    name=(summary.name or "")[:256],
                    function=function,
                    function_name=function.name,
                    function_arn=summary.function_arn or "",
                    status=(summary.status or "RUNNING")[:32],
                    started_at=timestamp_parse(summary.start),
                    ended_at=timestamp_parse(summary.end),
                    next_poll_at=now,
                    poll_priority=NEW,
                    poll_reason="new",
                )
            )
            continue
        if execution.imported or execution.status in TERMINAL_STATUSES or not summary.status:
            continue
        if summary.status != execution.status:
            changes = {"status": summary.status[:32]}
            if summary.status in TERMINAL_STATUSES:
                changes.update(
                    ended_at=timestamp_parse(summary.end) or execution.ended_at,
                    next_poll_at=now,
                    poll_priority=FINISHING,
                    poll_reason="finishing",
                )
            Execution.objects.filter(pk=execution.pk).update(**changes)
    if new:
        Execution.objects.bulk_create(new, ignore_conflicts=True)


# --- one execution's history -----------------------------------------------------------------


def execution_history_sync(*, execution_id: int) -> int:
    """Sync one execution now; return the number of events added (0 if another worker holds it)."""
    return _history_sync(execution_id).events_added


def _history_sync(execution_id: int) -> HistorySyncResult:
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
            return HistorySyncResult()
        return _history_sync_locked(execution)


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
    execution_derive(execution=execution, changed=result.events_added > 0, reached_end=reached_end)
    return result


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


# --- derivation --------------------------------------------------------------------------------


def execution_derive(*, execution: Execution, changed: bool, reached_end: bool, now: datetime | None = None) -> None:
    """Recompute operations/invocations touched by new events, then the execution's summary and schedule."""
    now = now or timezone.now()
    with transaction.atomic():
        new_events = list(
            HistoryEvent.objects.filter(execution=execution, event_id__gt=execution.derived_event_id).only(
                "event_id", "event_type", "operation_id", "timestamp", "details"
            )
        )
        _invocations_store(execution, [e for e in new_events if e.event_type == "InvocationCompleted"])
        touched = {e.operation_id for e in new_events if e.operation_id and e.event_type != "InvocationCompleted"}
        if touched:
            _operations_store(execution, touched)
        execution_events = list(HistoryEvent.objects.filter(execution=execution, event_type__startswith="Execution"))
        _execution_fields_apply(execution, execution_events)
        execution.derived_event_id = execution.last_event_id
        terminal_in_history = (execution_status_from(execution_events) or "") in TERMINAL_STATUSES
        if execution.imported or (execution.is_terminal and reached_end and terminal_in_history):
            execution.history_complete = True
        if changed:
            execution.last_change_seen_at = now
        _assess_and_plan(execution, now=now, changed=changed)
        execution.save()


def _invocations_store(execution: Execution, events: list) -> None:
    for event in events:
        details = event.details or {}
        error = error_decode(details)
        Invocation.objects.update_or_create(
            execution=execution,
            event_id=event.event_id,
            defaults={
                "started_at": timestamp_parse(details.get("StartTimestamp")),
                "ended_at": timestamp_parse(details.get("EndTimestamp")) or event.timestamp,
                "request_id": str(details.get("RequestId") or "")[:128],
                "error_type": error.type if error else "",
                "error_message": error.message if error else "",
            },
        )


def _operations_store(execution: Execution, touched: set[str]) -> None:
    by_operation: dict[str, list] = {}
    events = HistoryEvent.objects.filter(execution=execution, operation_id__in=list(touched)).only(
        "event_id", "event_type", "sub_type", "operation_id", "parent_id", "name", "timestamp", "details"
    )
    for event in events:
        if event.event_type != "InvocationCompleted":
            by_operation.setdefault(event.operation_id, []).append(event)
    existing = {op.operation_id: op for op in Operation.objects.filter(execution=execution, operation_id__in=touched)}
    create, update = [], []
    for operation_id, op_events in by_operation.items():
        fields = operation_derive(op_events)
        op = existing.get(operation_id)
        if op is None:
            create.append(Operation(execution=execution, operation_id=operation_id, **fields))
        else:
            for key, value in fields.items():
                setattr(op, key, value)
            update.append(op)
    if create:
        Operation.objects.bulk_create(create, ignore_conflicts=True)
    if update:
        Operation.objects.bulk_update(update, _OPERATION_FIELDS)
    _operation_tree_link(execution)


_OPERATION_FIELDS = [
    "op_type", "sub_type", "name", "parent_operation_id", "started_at", "ended_at", "status", "attempts",
    "attempt_history", "callback_id", "callback_timeout_seconds", "heartbeat_timeout_seconds", "deadline",
    "wait_seconds", "wait_scheduled_end", "error_type", "error_message", "error_data", "result_preview",
    "result_truncated", "result_size", "extra", "first_event_id", "last_event_id",
]  # fmt: skip


def _operation_tree_link(execution: Execution) -> None:
    """Set parent links and depths (parents can be derived after their children in one page)."""
    rows = list(
        Operation.objects.filter(execution=execution).only(
            "id", "operation_id", "parent_operation_id", "parent_id", "depth"
        )
    )
    by_operation_id = {row.operation_id: row for row in rows}

    def depth_of(row, seen=()) -> int:
        parent = by_operation_id.get(row.parent_operation_id)
        if parent is None or parent.operation_id in seen:
            return 0
        return 1 + depth_of(parent, (*seen, row.operation_id))

    changed = []
    for row in rows:
        parent = by_operation_id.get(row.parent_operation_id)
        parent_pk = parent.pk if parent else None
        depth = depth_of(row)
        if row.parent_id != parent_pk or row.depth != depth:
            row.parent_id, row.depth = parent_pk, depth
            changed.append(row)
    if changed:
        Operation.objects.bulk_update(changed, ["parent", "depth"])


def _execution_fields_apply(execution: Execution, events: list) -> None:
    for event in sorted(events, key=lambda e: e.event_id):
        details = event.details or {}
        if event.event_type == "ExecutionStarted":
            started = payload_decode(details.get("Input"))
            execution.input_raw = started.raw
            execution.input = started.value if started.is_json else None
            execution.execution_timeout_seconds = details.get("ExecutionTimeout")
            execution.started_at = execution.started_at or event.timestamp
            if not execution.name and event.name:
                execution.name = event.name[:256]
        if "Result" in details and event.event_type.startswith("Execution"):
            result = payload_decode(details["Result"])
            execution.result_raw = result.raw
            execution.result = result.value if result.is_json else None
        error = error_decode(details)
        if error:
            execution.error_type, execution.error_message = error.type, error.message
            execution.error_data, execution.error_stack = error.data, error.stack
    status = execution_status_from(events)
    if status and (status in TERMINAL_STATUSES or not execution.is_terminal):
        execution.status = status[:32]
        if status in TERMINAL_STATUSES:
            terminal = [e for e in events if e.event_type.startswith("Execution") and e.timestamp]
            execution.ended_at = terminal[-1].timestamp if terminal else execution.ended_at
    if execution.is_terminal and execution.started_at and execution.ended_at:
        execution.duration_ms = int((execution.ended_at - execution.started_at).total_seconds() * 1000)


def _assess_and_plan(execution: Execution, *, now: datetime, changed: bool) -> None:
    operations = list(
        Operation.objects.filter(execution=execution).only(
            "operation_id",
            "op_type",
            "sub_type",
            "name",
            "status",
            "started_at",
            "deadline",
            "wait_scheduled_end",
            "attempts",
            "attempt_history",
            "heartbeat_timeout_seconds",
            "extra",
            "error_type",
            "first_event_id",
        )
    )
    invocation_errors = list(
        Invocation.objects.filter(execution=execution).exclude(error_type="").values_list("error_type", "error_message")
    )
    assessment = execution_assess(
        status=execution.status,
        operations=operations,
        invocation_errors=invocation_errors,
        last_event_at=execution.last_event_at,
        now=now,
        thresholds=Thresholds.from_settings(),
    )
    execution.activity = assessment.activity
    execution.attention_reasons = assessment.reasons
    execution.needs_attention = bool(assessment.reasons)
    execution.has_failures = assessment.has_failures
    execution.attention_check_at = assessment.check_at
    if execution.imported:
        execution.next_poll_at, execution.poll_reason = None, "imported"
        return
    open_ops = [op for op in operations if op.op_type != "execution" and op.status in OPEN_OPERATION_STATUSES]
    timers = [op.wait_scheduled_end for op in open_ops if op.op_type == "wait" and op.wait_scheduled_end]
    timers += [
        moment
        for op in open_ops
        if op.op_type == "step" and op.status == "PENDING"
        for moment in [timestamp_parse((op.attempt_history or [{}])[-1].get("next_attempt_at"))]
        if moment
    ]
    leaves = [op for op in open_ops if op.op_type in ("callback", "step", "chained_invoke", "wait")]
    idle_open = (
        any(
            op.op_type in ("callback", "chained_invoke") or (op.op_type == "step" and op.status != "PENDING")
            for op in leaves
        )
        or not leaves
    )
    newest = HistoryEvent.objects.filter(execution=execution).order_by("-event_id").values_list("event_type", flat=True)
    suspended = next(iter(newest[:1]), "") == "InvocationCompleted" and not any(
        op.op_type == "step" and op.status == "STARTED" for op in open_ops
    )
    plan = poll_plan(
        now=now,
        terminal=execution.is_terminal,
        history_complete=execution.history_complete,
        changed=changed,
        timers=timers,
        idle_open=idle_open,
        previous_backoff=execution.poll_backoff_seconds,
        config=PollConfig.from_settings(),
        suspended=suspended,
    )
    execution.next_poll_at = plan.next_poll_at
    execution.poll_backoff_seconds = plan.backoff_seconds
    execution.poll_priority = plan.priority
    execution.poll_reason = plan.reason


def attention_refresh(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Re-assess running executions whose thresholds have been crossed since their last sync (no API call)."""
    now = now or timezone.now()
    ids = list(
        Execution.objects.filter(attention_check_at__lte=now)
        .exclude(status__in=TERMINAL_STATUSES)
        .values_list("pk", flat=True)[:limit]
    )
    for execution_id in ids:
        execution = Execution.objects.get(pk=execution_id)
        with transaction.atomic():
            next_poll = (
                execution.next_poll_at,
                execution.poll_backoff_seconds,
                execution.poll_priority,
                execution.poll_reason,
            )
            _assess_and_plan(execution, now=now, changed=False)
            # Only the assessment changes here; the poll schedule stays as the last sync planned it.
            (execution.next_poll_at, execution.poll_backoff_seconds, execution.poll_priority, execution.poll_reason) = (
                next_poll
            )
            execution.save(
                update_fields=[
                    "activity",
                    "attention_reasons",
                    "needs_attention",
                    "has_failures",
                    "attention_check_at",
                    "updated_at",
                ]
            )
    return len(ids)


# --- offline import -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ImportedPage:
    events: list
    marker: str | None = None
    next_marker: str | None = None


def history_import(*, events: list[dict], function_name: str, name: str | None = None) -> Execution:
    """Store a saved history (from any account) as an imported execution, through the poller's own code.

    Importing the same history again updates the same execution (its key is derived from the events).
    """
    if not events:
        raise ValueError("the history has no events")
    normalized = sorted((event_normalize(e) for e in events), key=lambda e: int(e["EventId"]))
    started = next((e for e in normalized if e.get("EventType") == "ExecutionStarted"), None)
    identity = (started or {}).get("Id") or hashlib.sha256(
        json.dumps(normalized[:5], sort_keys=True).encode()
    ).hexdigest()[:32]
    function, _ = MonitoredFunction.objects.get_or_create(name=function_name, qualifier="", defaults={"enabled": False})
    arn = f"imported:{function_name}:{identity}"
    execution, _ = Execution.objects.get_or_create(
        arn=arn,
        defaults={
            "name": (name or (started or {}).get("Name") or identity)[:256],
            "function": function,
            "function_name": function_name,
            "status": "RUNNING",
            "imported": True,
            "started_at": timestamp_parse((started or {}).get("EventTimestamp")),
        },
    )
    if name and execution.name != name:
        Execution.objects.filter(pk=execution.pk).update(name=name[:256])
        execution.name = name[:256]
    try:
        events_store(execution=execution, page=_ImportedPage(events=normalized))
    except HistoryRewritten:
        history_forget(execution=execution)
        events_store(execution=execution, page=_ImportedPage(events=normalized))
    execution.refresh_from_db()
    execution_derive(execution=execution, changed=True, reached_end=True)
    execution.refresh_from_db()
    return execution
