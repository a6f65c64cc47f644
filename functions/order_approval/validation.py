"""Order validation rules, shared by the durable function and the tests."""

from __future__ import annotations

import json
import unicodedata
from decimal import Decimal, InvalidOperation

MAX_TEXT = 200  # customerName, requestedBy
MAX_ITEMS = 100
MAX_ITEM_BYTES = 2_000
MAX_AMOUNT = Decimal("10000000")


def identity_key(name) -> str:
    """The folded form four-eyes compares (stored on the order as `requestedByKey`, compared by the dashboard).

    Unicode NFKC plus casefold (NFKC again after folding, as Unicode's NFKC_Casefold), trimmed: fullwidth "CAROL",
    "Carol" and "carol " are one person.
    """
    if not isinstance(name, str):
        return ""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold()).strip()


class InvalidOrderError(Exception):
    """The order cannot be approved as submitted (the execution fails with this type)."""


def _clip_text(value):
    return value[: MAX_TEXT + 1] if isinstance(value, str) else value


def clip_order_fields(event: dict) -> dict:
    """Bound every field just past its limit, so an enormous input still fits in one
    DynamoDB item (400 KB) and a checkpoint, while validation can still see it was too big."""
    items = event.get("items")
    if isinstance(items, list):
        clipped = []
        for item in items[: MAX_ITEMS + 1]:
            if len(json.dumps(item, default=str)) > MAX_ITEM_BYTES:
                item = {"oversized": True, "preview": json.dumps(item, default=str)[:200]}
            clipped.append(item)
        items = clipped
    elif items is not None and not isinstance(items, list):
        items = {"invalid": True, "preview": str(items)[:200]}
    return {
        **{k: v for k, v in event.items() if k in ("customerName", "amount", "requestedBy")},
        "customerName": _clip_text(event.get("customerName")),
        "requestedBy": _clip_text(event.get("requestedBy")),
        "amount": _clip_text(event.get("amount")) if isinstance(event.get("amount"), str) else event.get("amount"),
        "items": items,
    }


def order_problems(order: dict) -> list[str]:
    """Every reason the order is invalid (empty when it is valid)."""
    problems: list[str] = []
    customer = order.get("customerName")
    if not isinstance(customer, str) or not customer.strip():
        problems.append("customerName is missing")
    elif len(customer) > MAX_TEXT:
        problems.append(f"customerName is longer than {MAX_TEXT} characters")

    requester = order.get("requestedBy")
    if not isinstance(requester, str) or not identity_key(requester):
        problems.append("requestedBy is missing")  # four-eyes needs to know who asked
    elif len(requester) > MAX_TEXT:
        problems.append(f"requestedBy is longer than {MAX_TEXT} characters")

    amount = order.get("amount")
    try:
        value = Decimal(str(amount)) if amount is not None and not isinstance(amount, bool) else None
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite():
        problems.append("amount must be a number")
    elif value <= 0:
        problems.append("amount must be greater than zero")
    elif value > MAX_AMOUNT:
        problems.append(f"amount exceeds the maximum of {MAX_AMOUNT}")

    items = order.get("items")
    if not isinstance(items, list) or not items:
        problems.append("items must be a non-empty list")
    else:
        if len(items) > MAX_ITEMS:
            problems.append(f"more than {MAX_ITEMS} items")
        if any(isinstance(item, dict) and item.get("oversized") for item in items):
            problems.append(f"an item is larger than {MAX_ITEM_BYTES} bytes")
    return problems
