"""The order an order-approval execution is about, and its business outcome, read from its history.

Pure code (no database): `executions/sync/derive.py` calls it at sync time and migration 0009 for executions synced
before the fields existed. Only executions of the order-approval function (settings.ORDER_APPROVAL_FUNCTION) get
these fields; other functions keep them empty and the pages show "—".

The workflow (functions/order_approval/app.py) returns the order from its `create_order` step and ends with
{"outcome": "approved" | "rejected" | "expired" | "failed", ...}, or fails with InvalidOrderError.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.decoding import payload_decode

CREATE_ORDER_STEP = "create_order"
INVALID_ORDER_ERROR = "InvalidOrderError"
ORDER_ID_CHARS = 128
CUSTOMER_CHARS = 256


class OrderOutcome(StrEnum):
    """The business outcome of an order-approval execution. An open set: other result values are kept as they are."""

    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    FAILED = "failed"
    INVALID = "invalid"


@dataclass(frozen=True)
class OrderRef:
    order_id: str
    customer_name: str


def order_ref_from_step_details(details: dict | None) -> OrderRef | None:
    """The order id and customer of the `create_order` step's StepSucceeded details; None when unreadable."""
    if not isinstance(details, dict) or "Result" not in details:
        return None
    value = payload_decode(details["Result"]).value
    if not isinstance(value, dict) or not isinstance(value.get("orderId"), str) or not value["orderId"]:
        return None
    customer = value.get("customerName")
    return OrderRef(
        order_id=value["orderId"][:ORDER_ID_CHARS],
        customer_name=(customer if isinstance(customer, str) else "")[:CUSTOMER_CHARS],
    )


def order_outcome_of(*, result, error_type: str, terminal: bool) -> str:
    """The outcome of an ended execution: the result's "outcome", or `invalid` for InvalidOrderError; "" otherwise."""
    if not terminal:
        return ""
    if isinstance(result, dict) and isinstance(result.get("outcome"), str) and result["outcome"]:
        return result["outcome"][:16]
    if error_type == INVALID_ORDER_ERROR or error_type.endswith("." + INVALID_ORDER_ERROR):
        return OrderOutcome.INVALID
    return ""
