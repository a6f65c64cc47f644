"""Reads for the approvals pages: the inbox page, one order, the pending count, the decisions audit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from approvals import orders_table
from approvals.models import Decision
from approvals.orders_table import Order, OrdersTableUnavailable
from core.roles import OPERATORS, user_is_admin, user_roles
from executions import services as executions

logger = logging.getLogger(__name__)

PENDING_COUNT_CACHE_KEY = "approvals:pending-count"
_CURSOR_SALT = "approvals.inbox.cursor"


class InvalidCursor(Exception):
    """The page cursor in the URL was not issued by us (or is malformed)."""


# --- cursor: the LastEvaluatedKey, signed so it cannot be forged -------------------------


def cursor_encode(key: dict) -> str:
    return signing.dumps({"o": key["orderId"], "c": key["createdAt"]}, salt=_CURSOR_SALT, compress=True)


def cursor_decode(token: str) -> dict:
    if len(token) > 2000:
        raise InvalidCursor("cursor too long")
    try:
        value = signing.loads(token, salt=_CURSOR_SALT)
    except signing.BadSignature as error:
        raise InvalidCursor("cursor signature mismatch") from error
    if not (isinstance(value, dict) and isinstance(value.get("o"), str) and isinstance(value.get("c"), str)):
        raise InvalidCursor("cursor has the wrong shape")
    return {"orderId": value["o"], "status": orders_table.PENDING, "createdAt": value["c"]}


def user_identities(user) -> list[str]:
    """The names an order's requestedBy may use for this user (four-eyes compares all of them)."""
    names = [user.get_username(), getattr(user, "email", "") or ""]
    return [name for name in dict.fromkeys(n.strip() for n in names) if name]


def user_identities_folded(user) -> frozenset[str]:
    return frozenset(name.lower() for name in user_identities(user))


# --- deadlines ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Countdown:
    state: str  # ok | amber | red | expired | unknown
    label: str
    remaining_seconds: int | None
    fraction_left: float | None  # 0..1 of the approval window
    window_seconds: float | None = None


