"""The ingest services: a batch of the push plugin's reports, and one EventBridge status-change event.

Both are idempotent: duplicates and out-of-order deliveries are normal (replays re-report, retried invocations
repeat, branches run concurrently, EventBridge redelivers). Per (execution, operation) the highest version wins,
by a conditional UPDATE in the database (two requests at once cannot regress it); an EventBridge event is applied
once per event id (a unique row). A change the history does not show yet is shown at once (executions/push/) and
makes the execution due at once (`scheduler.push_received_plan`), so the next cycle's fetch confirms it.

Which executions a push may touch: a known execution, unless it is imported (an offline copy) or deleted; an
unknown ARN of a monitored function (a new execution: created RUNNING and due at once, so the first history fetch
fills it in); never one of a function the console does not monitor (`unknown_function`).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce

from core.counters import PUSH_EVENTS, PUSH_LAG, PUSH_LAG_BUCKETS, PUSH_REJECTED, counter_incr, histogram_observe
from executions.models import EventBridgeEvent, Execution, MonitoredFunction, Operation, PushedOperation
from executions.push.overlay import history_covers, rank_of
from executions.push.wire import (
    InvocationReport,
    OperationReport,
    Rejection,
    SnapshotReport,
    StatusChange,
    arn_execution_name,
    arn_function,
    batch_parse,
    status_change_parse,
)
from executions.scheduler import NEW, push_received_plan
from executions.statuses import ExecutionStatus, PushSettlement
from executions.sync.planning import execution_assess_apply

logger = logging.getLogger(__name__)

PLUGIN, EVENTBRIDGE = "plugin", "eventbridge"  # the `source` label of durable_console_push_events_total
UNKNOWN_FUNCTION, IMPORTED, DELETED = "unknown_function", "imported", "deleted"
DUPLICATE = "duplicate"
EVENTBRIDGE_KEEP = timedelta(days=2)  # EventBridge retries a delivery for up to 24 h
EVENTBRIDGE_PRUNE_EVERY_SECONDS = 3600
OUTCOMES = (ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED)  # an invocation end that is the execution's own
_SAVED = [
    "status", "ended_at", "duration_ms", "error_type", "error_message", "pushed_at", "pushed_status",
    "pushed_status_at", "eventbridge_at", "activity", "attention_reasons", "needs_attention", "has_failures",
    "attention_check_at", "next_poll_at", "poll_backoff_seconds", "poll_priority", "poll_reason", "updated_at",
]  # fmt: skip


@dataclass
class IngestResult:
    """What a batch did: `accepted` events were read for executions the console tracks, `applied` of them changed
    what is stored (the others were already known); `ignored` are of kinds this console does not read."""

    accepted: int = 0
    applied: int = 0
    created: int = 0  # executions this batch made known
    polls: int = 0  # executions put at the head of the poll queue
    ignored: list[Rejection] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "accepted": self.accepted,
            "applied": self.applied,
            "created": self.created,
            "polls": self.polls,
            "ignored": [item.as_json() for item in self.ignored],
            "rejected": [item.as_json() for item in self.rejected],
        }


@dataclass
class EventBridgeResult:
    """One EventBridge event: `outcome` is applied, duplicate (already applied, or nothing new), ignored (another
    kind of event) or rejected (`reason`)."""

    outcome: str
    reason: str = ""
    created: bool = False
    polled: bool = False

    def as_json(self) -> dict:
        return {"outcome": self.outcome, "reason": self.reason, "created": self.created, "polled": self.polled}


# -- which execution ------------------------------------------------------------------------------------------------
def monitored_function_for(*, arn: str, function_arn: str = "") -> MonitoredFunction | None:
    """The enabled monitored function an execution ARN (or a function ARN) names: the one with the ARN's qualifier,
    else the unqualified one, else any of that name."""
    named = arn_function(arn) or arn_function(function_arn)
    if named is None:
        return None
    name, qualifier = named
    candidates = list(MonitoredFunction.objects.filter(name=name, enabled=True))
    for wanted in (qualifier, ""):
        for function in candidates:
            if function.qualifier == wanted:
                return function
    return candidates[0] if candidates else None


def _execution_resolve(
    arn: str, *, now: datetime, function_arn: str = "", name: str = "", started_at: datetime | None = None
) -> tuple[Execution | None, str, bool]:
    """(the execution, "", created) or (None, why it is refused, False)."""
    execution = Execution.objects.filter(arn=arn).only("id", "imported", "deleted_at").first()
    if execution is None:
        function = monitored_function_for(arn=arn, function_arn=function_arn)
        if function is None:
            return None, UNKNOWN_FUNCTION, False
        named = arn_function(arn)
        execution, created = Execution.objects.get_or_create(
            arn=arn,
            defaults={
                "name": (name or arn_execution_name(arn))[:256],
                "function": function,
                "function_name": function.name,
                "function_arn": function_arn or (arn.split("/durable-execution/")[0] if named else ""),
                "status": ExecutionStatus.RUNNING,
                "started_at": started_at,
                "next_poll_at": now,
                "poll_priority": NEW,
                "poll_reason": "new",
            },
        )
        if created:
            logger.info("execution %s made known by a push", arn)
            return execution, "", True
    if execution.imported:
        return None, IMPORTED, False
    if execution.deleted_at:
        return None, DELETED, False
    return execution, "", False


def _locked(execution_id: int) -> Execution:
    """The execution row, locked until the transaction ends: its pushes and its history's derive step take turns."""
    return Execution.objects.select_for_update().get(pk=execution_id)


