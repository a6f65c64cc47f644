"""Reads for finding orders: the All orders page (every status, filters, cursor pages), short order ids, search.

DynamoDB holds the orders and the production IAM policy allows GetItem, Query and UpdateItem only (no Scan), so
every read here is a Query of the status/createdAt index, one status at a time, newest first, merged across the
statuses in createdAt order. Customer, requester and amount filters are applied here, case-insensitively, to the
items each Query returns (DynamoDB's own `contains` is case-sensitive and costs the same read units). Each request
reads at most `max_queries` Query pages: a page can therefore hold fewer matches than asked for, and its cursor
goes on from where the reads stopped (signed, `core.pagination`).

Statuses are an open set, but a Query needs the status: the statuses listed in ORDER_STATUSES are the ones read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from approvals import orders_table
from approvals.order_records import Order, OrderStatus
from core import pagination
from core.pagination import InvalidCursor
from executions import services as executions

_CURSOR_SALT = "approvals.orders.cursor"
# The statuses the workflow and the dashboard write ("invalid": validate_order, functions/order_approval/app.py).
ORDER_STATUSES: tuple[str, ...] = (*(str(status) for status in OrderStatus), "invalid")
READ_LIMIT = 100  # items per Query page
MAX_QUERIES = 12  # Query pages per request, over all statuses
SHORT_ID_MIN_CHARS = 4
_DONE = 0  # a status whose reads are over, in the cursor


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""  # "" = every status
    customer: str = ""
    requester: str = ""
    date_from: date | None = None
    date_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    order_id_prefix: str = ""
    text: str = ""  # search: order id prefix, customer or requester

    def matches(self, order: Order) -> bool:
        if self.customer and self.customer.casefold() not in order.customer_name.casefold():
            return False
        if self.requester and self.requester.casefold() not in order.requested_by.casefold():
            return False
        if self.amount_min is not None and (order.amount is None or order.amount < self.amount_min):
            return False
        if self.amount_max is not None and (order.amount is None or order.amount > self.amount_max):
            return False
        if self.text:
            needle = self.text.casefold()
            return (
                order.order_id.casefold().startswith(needle)
                or needle in order.customer_name.casefold()
                or needle in order.requested_by.casefold()
            )
        return True


@dataclass(frozen=True)
class OrdersFound:
    orders: list[Order]
    next_cursor: str | None
    queries: int  # DynamoDB Query calls this page cost
    complete: bool  # every status was read to its end (or to the date range's end)


def _cursor_encode(positions: dict) -> str:
    return pagination.cursor_encode(positions, salt=_CURSOR_SALT)


def _cursor_decode(token: str, statuses: tuple[str, ...]) -> dict:
    value = pagination.cursor_decode(token, salt=_CURSOR_SALT)
    if not isinstance(value, dict) or set(value) != set(statuses):
        raise InvalidCursor("cursor does not fit these filters")
    positions = {}
    for status, position in value.items():
        if position is None or position == _DONE:
            positions[status] = position
        elif isinstance(position, list) and len(position) == 2 and all(isinstance(part, str) for part in position):
            positions[status] = {"orderId": position[0], "status": status, "createdAt": position[1]}
        else:
            raise InvalidCursor("cursor has the wrong shape")
    return positions


def _key(order: Order) -> list[str]:
    return [order.order_id, order.created_at_raw]


def orders_find(*, filters: OrderFilters, limit: int, cursor: str = "", max_queries: int = MAX_QUERIES) -> OrdersFound:
    """A page of orders matching `filters`, newest first across statuses. Raises InvalidCursor, OrdersTableUnavailable.

    A k-way merge of one newest-first Query stream per status: an item is emitted only once no unread item of
    another status can be newer (its createdAt is at or after every unfinished stream's read frontier), so pages
    are in createdAt order and the cursor (each status's position) never skips or repeats an order.
    """
    statuses = (filters.status,) if filters.status else ORDER_STATUSES
    start = _cursor_decode(cursor, statuses) if cursor else dict.fromkeys(statuses)
    created_from = f"{filters.date_from.isoformat()}T00:00:00.000Z" if filters.date_from else ""
    created_to = f"{(filters.date_to + timedelta(days=1)).isoformat()}T00:00:00.000Z" if filters.date_to else ""
    reading = {status: start[status] for status in statuses if start[status] != _DONE}  # status -> ExclusiveStartKey
    frontier: dict[str, str | None] = dict.fromkeys(reading)  # oldest createdAt read so far (None: not read yet)
    buffers: dict[str, list[Order]] = {status: [] for status in statuses}
    emitted_last: dict[str, list[str]] = {}
    done = {status for status in statuses if start[status] == _DONE}
    emitted: list[Order] = []
    queries = 0

    def emit() -> None:
        unfinished = [frontier[status] for status in reading if status not in done]
        if any(mark is None for mark in unfinished):
            return
        cutoff = max(unfinished) if unfinished else ""
        pool = sorted(
            ((order.created_at_raw, status, order) for status in statuses for order in buffers[status]),
            key=lambda entry: entry[0],
            reverse=True,
        )
        for created, status, order in pool:
            if len(emitted) >= limit or created < cutoff:
                break
            buffers[status].remove(order)
            emitted.append(order)
            emitted_last[status] = _key(order)

    while len(emitted) < limit and queries < max_queries:
        open_statuses = [status for status in reading if status not in done]
        if not open_statuses:
            break
        # Read the stream that holds the merge back: one never read, else the one whose frontier is newest.
        unread = [status for status in open_statuses if frontier[status] is None]
        status = unread[0] if unread else max(open_statuses, key=lambda s: frontier[s] or "")
        try:
            page = orders_table.orders_index_page(
                status=status,
                limit=READ_LIMIT,
                start_key=reading[status],
                created_from=created_from,
                created_to=created_to,
                order_id_prefix=filters.order_id_prefix,
            )
        except ValueError as error:  # DynamoDB refused the start key: a cursor we did not issue for this
            raise InvalidCursor(str(error)) from error
        queries += 1
        buffers[status].extend(order for order in page.orders if filters.matches(order))
        if page.next_key:
            reading[status] = page.next_key
            frontier[status] = str(page.next_key.get("createdAt", ""))
        else:
            done.add(status)
            frontier[status] = ""
        emit()

    positions: dict = {}
    for status in statuses:
        if buffers[status]:  # read but not shown yet: go on after the last one shown (or from the same start)
            last = emitted_last.get(status)
            positions[status] = last if last else _position(start[status])
        elif status in done:
            positions[status] = _DONE
        else:
            positions[status] = _position(reading.get(status))
    complete = all(position == _DONE for position in positions.values())
    return OrdersFound(
        orders=emitted,
        next_cursor=None if complete else _cursor_encode(positions),
        queries=queries,
        complete=complete,
    )


def _position(key) -> list[str] | int | None:
    if key is None or key == _DONE:
        return key
    return [str(key["orderId"]), str(key["createdAt"])]


# --- short ids ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShortIdMatches:
    orders: list[Order]
    complete: bool  # every status was read to its end: no other order has this prefix


def orders_with_id_prefix(*, prefix: str, limit: int = 20) -> ShortIdMatches:
    """Orders whose id starts with `prefix` (the inbox shows the first 8 characters of the uuid).

    A bounded read of the status index filtered with begins_with (at most MAX_QUERIES Query pages); when that read
    could not cover every order, the synced executions' copy (an indexed column) adds the orders whose execution
    the console has synced (one GetItem each, at most `limit`).
    """
    prefix = prefix.strip().lower()
    result = orders_find(filters=OrderFilters(order_id_prefix=prefix), limit=limit)
    found = {order.order_id: order for order in result.orders}
    if not result.complete and len(found) < limit:
        for order_id in executions.order_ids_with_prefix(prefix=prefix, limit=limit - len(found)):
            if order_id not in found:
                try:
                    found[order_id] = orders_table.order_get(order_id=order_id)
                except orders_table.OrderNotFound:
                    continue
    return ShortIdMatches(orders=list(found.values())[:limit], complete=result.complete)
