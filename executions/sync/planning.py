"""What an execution needs (attention) and when it is polled next, from what is stored: no API call."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.time import timestamp_parse
from executions.attention import Pause, Thresholds, execution_assess
from executions.models import Execution, HistoryEvent, Invocation, Operation
from executions.push.overlay import is_pushed, newest, operations_overlay
from executions.push.settle import unsettled_pushes
from executions.scheduler import NEW, PollConfig, poll_plan
from executions.statuses import OPEN_OPERATION_STATUSES, PAUSED_STATUSES, TERMINAL_STATUSES, OperationStatus


def assess_and_plan(execution: Execution, *, now: datetime, changed: bool) -> None:
    """Activity and attention, then the next poll. An execution that pushes is polled as a repair sweep only
    (`pushed`), once the history shows everything it reported (no unsettled report, no reported end)."""
    operations, pushes = execution_assess_apply(execution, now=now)
    if execution.imported:
        execution.next_poll_at, execution.poll_reason = None, "imported"
        return
    open_ops = [op for op in operations if op.op_type != "execution" and op.status in OPEN_OPERATION_STATUSES]
    timers = [op.wait_scheduled_end for op in open_ops if op.op_type == "wait" and op.wait_scheduled_end]
    timers += [
        moment
        for op in open_ops
        if op.op_type == "step" and op.status == OperationStatus.PENDING
        for moment in [timestamp_parse((op.attempt_history or [{}])[-1].get("next_attempt_at"))]
        if moment
    ]
    leaves = [op for op in open_ops if op.op_type in ("callback", "step", "chained_invoke", "wait")]
    idle_open = (
        any(
            op.op_type in ("callback", "chained_invoke")
            or (op.op_type == "step" and op.status != OperationStatus.PENDING)
            for op in leaves
        )
        or not leaves
    )
    newest = HistoryEvent.objects.filter(execution=execution).order_by("-event_id").values_list("event_type", flat=True)
    suspended = next(iter(newest[:1]), "") == "InvocationCompleted" and not any(
        op.op_type == "step" and op.status == OperationStatus.STARTED for op in open_ops
    )
    pushed = execution.pushed_at is not None and not pushes and not execution.pushed_status
    plan = poll_plan(
        now=now,
        terminal=execution.is_terminal,
        history_complete=execution.history_complete,
        changed=changed,
        timers=timers,
        idle_open=idle_open,
        previous_backoff=execution.poll_backoff_seconds,
        config=PollConfig.from_settings(pushing=pushing_executions() if pushed else 0),
        suspended=suspended,
        pushed=pushed,
    )
    execution.next_poll_at = plan.next_poll_at
    execution.poll_backoff_seconds = plan.backoff_seconds
    execution.poll_priority = plan.priority
    execution.poll_reason = plan.reason


PUSHING_COUNT_KEY, PUSHING_COUNT_SECONDS = "push:pushing-executions", 60


def pushing_executions() -> int:
    """Running executions that push (they share the repair sweep's budget: `scheduler.pushed_idle_seconds`),
    counted at most once a minute for every process (the shared cache)."""
    count = cache.get(PUSHING_COUNT_KEY)
    if count is None:
        count = (
            Execution.objects.filter(pushed_at__isnull=False, imported=False)
            .exclude(status__in=TERMINAL_STATUSES)
            .count()
        )
        cache.set(PUSHING_COUNT_KEY, count, PUSHING_COUNT_SECONDS)
    return count


def execution_assess_apply(execution: Execution, *, now: datetime) -> tuple[list, list]:
    """Set the execution's activity and attention from the history's operations, with the reported states the
    history does not show yet laid over them (executions/push/overlay.py): the pages show a push at once, and a
    sync of an older history does not take it back. Returns (those operations, the unsettled reports)."""
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
    pushes = unsettled_pushes(execution_id=execution.pk) if execution.pushed_at else []
    if pushes:
        operations = operations_overlay(operations, pushes)
    invocation_errors = list(
        Invocation.objects.filter(execution=execution).exclude(error_type="").values_list("error_type", "error_message")
    )
    assessment = execution_assess(
        status=execution.status,
        operations=operations,
        invocation_errors=invocation_errors,
        # A reported change is progress too: "no progress" counts from the newest of the history and the reports.
        last_event_at=newest(execution.last_event_at, *(push.observed_at for push in pushes)),
        now=now,
        thresholds=Thresholds.from_settings(),
        pause=execution_pause_info(execution),
    )
    activity = assessment.activity
    if activity and any(is_pushed(op) and op.operation_id == activity.get("operation_id") for op in operations):
        activity["pushed"] = True  # "doing now" comes from a report the history does not show yet
    execution.activity = activity
    execution.attention_reasons = assessment.reasons
    execution.needs_attention = bool(assessment.reasons)
    execution.has_failures = assessment.has_failures
    execution.attention_check_at = assessment.check_at
    return operations, pushes


def execution_pause_info(execution: Execution) -> Pause | None:
    """The current pause of a pausing or paused execution: GetDurableExecution's PauseDetails, else the newest
    ExecutionPaused event (its PauseRequestTimestamp and Reason.Payload), else the newest event's time."""
    if execution.status not in PAUSED_STATUSES:
        return None
    details = execution.pause_details or {}
    if details.get("PauseRequestTimestamp"):
        return Pause(since=timestamp_parse(details["PauseRequestTimestamp"]), reason=str(details.get("Reason") or ""))
    event = (
        HistoryEvent.objects.filter(execution=execution, event_type="ExecutionPaused")
        .order_by("-event_id")
        .only("timestamp", "details")
        .first()
    )
    if event is None:
        return Pause(since=execution.last_event_at)
    details = event.details or {}
    reason = details.get("Reason")
    reason = reason.get("Payload") if isinstance(reason, dict) else reason
    return Pause(since=timestamp_parse(details.get("PauseRequestTimestamp")) or event.timestamp, reason=reason or "")


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
            # Only the assessment changes here; the poll schedule stays as the last sync planned it.
            execution_assess_apply(execution, now=now)
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