def _finished(execution: Execution) -> bool:
    """Ended with a complete history: a late report changes nothing (the history is final)."""
    return execution.is_terminal and execution.history_complete


def _ended(execution: Execution, *, status: str, at: datetime | None, now: datetime) -> None:
    execution.status = status[:32]
    execution.pushed_status, execution.pushed_status_at = status[:32], now
    execution.ended_at = at or now
    if execution.started_at and execution.ended_at:
        execution.duration_ms = max(0, int((execution.ended_at - execution.started_at).total_seconds() * 1000))


def _refresh_and_schedule(execution: Execution, *, now: datetime, applied: bool, news: bool) -> bool:
    """After the reports are stored: the activity again (with them laid over the history), and due at once when
    they showed something the history lacks. Returns whether it was put at the head of the poll queue."""
    if applied:
        execution_assess_apply(execution, now=now)
    polled = news and not _finished(execution)
    if polled:
        plan = push_received_plan(now=now, next_poll_at=execution.next_poll_at)
        execution.next_poll_at, execution.poll_backoff_seconds = plan.next_poll_at, plan.backoff_seconds
        execution.poll_priority, execution.poll_reason = plan.priority, plan.reason
    execution.save(update_fields=_SAVED)
    return polled


def _count(source: str, accepted: int, rejected: list[Rejection], lags: list[float]) -> None:
    if accepted:
        counter_incr(PUSH_EVENTS, accepted, source=source)
    for reason, amount in Counter(item.reason for item in rejected).items():
        counter_incr(PUSH_REJECTED, amount, reason=reason)
    histogram_observe(PUSH_LAG, lags, buckets=PUSH_LAG_BUCKETS)


# -- the push plugin ------------------------------------------------------------------------------------------------
def operations_push_ingest(*, batch: dict, now: datetime) -> IngestResult:
    """Merge a schema-1 batch of the push plugin (functions/console_push/README.md); WireError when the batch
    itself is unusable. Events the console refuses are listed in the result with their reason."""
    parsed = batch_parse(batch)
    result = IngestResult(rejected=list(parsed.rejected), ignored=list(parsed.unknown))
    by_arn: dict[str, list] = {}
    for index, report in parsed.reports:
        by_arn.setdefault(report.execution_arn, []).append((index, report))
    lags = []
    for arn, items in by_arn.items():
        started = next(
            (r.execution_started_at for _, r in items if isinstance(r, SnapshotReport) and r.execution_started_at),
            None,
        )
        execution, reason, created = _execution_resolve(arn, now=now, started_at=started)
        if execution is None:
            detail = (
                f"{arn[:200]}: "
                + {
                    UNKNOWN_FUNCTION: "not an execution of a function this console monitors",
                    IMPORTED: "an imported copy of a history: pushes never change it",
                    DELETED: "deleted from the console",
                }[reason]
            )
            result.rejected.extend(Rejection(index, reason, detail) for index, _ in items)
            continue
        result.created += int(created)
        with transaction.atomic():
            applied, polled = _execution_reports_apply(_locked(execution.pk), [r for _, r in items], now=now)
        result.accepted += len(items)
        result.applied += applied
        result.polls += int(polled)
        lags += [(now - report.observed_at).total_seconds() for _, report in items]
    result.rejected.sort(key=lambda item: item.index if item.index is not None else -1)
    _count(PLUGIN, result.accepted, result.rejected + result.ignored, lags)
    return result


