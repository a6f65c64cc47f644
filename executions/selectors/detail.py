"""One execution: its invocations, history pages (keyset by EventId) and order id."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet

from core.decoding import details_decode, payload_value
from executions.models import Execution, HistoryEvent, Invocation, Operation

FAILED_EVENT_SUFFIXES = ("Failed", "TimedOut", "Stopped", "Cancelled")


def execution_get(*, execution_id: int) -> Execution | None:
    return Execution.objects.select_related("function").filter(pk=execution_id).first()


def execution_invocations(*, execution: Execution) -> list[Invocation]:
    return list(execution.invocations.order_by("event_id"))


def execution_pause_spans(*, execution: Execution) -> list[tuple[object, object]]:
    """(paused at, resumed at or None) for each ExecutionPaused event, in order (shaded on the timeline)."""
    spans: list[list] = []
    events = execution.events.filter(event_type__in=("ExecutionPaused", "ExecutionResumed")).order_by("event_id")
    for event_type, timestamp in events.values_list("event_type", "timestamp"):
        if event_type == "ExecutionPaused" and timestamp and not (spans and spans[-1][1] is None):
            spans.append([timestamp, None])
        elif event_type == "ExecutionResumed" and spans and spans[-1][1] is None:
            spans[-1][1] = timestamp
    return [(start, end) for start, end in spans]


@dataclass
class HistoryFilters:
    event_type: str = ""
    failures_only: bool = False
    name: str = ""
    operation_id: str = ""  # one operation's events (?op=<id>)


def history_events(*, execution: Execution, filters: HistoryFilters) -> QuerySet[HistoryEvent]:
    query = execution.events.all()
    if filters.event_type:
        query = query.filter(event_type=filters.event_type)
    if filters.failures_only:
        failed = Q()
        for suffix in FAILED_EVENT_SUFFIXES:
            failed |= Q(event_type__endswith=suffix)
        query = query.filter(failed | Q(event_type="InvocationCompleted", details__has_key="Error"))
    if filters.name:
        query = query.filter(name__icontains=filters.name)
    if filters.operation_id:
        query = query.filter(operation_id=filters.operation_id)
    return query


@dataclass
class HistoryPage:
    events: list[HistoryEvent]
    next_after: int | None
    prev_before: int | None
    total: int


def history_page(
    *, execution: Execution, filters: HistoryFilters, after: int = 0, before: int = 0, limit: int | None = None
) -> HistoryPage:
    """A page of events by EventId (keyset), so a 5,000-event history costs the same as a small one."""
    limit = limit or settings.HISTORY_PAGE_SIZE
    query = history_events(execution=execution, filters=filters)
    total = query.count()
    if before:
        rows = list(query.filter(event_id__lt=before).order_by("-event_id")[: limit + 1])
        more_before = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        return HistoryPage(
            events=rows,
            next_after=rows[-1].event_id if rows else None,
            prev_before=rows[0].event_id if rows and more_before else None,
            total=total,
        )
    rows = list(query.filter(event_id__gt=after).order_by("event_id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return HistoryPage(
        events=rows,
        next_after=rows[-1].event_id if rows and more else None,
        prev_before=rows[0].event_id if rows and after else None,
        total=total,
    )


def history_event_types(*, execution: Execution) -> list[str]:
    return sorted(execution.events.order_by().values_list("event_type", flat=True).distinct())


def history_raw_iter(*, execution: Execution, chunk_size: int = 500):
    """Every stored event, as the API returned it, in EventId order (streamed)."""
    return execution.events.order_by("event_id").values_list("raw", flat=True).iterator(chunk_size=chunk_size)


def execution_order_id(*, execution: Execution, operations: list[Operation] | None = None) -> str:
    """The order id of an order-approval execution (from its result, or its create_order step)."""
    for source in (execution.result, execution.input):
        if isinstance(source, dict) and isinstance(source.get("orderId"), str):
            return source["orderId"]
    ops = operations if operations is not None else []
    for op in ops:
        if op.name == "create_order" and op.result_preview:
            value = payload_value(op.result_preview)
            if isinstance(value, dict) and isinstance(value.get("orderId"), str):
                return value["orderId"]
    if operations is None:
        event = execution.events.filter(name="create_order", event_type="StepSucceeded").only("details").first()
        if event and isinstance(event.details, dict):
            decoded = details_decode(event.details)
            result = (decoded.get("Result") or {}).get("Payload") if isinstance(decoded.get("Result"), dict) else None
            if isinstance(result, dict) and isinstance(result.get("orderId"), str):
                return result["orderId"]
    return ""
