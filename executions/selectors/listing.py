"""The execution list: filters, sorts and keyset pages (signed cursors, `core.pagination`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Q, QuerySet

from core.pagination import Page, keyset_page
from executions.models import Execution, MonitoredFunction
from executions.statuses import LISTED_STATUSES

CURSOR_SALT = "executions.list"


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


def execution_text_match(text: str) -> Q:
    """What the list's search box (and /search) match: name, ARN fragment, order id prefix, customer."""
    return (
        Q(name__icontains=text)
        | Q(arn__icontains=text)
        | Q(order_id__istartswith=text)
        | Q(customer_name__icontains=text)
    )


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
        query = query.filter(execution_text_match(filters.name))
    if filters.attention:
        query = query.filter(needs_attention=True)
    if filters.failures:
        query = query.filter(has_failures=True)
    return query


def execution_list(*, filters: ExecutionFilters, after: str = "", before: str = "", limit: int | None = None) -> Page:
    sort_field, descending = SORTS.get(filters.sort, SORTS["-started"])
    return keyset_page(
        executions_filtered(filters).select_related("function"),
        sort_field=sort_field,
        descending=descending,
        salt=f"{CURSOR_SALT}:{sort_field}",
        after=after,
        before=before,
        limit=limit or settings.EXECUTIONS_PAGE_SIZE,
        strict=True,
    )


def function_names() -> list[str]:
    names = set(MonitoredFunction.objects.values_list("name", flat=True))
    names |= set(Execution.objects.order_by().values_list("function_name", flat=True).distinct()[:200])
    return sorted(n for n in names if n)


def statuses_seen() -> list[str]:
    """Known statuses first, then any other value the API has produced (an open set)."""
    seen = set(Execution.objects.order_by().values_list("status", flat=True).distinct()[:50])
    return list(LISTED_STATUSES) + sorted(seen - set(LISTED_STATUSES))
