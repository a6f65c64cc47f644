"""Find anything: the reads behind `/search?q=` (orders and executions, grouped, a page each).

Orders come from DynamoDB through the approvals selectors: a full order id is one GetItem; otherwise a bounded,
newest-first read of the status index (`approvals.selectors_orders.orders_find`, at most SEARCH_ORDER_QUERIES
Query pages) matched on order id prefix, customer and requester, case-insensitively. Orders older than that read
are still found through the executions' copy of their order id and customer (stored at sync time, indexed by
order id): one GetItem each, at most a page. Executions are one query of the Django copy (name, ARN fragment, order
id prefix, customer), a page plus one row to know whether there are more.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from approvals import orders_table
from approvals.order_records import Order
from approvals.selectors_orders import OrderFilters, orders_find
from executions.models import Execution
from executions.selectors.listing import execution_text_match

MAX_QUERY_CHARS = 200
GROUP_SIZE = 20
SEARCH_ORDER_QUERIES = 8
FULL_ORDER_ID_CHARS = 36  # the workflow's order ids are uuids


class SearchQueryInvalid(ValueError):
    """The query cannot be searched (too long); the message says why, for people."""


@dataclass
class SearchResults:
    query: str
    orders: list[Order] = field(default_factory=list)
    orders_more: bool = False  # more orders match (or may match) than shown
    orders_complete: bool = True  # every order was examined
    executions: list[Execution] = field(default_factory=list)
    executions_more: bool = False
    executions_searched: bool = False  # the viewer's role reads executions
    orders_unavailable: str = ""  # DynamoDB did not answer: why (the executions are still searched)

    @property
    def total(self) -> int:
        return len(self.orders) + len(self.executions)

    def single_target(self) -> tuple[str, object] | None:
        """("order", order_id) or ("execution", pk) when the results name one thing (an order and its own
        executions count as the order), else None."""
        if self.orders_more or self.executions_more or self.orders_unavailable:
            return None
        if len(self.orders) == 1:
            order = self.orders[0]
            if all(e.order_id == order.order_id or e.arn == order.execution_arn for e in self.executions):
                return ("order", order.order_id)
            return None
        if not self.orders and len(self.executions) == 1:
            return ("execution", self.executions[0].pk)
        return None


def search_query_clean(raw: str | None) -> str:
    """The query as searched: stripped, NUL and control characters dropped; SearchQueryInvalid when too long."""
    text = "".join(ch for ch in (raw or "") if ch.isprintable()).strip()
    if len(text) > MAX_QUERY_CHARS:
        raise SearchQueryInvalid(f"A search has at most {MAX_QUERY_CHARS} characters (this one has {len(text)}).")
    return text


def _orders_search(query: str, results: SearchResults) -> None:
    found: dict[str, Order] = {}
    if len(query) == FULL_ORDER_ID_CHARS:
        try:
            order = orders_table.order_get(order_id=query.lower())
            found[order.order_id] = order
        except orders_table.OrderNotFound:
            pass
    if not found:
        page = orders_find(filters=OrderFilters(text=query), limit=GROUP_SIZE + 1, max_queries=SEARCH_ORDER_QUERIES)
        for order in page.orders:
            found.setdefault(order.order_id, order)
        results.orders_complete = page.complete
        if not page.complete and len(found) <= GROUP_SIZE:
            # Older orders than the bounded read reached: the executions' copy knows their ids and customers.
            copies = (
                Execution.objects.filter(execution_text_match(query), order_id__gt="")
                .exclude(order_id__in=list(found))
                .order_by("-started_at", "-id")
                .values_list("order_id", flat=True)
            )
            for order_id in list(dict.fromkeys(copies[: GROUP_SIZE + 1]))[: GROUP_SIZE + 1 - len(found)]:
                try:
                    found[order_id] = orders_table.order_get(order_id=order_id)
                except orders_table.OrderNotFound:
                    continue
    orders = list(found.values())
    results.orders = orders[:GROUP_SIZE]
    results.orders_more = len(orders) > GROUP_SIZE or (not results.orders_complete and len(orders) >= GROUP_SIZE)


def search_run(*, query: str, executions_visible: bool) -> SearchResults:
    """Orders (always) and executions (when the viewer's role reads them) matching `query`.

    When DynamoDB does not answer, `orders_unavailable` says so and the executions are still searched.
    """
    results = SearchResults(query=query, executions_searched=executions_visible)
    if not query:
        return results
    if executions_visible:
        rows = list(
            Execution.objects.filter(execution_text_match(query))
            .only(
                "id", "arn", "name", "function_name", "status", "started_at", "order_id", "customer_name",
                "order_outcome", "deleted_at",
            )
            .order_by("-started_at", "-id")[: GROUP_SIZE + 1]
        )  # fmt: skip
        results.executions, results.executions_more = rows[:GROUP_SIZE], len(rows) > GROUP_SIZE
    try:
        _orders_search(query, results)
    except orders_table.OrdersTableUnavailable as error:
        results.orders, results.orders_more, results.orders_unavailable = [], False, str(error)
    return results
