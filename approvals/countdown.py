"""The approval countdown of an order: how much of its callback window is left, as a state and a label.

Pure (no AWS, no database). static/js/approvals.js re-labels and re-colours the same countdowns every second in
the browser with the same thresholds and the same duration format.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.utils import timezone

from approvals.order_records import Order
from core.formatting import duration_text


class DeadlineState(StrEnum):
    """How close an order is to its callback deadline (also the CSS class; static/js/approvals.js uses the same)."""

    OK = "ok"
    AMBER = "amber"  # under 25 % of the approval window left
    RED = "red"  # under 10 % left
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # no deadline recorded yet


@dataclass(frozen=True)
class Countdown:
    state: DeadlineState
    label: str
    fraction_left: float | None  # 0..1 of the approval window
    window_seconds: float | None = None


def order_countdown(order: Order, *, now: datetime | None = None) -> Countdown:
    """Time left until the callback deadline: amber under 25 % of the window, red under 10 %.

    The label is `duration_text` of the whole seconds left, rounded up (static/js/approvals.js re-labels it every
    second with the same rules), so it never reads 0 before the window is over.
    """
    if order.approval_deadline is None:
        return Countdown(DeadlineState.UNKNOWN, "—", None)
    now = now or timezone.now()
    remaining = (order.approval_deadline - now).total_seconds()
    window = order.approval_timeout_seconds
    if not window and order.created_at:
        window = (order.approval_deadline - order.created_at).total_seconds()
    if remaining <= 0:
        return Countdown(DeadlineState.EXPIRED, "expired", 0.0, window)
    fraction = min(1.0, remaining / window) if window else None
    state = DeadlineState.OK
    if fraction is not None and fraction < 0.10:
        state = DeadlineState.RED
    elif fraction is not None and fraction < 0.25:
        state = DeadlineState.AMBER
    return Countdown(state, duration_text(math.ceil(remaining)), fraction, window)
