"""Reads for the approvals pages: the inbox page, one order, the pending count, the decisions audit.

About 320 lines: the inbox row (the largest part) is built here once for the inbox, the order page and the
badge; the decision-log reads are short and belong to the same pages.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from approvals import orders_table
from approvals.countdown import Countdown, DeadlineState, order_countdown
from approvals.four_eyes import requested_by_any
from approvals.models import Decision, Outcome
from approvals.order_records import Order, OrderStatus
from approvals.orders_table import OrdersTableUnavailable
from core import pagination
from core.formatting import duration_text, money_text, short_id
from core.pagination import InvalidCursor
from core.roles import OPERATORS, user_is_admin, user_roles
from executions import services as executions

logger = logging.getLogger(__name__)

PENDING_COUNT_CACHE_KEY = "approvals:pending-count"
_CURSOR_SALT = "approvals.inbox.cursor"


# --- cursor: the LastEvaluatedKey, signed (core.pagination) so it cannot be forged ---------------


def cursor_encode(key: dict) -> str:
    return pagination.cursor_encode({"o": key["orderId"], "c": key["createdAt"]}, salt=_CURSOR_SALT)


def cursor_decode(token: str) -> dict:
    """The start key of a cursor this inbox issued; InvalidCursor for anything else."""
    value = pagination.cursor_decode(token, salt=_CURSOR_SALT)
    if not (isinstance(value, dict) and isinstance(value.get("o"), str) and isinstance(value.get("c"), str)):
        raise InvalidCursor("cursor has the wrong shape")
    return {"orderId": value["o"], "status": OrderStatus.PENDING, "createdAt": value["c"]}


# --- the inbox --------------------------------------------------------------------------------

_KEY = "__key__"
_NEEDS_ESCAPING = re.compile(r"[&<>\"']")


def _text(value: str) -> str:
    """`value`, marked as needing no HTML escaping when it holds no character that escaping would change.

    Only a check, never a promise: text with any of & < > " ' stays a plain string and the template escapes it.
    It spares the inbox template the escaping of ids, paths, numbers and dates (a tenth of its render time).
    """
    return value if _NEEDS_ESCAPING.search(value) else SafeString(value)


@lru_cache(maxsize=1)
def _path_patterns() -> tuple[str, str, str, str]:
    """The order, approve, reject and lines paths with a placeholder for the order: reversed once, not per row."""
    return tuple(reverse(f"approvals:{name}", args=[_KEY]) for name in ("order", "approve", "reject", "lines"))


@dataclass(slots=True)
class InboxRow:
    """One inbox row with every value its template shows computed here, as text (`inbox_row`).

    The inbox renders up to APPROVALS_PAGE_SIZE rows on every refresh and template variable lookups are most of
    the page's cost (benchmarks/inbox.py), so the row partial (templates/approvals/inbox.html#inbox-row) reads
    plain attributes, one lookup each, with no filter and no number formatting. (Slots and no `frozen`: building
    fifty of these is part of every page view.)
    """

    order: Order
    countdown: Countdown
    state: DeadlineState
    own: bool  # requested by the viewer: four-eyes forbids deciding it
    note: str  # why the viewer cannot decide this row ("" when they can)
    key: str  # the order id as a URL path segment and an element id
    path: str
    approve_path: str
    reject_path: str
    lines_path: str  # the order's lines, loaded when the row expands
    short_id: str
    customer: str
    amount_text: str
    currency: str
    items_text: str
    requester: str
    created_raw: str
    age_seconds: int | None
    age_text: str
    deadline_text: str
    deadline_iso: str
    live: bool  # the page's script re-labels this countdown every second
    window_text: str  # the approval window in seconds for the script ("" when unknown)
    percent_text: str  # the width of the bar, 0..100 ("" without a known window: no bar)

    def __getitem__(self, name: str):
        # A template resolves `row.key` by trying row["key"] first, then the attribute: answering the first try
        # saves an exception per lookup, about a tenth of the inbox's render time.
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total_on_page: int
    next_cursor: str | None
    consumed_capacity: float
    filtered: bool = False  # filters were applied over the index (total_on_page counts the orders examined)

    @property
    def urgency(self) -> dict[str, int]:
        counts = {DeadlineState.RED: 0, DeadlineState.AMBER: 0, DeadlineState.EXPIRED: 0}
        for row in self.rows:
            if row.state in counts:
                counts[row.state] += 1
        return {str(state): count for state, count in counts.items()}


def _deadline_key(row: InboxRow):
    deadline = row.order.approval_deadline
    return (deadline is None, deadline.timestamp() if deadline else 0.0)


def _amount_key(row: InboxRow):
    return (row.order.amount is None, row.order.amount if row.order.amount is not None else 0)


def _note(order: Order, countdown: Countdown, *, own: bool, can_decide: bool) -> str:
    if not can_decide:
        return "View only"
    if own:
        return "Your request · needs another approver"
    if order.status != OrderStatus.PENDING:
        return order.status
    if not order.has_callback:
        return "Preparing…"
    if countdown.state == DeadlineState.EXPIRED:
        return "Window over"
    return ""


def inbox_row(
    order: Order, *, identities: frozenset[str] = frozenset(), can_decide: bool = True, now: datetime | None = None
) -> InboxRow:
    """The row of `order` for a viewer with these (case-folded) identities; also the order page's summary."""
    now = now or timezone.now()
    countdown = order_countdown(order, now=now)
    if order.status not in (OrderStatus.PENDING, OrderStatus.DECIDING):  # decided or over: nothing counts down
        countdown = Countdown(DeadlineState.UNKNOWN, "—", None, countdown.window_seconds)
    own = requested_by_any(order.requested_by, identities)
    key = quote(order.order_id, safe="")
    order_path, approve_path, reject_path, lines_path = (pattern.replace(_KEY, key) for pattern in _path_patterns())
    deadline = order.approval_deadline
    age = int((now - order.created_at).total_seconds()) if order.created_at else None
    fraction = countdown.fraction_left
    return InboxRow(
        order=order,
        countdown=countdown,
        state=countdown.state,
        own=own,
        note=_text(_note(order, countdown, own=own, can_decide=can_decide)),
        key=_text(key),
        path=_text(order_path),
        approve_path=_text(approve_path),
        reject_path=_text(reject_path),
        lines_path=_text(lines_path),
        short_id=_text(short_id(order.order_id)),
        customer=_text(order.customer_name or "—"),
        amount_text=_text(money_text(order.amount)),
        currency=_text(settings.APPROVALS_CURRENCY if order.amount is not None else ""),
        items_text=_text(str(order.items_count)),
        requester=_text(order.requested_by or "—"),
        created_raw=_text(order.created_at_raw),
        age_seconds=age,
        age_text=_text(duration_text(age) if age is not None else "—"),
        deadline_text=_text(deadline.strftime("%Y-%m-%d %H:%M:%S UTC") if deadline else "not set"),
        deadline_iso=_text(deadline.isoformat() if deadline else ""),
        live=deadline is not None and order.status == OrderStatus.PENDING,
        window_text=_text(str(countdown.window_seconds or "")),
        percent_text=_text("" if fraction is None else str(max(0, min(100, round(fraction * 100))))),
    )