def _execution_reports_apply(execution: Execution, reports: list, *, now: datetime) -> tuple[int, bool]:
    """One execution's reports of a batch, under its row lock: (how many changed what is stored, polled now)."""
    execution.pushed_at = now
    if _finished(execution):
        execution.save(update_fields=["pushed_at", "updated_at"])
        return 0, False
    newest: dict[str, OperationReport] = {}
    for report in reports:
        if isinstance(report, OperationReport):
            kept = newest.get(report.operation_id)
            if kept is None or report.version > kept.version:
                newest[report.operation_id] = report
    ids = set(newest) | {entry[0] for r in reports if isinstance(r, SnapshotReport) for entry in r.operations}
    history = {
        op.operation_id: op
        for op in Operation.objects.filter(execution=execution, operation_id__in=list(ids)).only(
            "operation_id", "op_type", "status", "attempts"
        )
    }
    known = {
        row["operation_id"]: row
        for row in PushedOperation.objects.filter(execution=execution, operation_id__in=list(newest)).values(
            "operation_id", "version_attempt", "version_rank", *_DESCRIPTIVE
        )
    }
    applied, news = 0, False
    for report in newest.values():
        shown = history_covers(
            history.get(report.operation_id), attempt=report.attempt, rank=rank_of(report.status), status=report.status
        )
        if _pushed_operation_store(execution, report, now=now, shown=shown, known=known):
            applied += 1
            news = news or not shown
    for report in reports:
        if isinstance(report, SnapshotReport) and _snapshot_reveals(execution, report, history):
            news = True
        if isinstance(report, InvocationReport) and _invocation_apply(execution, report, now=now):
            applied += 1
            news = True
    return applied, _refresh_and_schedule(execution, now=now, applied=bool(applied), news=news)


_DESCRIPTIVE = ("name", "parent_operation_id", "sub_type", "started_at")


def _pushed_operation_store(
    execution: Execution, report: OperationReport, *, now: datetime, shown: bool, known: dict | None = None
) -> bool:
    """Keep `report` if its version is higher than the stored one (or none is stored); True if it was kept.

    The version guard is in the database: a conditional UPDATE (`version < ours`), else an INSERT that the unique
    (execution, operation id) turns into a no-op when another request stored one first. `known`: the stored rows
    of this batch's operations, read under the execution's lock (a replay re-reports every operation: those it
    does not change cost no query)."""
    attempt, rank = report.version
    # A later hook may not repeat what an earlier one told: keep the stored name, parent, subtype and start.
    told = {
        key: value
        for key, value in zip(
            _DESCRIPTIVE, (report.name, report.parent_id, report.sub_type, report.started_at), strict=True
        )
        if value
    }
    rows = PushedOperation.objects.filter(execution=execution, operation_id=report.operation_id)
    stored = (known or {}).get(report.operation_id)
    if stored is not None and (stored["version_attempt"], stored["version_rank"]) >= report.version:
        _blanks_fill(rows, {key: value for key, value in told.items() if not stored[key]})
        return False
    fields = {
        "status": report.status,
        "op_type": report.op_type,
        "attempt": report.attempt,
        "ended_at": report.ended_at,
        "error_type": report.error_type,
        "error_message": report.error_message,
        "result_size": report.result_size,
        "request_id": report.request_id,
        "hook": report.hook,
        "version_attempt": attempt,
        "version_rank": rank,
        "observed_at": report.observed_at,
        "received_at": now,
        "settled_at": now if shown else None,
        "settled_by": PushSettlement.HISTORY if shown else "",
        **told,
    }
    higher = Q(version_attempt__lt=attempt) | Q(version_attempt=attempt, version_rank__lt=rank)
    if (known is None or stored is not None) and rows.filter(higher).update(**fields):
        return True
    if stored is None and (known is not None or not rows.exists()):
        try:
            with transaction.atomic():
                PushedOperation.objects.create(execution=execution, operation_id=report.operation_id, **fields)
            return True
        except IntegrityError:  # stored by a request that took no lock on the execution
            if rows.filter(higher).update(**fields):
                return True
    # Equal or lower: a replay, a repeat, or an older report arriving late. It changes no state, only fills in
    # what the stored one did not tell.
    _blanks_fill(rows, told)
    return False


def _blanks_fill(rows, told: dict) -> None:
    """Set the descriptive fields the stored row lacks (in the database: a value stored meanwhile is kept)."""
    if told:
        rows.update(
            **{
                key: Coalesce(F(key), Value(value))
                if key == "started_at"
                else Case(When(**{key: ""}, then=Value(value)), default=F(key))
                for key, value in told.items()
            }
        )


