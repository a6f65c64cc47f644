"""One execution's operations, read a bounded number of rows at a time: the timeline's first load, a group's
children on demand (failures first), the paged and filtered operations table, what it is waiting on, and one
operation with its events. The tree facts these read were precomputed at sync time (executions/sync/tree.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from executions.models import Execution, HistoryEvent, Operation
from executions.statuses import FAILED_OPERATION_STATUSES

# Never rendered: the callback id answers callbacks; payload fields are read only by the operation's own page.
_HEAVY = ("callback_id", "result_preview", "error_data", "extra")
OPEN_LISTED = 200  # open operations listed in "Waiting on"; more are counted
OPERATION_EVENTS_LISTED = 200


@dataclass
class OffsetPage:
    """A page of at most a few thousand rows (AWS caps an execution at 3,000 operations), by number."""

    rows: list
    number: int
    pages: int
    total: int
    limit: int

    @property
    def next_number(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None

    @property
    def previous_number(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.limit + 1 if self.rows else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.limit + len(self.rows)


def _offset_page(query: QuerySet, *, number: int, limit: int) -> OffsetPage:
    total = query.count()
    pages = max(1, -(-total // limit))
    number = min(max(1, number), pages)
    rows = list(query[(number - 1) * limit : number * limit])
    return OffsetPage(rows=rows, number=number, pages=pages, total=total, limit=limit)


def timeline_operations(*, execution: Execution) -> list[Operation]:
    """The rows the timeline draws at first load (summarised groups included, their children not)."""
    query = execution.operations.filter(timeline_visible=True).exclude(op_type="execution")
    return list(query.defer(*_HEAVY).order_by("first_event_id", "id"))


def execution_root(*, execution: Execution) -> Operation | None:
    """The execution's own operation: its summary covers the top level."""
    return (
        execution.operations.filter(op_type="execution")
        .only(
            "id", "execution_id", "operation_id", "op_type", "summary", "summarized", "child_count", "descendant_count"
        )
        .first()
    )


def group_get(*, execution: Execution, key: str) -> Operation | None:
    """The group `key` names (an operation id, or "" for the top level)."""
    if key == "":
        return execution_root(execution=execution)
    return execution.operations.filter(operation_id=key).defer(*_HEAVY).first()


def group_children_page(*, execution: Execution, group: Operation, status: str = "", number: int = 1) -> OffsetPage:
    """A page of the direct children of `group`: failed first, then retrying, running, and the rest in order."""
    if group.op_type == "execution":
        query = execution.operations.filter(depth=0).exclude(op_type="execution")
    else:
        query = execution.operations.filter(parent=group)
    if status == "attention":
        query = query.filter(attention_rank__lt=3)
    elif status:
        query = query.filter(status=status)
    query = query.defer(*_HEAVY).order_by("attention_rank", "first_event_id", "id")
    return _offset_page(query, number=number, limit=settings.TIMELINE_GROUP_LIMIT)


@dataclass
class OperationFilters:
    status: str = ""
    op_type: str = ""
    name: str = ""
    failures_only: bool = False


def operations_page(*, execution: Execution, filters: OperationFilters, number: int = 1) -> OffsetPage:
    query = execution.operations.exclude(op_type="execution")
    if filters.status:
        query = query.filter(status=filters.status)
    if filters.op_type:
        query = query.filter(op_type=filters.op_type)
    if filters.name:
        query = query.filter(name__icontains=filters.name)
    if filters.failures_only:
        query = query.filter(status__in=FAILED_OPERATION_STATUSES)
    query = query.defer("callback_id", "extra", "error_data").order_by("first_event_id", "id")
    return _offset_page(query, number=number, limit=settings.OPERATIONS_PAGE_SIZE)


def operation_choices(*, execution: Execution) -> tuple[list[str], list[str]]:
    """The statuses and types present (for the table's filters): two small DISTINCT queries."""
    query = execution.operations.exclude(op_type="execution").order_by()
    statuses = sorted(s for s in query.values_list("status", flat=True).distinct() if s)
    types = sorted(t for t in query.values_list("op_type", flat=True).distinct() if t)
    return statuses, types


def open_operations(*, execution: Execution) -> tuple[list[Operation], int]:
    """Open callbacks, waits, steps and chained invokes (the "Waiting on" panel), and how many there are."""
    query = execution.operations.filter(
        ended_at__isnull=True, op_type__in=("callback", "wait", "step", "chained_invoke")
    ).defer(*_HEAVY)
    rows = list(query.order_by("first_event_id", "id")[: OPEN_LISTED + 1])
    total = len(rows) if len(rows) <= OPEN_LISTED else query.count()
    return rows[:OPEN_LISTED], total


def operations_count(*, execution: Execution) -> int:
    return execution.operations.exclude(op_type="execution").count()


def operation_get(*, execution: Execution, operation_id: str) -> Operation | None:
    return execution.operations.filter(operation_id=operation_id).defer("callback_id").first()


def operation_events(*, execution: Execution, operation_id: str) -> tuple[list[HistoryEvent], int]:
    query = execution.events.filter(operation_id=operation_id).order_by("event_id")
    rows = list(query[: OPERATION_EVENTS_LISTED + 1])
    total = len(rows) if len(rows) <= OPERATION_EVENTS_LISTED else query.count()
    return rows[:OPERATION_EVENTS_LISTED], total