@dataclass(frozen=True)
class InboxFilters:
    """What the inbox keeps, checked on the server over the whole pending index (not only one fetched page)."""

    query: str = ""  # part of the customer's or the requester's name, any case
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    due_within: int | None = None  # seconds: the deadline falls between now and now + this

    @property
    def active(self) -> bool:
        return (
            bool(self.query.strip())
            or self.amount_min is not None
            or self.amount_max is not None
            or bool(self.due_within)
        )

    def matches(self, order: Order, *, now: datetime) -> bool:
        needle = self.query.strip().lower()
        if needle and needle not in order.customer_name.lower() and needle not in order.requested_by.lower():
            return False
        if self.amount_min is not None and (order.amount is None or order.amount < self.amount_min):
            return False
        if self.amount_max is not None and (order.amount is None or order.amount > self.amount_max):
            return False
        if self.due_within:
            deadline = order.approval_deadline
            if deadline is None or not now < deadline <= now + timedelta(seconds=self.due_within):
                return False
        return True


def inbox_rows(
    orders: list[Order],
    *,
    query: str = "",
    sort: str = "",
    identities: frozenset[str] = frozenset(),
    can_decide: bool = True,
    now: datetime | None = None,
) -> list[InboxRow]:
    """Rows of fetched orders, filtered by customer/requester and sorted (within these orders)."""
    now = now or timezone.now()
    keep = InboxFilters(query=query)
    rows = [
        inbox_row(order, identities=identities, can_decide=can_decide, now=now)
        for order in orders
        if keep.matches(order, now=now)
    ]
    if sort == "deadline":
        rows.sort(key=_deadline_key)
    elif sort == "amount":
        known = sorted((r for r in rows if r.order.amount is not None), key=lambda r: r.order.amount, reverse=True)
        rows = known + [r for r in rows if r.order.amount is None]
    elif sort == "amount_asc":
        rows.sort(key=_amount_key)
    return rows


