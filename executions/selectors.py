"""Reads for the execution pages. Only the Django database: pages never call AWS."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.decoding import details_decode, payload_value
from executions.models import (
    Execution,
    HistoryEvent,
    Invocation,
    MonitoredFunction,
    Operation,
    OperatorAction,
)

KNOWN_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED")
FAILED_EVENT_SUFFIXES = ("Failed", "TimedOut", "Stopped", "Cancelled")
OVERDUE_CODES = {"callback_overdue", "callback_sla", "wait_overdue", "timed_out"}


def callback_sla_seconds() -> int:
    return int(getattr(settings, "ATTENTION_CALLBACK_SLA_SECONDS", 24 * 3600))


# --- freshness -------------------------------------------------------------------


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
    failing: list[FunctionFreshness] = field(default_factory=list)


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
        failing=[row for row in rows if row.last_error],
    )


# --- finished executions over time ----------------------------------------------------


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
        .exclude(status="RUNNING")
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


# --- the list ---------------------------------------------------------------------

SORTS = {
    # name: (field, descending)
    "-started": ("started_at", True),
    "started": ("started_at", False),
    "-duration": ("duration_ms", True),
    "duration": ("duration_ms", False),
}


@dataclass
class ExecutionFilters:
    statuses: list[str] = field(default_factory=list)
    function: str = ""
    started_after: datetime | None = None
    started_before: datetime | None = None
    name: str = ""
    attention: bool = False
    failures: bool = False
    sort: str = "-started"


def executions_filtered(filters: ExecutionFilters) -> QuerySet[Execution]:
    query = Execution.objects.all()
    if filters.statuses:
        query = query.filter(status__in=filters.statuses)
    if filters.function:
        query = query.filter(function_name=filters.function)
    if filters.started_after:
        query = query.filter(started_at__gte=filters.started_after)
    if filters.started_before:
        query = query.filter(started_at__lt=filters.started_before)
    if filters.name:
        query = query.filter(Q(name__icontains=filters.name) | Q(arn=filters.name))
    if filters.attention:
        query = query.filter(needs_attention=True)
    if filters.failures:
        query = query.filter(has_failures=True)
    return query


def cursor_encode(value, pk: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(text: str, *, is_datetime: bool):
    """(value, pk) from a cursor, or None when it is malformed."""
    try:
        padded = text + "=" * (-len(text) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        pk = int(pk)
    except (ValueError, TypeError, json.JSONDecodeError):
        return None
    if value is not None and is_datetime:
        value = parse_datetime(str(value))
        if value is None:
            return None
    elif value is not None and not is_datetime:
        try:
            value = int(value)
        except (TypeError, ValueError):
            return None
    return value, pk


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None


def _ordering(field_name: str, descending: bool, reverse: bool = False):
    """Order NULLs last in the natural order (first when reversed), on every database."""
    from django.db.models import F

    desc = descending != reverse
    nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
    expression = F(field_name).desc(**nulls) if desc else F(field_name).asc(**nulls)
    return [expression, "-id" if desc else "id"]


def _segments(query: QuerySet, field_name: str, descending: bool, cursor, backwards: bool) -> list[QuerySet]:
    """The querysets that, read in turn, continue the order from `cursor`.

    The order is: rows with a value, by (field, id) — a plain index range scan — then rows
    without one, by id. Splitting the two keeps each query a simple range the index serves.
    """
    desc = descending != backwards
    order = [f"-{field_name}", "-id"] if desc else [field_name, "id"]
    id_order = "-id" if descending != backwards else "id"
    valued = query.filter(**{f"{field_name}__isnull": False})
    nulls = query.filter(**{f"{field_name}__isnull": True})
    if cursor is None:
        return [valued.order_by(*order), nulls.order_by(id_order)]
    value, pk = cursor
    op, op_eq, id_op = ("lt", "lte", "lt") if desc else ("gt", "gte", "gt")
    if value is None:
        nulls_after = nulls.filter(**{f"id__{id_op}": pk}).order_by(id_order)
        return [nulls_after, valued.order_by(*order)] if backwards else [nulls_after]
    after_value = valued.filter(
        Q(**{f"{field_name}__{op_eq}": value}) & (Q(**{f"{field_name}__{op}": value}) | Q(**{f"id__{id_op}": pk}))
    ).order_by(*order)
    return [after_value] if backwards else [after_value, nulls.order_by(id_order)]


def _take(segments: list[QuerySet], count: int) -> list:
    rows: list = []
    for segment in segments:
        if len(rows) >= count:
            break
        rows += list(segment[: count - len(rows)])
    return rows


def keyset_page(query: QuerySet, *, sort_field: str, descending: bool, after: str = "", before: str = "", limit: int):
    """One page of `query` by keyset pagination on (sort_field, id); fast at any depth."""
    is_dt = sort_field.endswith("_at")
    cursor, backwards = None, False
    if after:
        cursor = cursor_decode(after, is_datetime=is_dt)
    elif before:
        cursor = cursor_decode(before, is_datetime=is_dt)
        backwards = cursor is not None
    rows = _take(_segments(query, sort_field, descending, cursor, backwards), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else True
    has_prev = cursor is not None if not backwards else more
    next_cursor = cursor_encode(getattr(rows[-1], sort_field), rows[-1].pk) if rows and has_next else None
    prev_cursor = cursor_encode(getattr(rows[0], sort_field), rows[0].pk) if rows and has_prev else None
    return Page(rows=rows, next_cursor=next_cursor, prev_cursor=prev_cursor)


def execution_list(*, filters: ExecutionFilters, after: str = "", before: str = "", limit: int | None = None) -> Page:
    sort_field, descending = SORTS.get(filters.sort, SORTS["-started"])
    return keyset_page(
        executions_filtered(filters).select_related("function"),
        sort_field=sort_field,
        descending=descending,
        after=after,
        before=before,
        limit=limit or settings.EXECUTIONS_PAGE_SIZE,
    )


def function_names() -> list[str]:
    names = set(MonitoredFunction.objects.values_list("name", flat=True))
    names |= set(Execution.objects.order_by().values_list("function_name", flat=True).distinct()[:200])
    return sorted(n for n in names if n)


def statuses_seen() -> list[str]:
    """Known statuses first, then any other value the API has produced (an open set)."""
    seen = set(Execution.objects.order_by().values_list("status", flat=True).distinct()[:50])
    return list(KNOWN_STATUSES) + sorted(seen - set(KNOWN_STATUSES))


# --- triage -----------------------------------------------------------------------


def attention_list(*, function: str = "", limit: int = 200) -> list[Execution]:
    query = Execution.objects.filter(needs_attention=True)
    if function:
        query = query.filter(function_name=function)
    return list(query.order_by(*_ordering("started_at", False))[:limit])


def failures_list(*, since: datetime | None = None, function: str = "", limit: int = 200) -> list[Execution]:
    query = Execution.objects.filter(Q(status="FAILED") | Q(has_failures=True))
    if since:
        query = query.filter(Q(started_at__gte=since) | Q(ended_at__gte=since))
    if function:
        query = query.filter(function_name=function)
    return list(query.order_by(*_ordering("started_at", False))[:limit])


def open_callbacks_query() -> QuerySet[Operation]:
    return Operation.objects.filter(op_type="callback", ended_at__isnull=True, execution__status="RUNNING")


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
    for code in ("callback_overdue", "callback_sla", "wait_overdue", "timed_out"):
        reasons |= Q(attention_reasons__icontains=f'"{code}"')
    timed_ops = Operation.objects.filter(status="TIMED_OUT").values("execution_id")
    query = Execution.objects.filter(Q(status="TIMED_OUT") | Q(id__in=timed_ops) | (Q(needs_attention=True) & reasons))
    if since:
        query = query.filter(Q(started_at__gte=since) | Q(ended_at__gte=since))
    if function:
        query = query.filter(function_name=function)
    return list(query.order_by(*_ordering("started_at", False))[:limit])


def callback_is_overdue(operation: Operation, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if operation.deadline and operation.deadline < now:
        return True
    return bool(operation.started_at and now - operation.started_at > timedelta(seconds=callback_sla_seconds()))


# --- detail -----------------------------------------------------------------------


def execution_get(*, execution_id: int) -> Execution | None:
    return Execution.objects.select_related("function").filter(pk=execution_id).first()


def execution_operations(*, execution: Execution) -> list[Operation]:
    # `defer` keeps the secret out of memory of the page and large previews out of the query.
    return list(execution.operations.defer("callback_id").order_by("first_event_id", "id"))


def execution_invocations(*, execution: Execution) -> list[Invocation]:
    return list(execution.invocations.order_by("event_id"))


@dataclass
class HistoryFilters:
    event_type: str = ""
    failures_only: bool = False
    name: str = ""


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
        event = (
            execution.events.filter(name="create_order", event_type="StepSucceeded").only("details").first()
        )
        if event and isinstance(event.details, dict):
            decoded = details_decode(event.details)
            result = (decoded.get("Result") or {}).get("Payload") if isinstance(decoded.get("Result"), dict) else None
            if isinstance(result, dict) and isinstance(result.get("orderId"), str):
                return result["orderId"]
    return ""


# --- audit log --------------------------------------------------------------------


@dataclass
class ActionFilters:
    action: str = ""
    outcome: str = ""
    username: str = ""
    execution: str = ""


def actions_list(*, filters: ActionFilters, after: str = "", before: str = "", limit: int | None = None) -> Page:
    query = OperatorAction.objects.select_related("execution")
    if filters.action:
        query = query.filter(action=filters.action)
    if filters.outcome:
        query = query.filter(outcome=filters.outcome)
    if filters.username:
        query = query.filter(username__icontains=filters.username)
    if filters.execution:
        term = filters.execution
        query = query.filter(
            Q(execution_arn__icontains=term)
            | Q(execution__name__icontains=term)
            | (Q(execution_id=int(term)) if term.isdigit() else Q())
        )
    return keyset_page(
        query,
        sort_field="created_at",
        descending=True,
        after=after,
        before=before,
        limit=limit or settings.ACTIONS_PAGE_SIZE,
    )