def duration_label(seconds: float) -> str:
    seconds = int(max(0, seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def order_countdown(order: Order, *, now: datetime | None = None) -> Countdown:
    """Time left until the callback deadline: amber under 25 % of the window, red under 10 %."""
    if order.approval_deadline is None:
        return Countdown("unknown", "—", None, None)
    now = now or timezone.now()
    remaining = (order.approval_deadline - now).total_seconds()
    window = order.approval_timeout_seconds
    if not window and order.created_at:
        window = (order.approval_deadline - order.created_at).total_seconds()
    if remaining <= 0:
        return Countdown("expired", "expired", 0, 0.0, window)
    fraction = min(1.0, remaining / window) if window else None
    state = "ok"
    if fraction is not None and fraction < 0.10:
        state = "red"
    elif fraction is not None and fraction < 0.25:
        state = "amber"
    return Countdown(state, duration_label(remaining), int(remaining), fraction, window)


# --- the inbox --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _inbox_path() -> str:
    return reverse("approvals:inbox")


@dataclass(frozen=True)
class InboxRow:
    """One inbox row, with its display strings computed here (template lookups are the page's main cost)."""

    order: Order
    countdown: Countdown
    age_seconds: int | None
    own: bool = False  # requested by the viewer: four-eyes forbids deciding it
    note: str = ""  # why the viewer cannot decide this row ("" when they can)

    @property
    def key(self) -> str:
        return quote(self.order.order_id, safe="")

    @property
    def path(self) -> str:
        return f"{_inbox_path()}{self.key}/"

    @property
    def short_id(self) -> str:
        return self.order.order_id[:8]

    @property
    def age_text(self) -> str:
        return duration_label(self.age_seconds) if self.age_seconds is not None else "—"

    @property
    def deadline_text(self) -> str:
        deadline = self.order.approval_deadline
        return deadline.strftime("%Y-%m-%d %H:%M:%S UTC") if deadline else "not set"

    @property
    def deadline_iso(self) -> str:
        deadline = self.order.approval_deadline
        return deadline.isoformat() if deadline else ""

    @property
    def percent_left(self) -> int | None:
        fraction = self.countdown.fraction_left
        return None if fraction is None else max(0, min(100, round(fraction * 100)))


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total_on_page: int
    next_cursor: str | None
    consumed_capacity: float

    @property
    def urgency(self) -> dict[str, int]:
        counts = {"red": 0, "amber": 0, "expired": 0}
        for row in self.rows:
            if row.countdown.state in counts:
                counts[row.countdown.state] += 1
        return counts


def _deadline_key(row: InboxRow):
    deadline = row.order.approval_deadline
    return (deadline is None, deadline.timestamp() if deadline else 0.0)


def _amount_key(row: InboxRow):
    return (row.order.amount is None, row.order.amount if row.order.amount is not None else 0)


SORT_CHOICES = {
    "": "Oldest first",
    "deadline": "Deadline, soonest first",
    "amount": "Amount, highest first",
    "amount_asc": "Amount, lowest first",
}


def inbox_row(
    order: Order, *, identities: frozenset[str] = frozenset(), can_decide: bool = True, now: datetime | None = None
) -> InboxRow:
    now = now or timezone.now()
    countdown = order_countdown(order, now=now)
    own = order.requested_by.strip().lower() in identities
    if not can_decide:
        note = "View only"
    elif own:
        note = "Your request · needs another approver"
    elif order.status != orders_table.PENDING:
        note = order.status
    elif not order.has_callback:
        note = "Preparing…"
    elif countdown.state == "expired":
        note = "Window over"
    else:
        note = ""
    return InboxRow(
        order=order,
        countdown=countdown,
        age_seconds=int((now - order.created_at).total_seconds()) if order.created_at else None,
        own=own,
        note=note,
    )


def inbox_rows(
    orders: list[Order],
    *,
    query: str = "",
    sort: str = "",
    identities: frozenset[str] = frozenset(),
    can_decide: bool = True,
    now: datetime | None = None,
) -> list[InboxRow]:
    """Rows of one fetched page, filtered by customer/requester and sorted (within the page)."""
    now = now or timezone.now()
    needle = query.strip().lower()
    rows = [
        inbox_row(order, identities=identities, can_decide=can_decide, now=now)
        for order in orders
        if not needle or needle in order.customer_name.lower() or needle in order.requested_by.lower()
    ]
    if sort == "deadline":
        rows.sort(key=_deadline_key)
    elif sort == "amount":
        known = sorted((r for r in rows if r.order.amount is not None), key=lambda r: r.order.amount, reverse=True)
        rows = known + [r for r in rows if r.order.amount is None]
    elif sort == "amount_asc":
        rows.sort(key=_amount_key)
    return rows


def inbox_page(
    *,
    cursor: str = "",
    query: str = "",
    sort: str = "",
    identities: frozenset[str] = frozenset(),
    can_decide: bool = True,
    page_size: int | None = None,
) -> InboxPage:
    """One page of pending orders, oldest first. Raises InvalidCursor, OrdersTableUnavailable."""
    start_key = cursor_decode(cursor) if cursor else None
    page_size = page_size or settings.APPROVALS_PAGE_SIZE
    try:
        page = orders_table.orders_page(limit=page_size, start_key=start_key)
    except ValueError as error:  # DynamoDB refused the key: treat it as a bad cursor
        raise InvalidCursor(str(error)) from error
    rows = inbox_rows(page.orders, query=query, sort=sort, identities=identities, can_decide=can_decide)
    return InboxPage(
        rows=rows,
        total_on_page=len(page.orders),
        next_cursor=cursor_encode(page.next_key) if page.next_key else None,
        consumed_capacity=page.consumed_capacity,
    )


def orders_pending_count() -> int | None:
    """Pending orders (cached a few seconds: every open page polls it); None when DynamoDB is unreachable."""
    count = cache.get(PENDING_COUNT_CACHE_KEY)
    if count is not None:
        return None if count < 0 else count
    try:
        count = orders_table.orders_count(status=orders_table.PENDING)
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
    query = Decision.objects.exclude(order_created_at=None).filter(outcome="succeeded")
    if since:
        query = query.filter(created_at__gte=since)
    rows = query.order_by("-created_at").values_list("created_at", "order_created_at")[:limit]
    return [max(0.0, (decided - created).total_seconds()) for decided, created in rows if decided and created]