# A filtered inbox reads index pages until it has a page of matches; it stops after this many reads and offers the
# rest behind its cursor, so one request never walks a huge backlog.
INBOX_FILTER_MAX_READS = 10


def _index_key(order: Order) -> dict:
    """The status-index key of a pending order: where the next page starts when this order ends one."""
    return {"orderId": order.order_id, "status": OrderStatus.PENDING, "createdAt": order.created_at_raw}


def _orders_page(*, limit: int, start_key: dict | None, created_after: str | None = None):
    try:
        return orders_table.orders_page(limit=limit, start_key=start_key, created_after=created_after)
    except ValueError as error:  # DynamoDB refused the key: treat it as a bad cursor
        raise InvalidCursor(str(error)) from error


def _matching_orders(
    *, start_key: dict | None, keep: InboxFilters, page_size: int, now: datetime
) -> tuple[list[Order], int, dict | None, float]:
    """Pending orders matching `keep`, oldest first, from `start_key` on: up to `page_size` of them.

    Returns (orders, how many were examined, the key where the next page starts or None, consumed capacity).
    """
    matched: list[Order] = []
    examined, capacity, key = 0, 0.0, start_key
    for _read in range(INBOX_FILTER_MAX_READS):
        page = _orders_page(limit=page_size, start_key=key)
        capacity += page.consumed_capacity
        for index, order in enumerate(page.orders):
            examined += 1
            if keep.matches(order, now=now):
                matched.append(order)
                if len(matched) == page_size:
                    more = index < len(page.orders) - 1 or page.next_key is not None
                    return matched, examined, _index_key(order) if more else None, capacity
        key = page.next_key
        if key is None:
            return matched, examined, None, capacity
    return matched, examined, key, capacity


def inbox_page(
    *,
    cursor: str = "",
    query: str = "",
    sort: str = "",
    amount_min: Decimal | None = None,
    amount_max: Decimal | None = None,
    due_within: int | None = None,
    identities: frozenset[str] = frozenset(),
    can_decide: bool = True,
    page_size: int | None = None,
) -> InboxPage:
    """One page of pending orders, oldest first. Raises InvalidCursor, OrdersTableUnavailable.

    Filters (customer/requester, amount range, deadline window) are applied here over the pending index, page after
    page, so a page holds up to `page_size` matching orders and the cursor continues after the last one examined.
    `sort` reorders the page shown.
    """
    start_key = cursor_decode(cursor) if cursor else None
    page_size = page_size or settings.APPROVALS_PAGE_SIZE
    now = timezone.now()
    keep = InboxFilters(query=query, amount_min=amount_min, amount_max=amount_max, due_within=due_within)
    if keep.active:
        orders, examined, next_key, capacity = _matching_orders(
            start_key=start_key, keep=keep, page_size=page_size, now=now
        )
    else:
        page = _orders_page(limit=page_size, start_key=start_key)
        orders, examined, next_key, capacity = page.orders, len(page.orders), page.next_key, page.consumed_capacity
    rows = inbox_rows(orders, sort=sort, identities=identities, can_decide=can_decide, now=now)
    return InboxPage(
        rows=rows,
        total_on_page=examined,
        next_cursor=cursor_encode(next_key) if next_key else None,
        consumed_capacity=capacity,
        filtered=keep.active,
    )