def _snapshot_reveals(execution: Execution, report: SnapshotReport, history: dict) -> bool:
    """Whether the operations an invocation starts with include a state neither a report nor the history showed
    (an invocation killed before it flushed, an operation completed while the function was suspended)."""
    if not report.operations:
        return False
    stored = {
        operation_id: (attempt, rank)
        for operation_id, attempt, rank in PushedOperation.objects.filter(
            execution=execution, operation_id__in=[entry[0] for entry in report.operations]
        ).values_list("operation_id", "version_attempt", "version_rank")
    }
    for operation_id, attempt, rank in report.operations:
        known = stored.get(operation_id)
        if known is not None and known >= (attempt, rank):
            continue
        if not history_covers(history.get(operation_id), attempt=attempt, rank=rank):
            return True
    return False


def _invocation_apply(execution: Execution, report: InvocationReport, *, now: datetime) -> bool:
    """An invocation that ended SUCCEEDED or FAILED ended the execution: shown ended at once (`pushed_status` until
    the history's end event arrives). Starts, suspensions (PENDING) and retries change nothing stored."""
    if report.phase != "end" or report.status not in OUTCOMES or execution.is_terminal:
        return False
    _ended(execution, status=report.status, at=report.observed_at, now=now)
    if report.status == ExecutionStatus.FAILED and (report.error_type or report.error_message):
        execution.error_type, execution.error_message = report.error_type, report.error_message
    return True


# -- EventBridge ----------------------------------------------------------------------------------------------------
def eventbridge_event_ingest(*, event: dict, now: datetime) -> EventBridgeResult:
    """Apply one EventBridge `Durable Execution Status Change` event, once per event id; WireError when malformed.

    An end (SUCCEEDED, FAILED, TIMED_OUT, STOPPED: what the plugin cannot see, such as stops and execution
    timeouts) is shown at once; RUNNING makes a new execution known; any other status makes it due at once (the
    history and GetDurableExecution tell the rest). Only the event's id, time and the detail's ARNs, name, status
    and timestamps are read: a payload or callback id in an event is never read nor stored.
    """
    change = status_change_parse(event)
    if change is None:
        rejection = Rejection(None, "unknown_kind", "not a durable-execution status change (source, detail-type)")
        _count(EVENTBRIDGE, 0, [rejection], [])
        return EventBridgeResult("ignored", reason=rejection.reason)
    terminal = ExecutionStatus.is_terminal(change.status)
    execution, reason, created = _execution_resolve(
        change.execution_arn,
        now=now,
        function_arn=change.function_arn,
        name=change.execution_name,
        started_at=change.started_at,
    )
    if execution is None:
        _count(EVENTBRIDGE, 0, [Rejection(None, reason, "")], [])
        return EventBridgeResult("rejected", reason=reason)
    with transaction.atomic():
        try:
            with transaction.atomic():
                EventBridgeEvent.objects.create(
                    event_id=change.event_id,
                    execution_arn=change.execution_arn,
                    status=change.status[:32],
                    event_time=change.event_time,
                    received_at=now,
                )
        except IntegrityError:
            _count(EVENTBRIDGE, 1, [], [])
            return EventBridgeResult(DUPLICATE, created=created)
        execution = _locked(execution.pk)
        applied, news = _status_change_apply(execution, change, now=now)
        polled = _refresh_and_schedule(execution, now=now, applied=applied, news=news or created)
        if execution.function_id:
            MonitoredFunction.objects.filter(pk=execution.function_id).update(eventbridge_at=now)
    moment = (change.ended_at if terminal else change.started_at) or change.event_time
    _count(EVENTBRIDGE, 1, [], [(now - moment).total_seconds()] if moment else [])
    _eventbridge_prune(now=now)
    return EventBridgeResult("applied" if applied or created else DUPLICATE, created=created, polled=polled)


def _status_change_apply(execution: Execution, change: StatusChange, *, now: datetime) -> tuple[bool, bool]:
    """(changed what is stored, something to fetch): an end is applied unless the execution has ended already."""
    execution.eventbridge_at = now
    if execution.started_at is None and change.started_at:
        execution.started_at = change.started_at
    if _finished(execution) or execution.is_terminal:
        return False, False
    if ExecutionStatus.is_terminal(change.status):
        _ended(execution, status=change.status, at=change.ended_at or change.event_time, now=now)
        return True, True
    return False, change.status != ExecutionStatus.RUNNING


def _eventbridge_prune(*, now: datetime) -> None:
    """Forget event ids older than EventBridge's retries can bring back, at most once an hour (any process)."""
    if cache.add("push:eventbridge-prune", 1, timeout=EVENTBRIDGE_PRUNE_EVERY_SECONDS):
        EventBridgeEvent.objects.filter(received_at__lt=now - EVENTBRIDGE_KEEP).delete()