def inbox_next_order(*, after: Order, identities: frozenset[str], page_size: int | None = None) -> Order | None:
    """The next order the viewer can decide after `after`, in inbox order (oldest first), or None.

    For "Approve & next": skips `after` itself, the viewer's own requests (four-eyes), orders still without their
    callback and orders whose window is over.
    """
    if not after.created_at_raw:
        return None
    page_size = page_size or settings.APPROVALS_PAGE_SIZE
    now, key = timezone.now(), None
    for _read in range(INBOX_FILTER_MAX_READS):
        page = _orders_page(limit=page_size, start_key=key, created_after=after.created_at_raw)
        for order in page.orders:
            if order.order_id == after.order_id or requested_by_any(order.requested_by, identities):
                continue
            if order.has_callback and order_countdown(order, now=now).state != DeadlineState.EXPIRED:
                return order
        key = page.next_key
        if key is None:
            return None
    return None


def orders_pending_count() -> int | None:
    """Pending orders (cached a few seconds: every open page polls it); None when DynamoDB is unreachable."""
    count = cache.get(PENDING_COUNT_CACHE_KEY)
    if count is not None:
        return None if count < 0 else count
    try:
        count = orders_table.orders_count(status=OrderStatus.PENDING)
    except OrdersTableUnavailable as error:
        logger.warning("pending count unavailable: %s", error)
        count = -1  # remembered too, so that an unreachable table does not slow every page down
    cache.set(PENDING_COUNT_CACHE_KEY, count, settings.APPROVALS_BADGE_CACHE_SECONDS)
    return None if count < 0 else count


def pending_count_forget() -> None:
    cache.delete(PENDING_COUNT_CACHE_KEY)


# --- one order ------------------------------------------------------------------------------


def order_execution_pk(*, execution_arn: str) -> int | None:
    """The dashboard's copy of the order's execution (None until the poller has stored it)."""
    return executions.execution_pk_for_arn(execution_arn=execution_arn)


# --- the decisions audit ------------------------------------------------------------------------


def decisions_visible_to_all(user) -> bool:
    """Admins and operators (who read everything) see every decision; approvers see their own."""
    return user_is_admin(user) or OPERATORS in user_roles(user)


def decisions_list(
    *,
    user,
    username: str = "",
    outcome: str = "",
    decision: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Decision]:
    decisions = Decision.objects.all()
    if not decisions_visible_to_all(user):
        decisions = decisions.filter(user=user)
    elif username:
        decisions = decisions.filter(username__iexact=username)
    if outcome:
        decisions = decisions.filter(outcome=outcome)
    if decision:
        decisions = decisions.filter(decision=decision)
    tz = timezone.get_current_timezone()
    if date_from:
        decisions = decisions.filter(created_at__gte=datetime.combine(date_from, datetime.min.time(), tz))
    if date_to:
        decisions = decisions.filter(
            created_at__lt=datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tz)
        )
    return decisions.order_by("-created_at", "-id")


def decision_usernames() -> list[str]:
    return list(Decision.objects.order_by("username").values_list("username", flat=True).distinct())


def decision_durations(*, since: datetime | None = None, limit: int = 5000) -> list[float]:
    """Seconds from order creation to decision, for recent delivered approval decisions."""
    query = Decision.objects.exclude(order_created_at=None).filter(outcome=Outcome.SUCCEEDED)
    if since:
        query = query.filter(created_at__gte=since)
    rows = query.order_by("-created_at").values_list("created_at", "order_created_at")[:limit]
    return [max(0.0, (decided - created).total_seconds()) for decided, created in rows if decided and created]
