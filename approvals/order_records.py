"""Orders as the dashboard reads them: the status type and the `Order` record built from a DynamoDB item.

Pure code (no AWS, no database): `approvals/orders_table.py` fetches items and hands them here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from boto3.dynamodb.types import TypeDeserializer

from core.time import timestamp_parse


class OrderStatus(StrEnum):
    """The `status` attribute of an order item.

    The durable function (functions/order_approval/app.py) writes pending_approval, approved, rejected, expired
    and failed with the same spellings: it runs on Lambda and imports neither Django nor core, so it keeps its own
    literals, and this is the one place in the dashboard that names them. `deciding` (a claim is being sent) and
    `closed` (the callback was answered elsewhere) are written by the dashboard only. Items may carry other values
    (an open set): they are shown as they are, never rejected.
    """

    PENDING = "pending_approval"
    DECIDING = "deciding"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    FAILED = "failed"
    CLOSED = "closed"


# Statuses that mean the approval window is over: the order can no longer be decided by anyone.
WINDOW_OVER = frozenset({OrderStatus.EXPIRED, OrderStatus.CLOSED})

# Attributes that never leave the approvals gateway: the callback id is a bearer token for the
# suspended execution, the claim token only identifies one request's claim.
SECRET_ATTRIBUTES = frozenset({"callbackId", "claimToken"})

_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class Order:
    """One order as the dashboard shows it. Never carries the callback id."""

    order_id: str
    status: str  # an OrderStatus value, or whatever else the item holds
    customer_name: str
    amount: Decimal | None
    items: list
    requested_by: str
    created_at: datetime | None
    created_at_raw: str
    execution_arn: str
    approval_deadline: datetime | None
    approval_timeout_seconds: int | None
    has_callback: bool
    claimed_by: str
    claimed_at: datetime | None
    claim_decision: str
    decided_by: str
    decided_at: datetime | None
    decision_comment: str
    attributes: dict = field(repr=False)

    @property
    def attribute_pairs(self) -> list[tuple[str, object]]:
        # (templates cannot call attributes.items: the order has an attribute called "items")
        return list(self.attributes.items())

    def attribute_pairs_for(self, *, claim_comment: bool) -> list[tuple[str, object]]:
        """`attribute_pairs`, without the claim's comment unless `claim_comment` (an approver's comment is theirs
        until the decision is delivered: other approvers do not see it)."""
        return [(name, value) for name, value in self.attributes.items() if claim_comment or name != "claimComment"]

    @property
    def is_pending(self) -> bool:
        return self.status == OrderStatus.PENDING

    @property
    def is_deciding(self) -> bool:
        return self.status == OrderStatus.DECIDING

    @property
    def items_count(self) -> int:
        return len(self.items) if isinstance(self.items, list) else 0


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError, ArithmeticError):
        return None


def item_plain(item: dict) -> dict:
    """A DynamoDB-JSON item ({"S": ...}, {"N": ...}, ...) as plain Python values (numbers are Decimal)."""
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def order_from_plain(plain: dict) -> Order:
    """The Order of a plain item. Missing or odd-typed attributes become empty values, never an exception."""
    amount = plain.get("amount")
    items = plain.get("items")
    return Order(
        order_id=str(plain.get("orderId", "")),
        status=str(plain.get("status", "")),
        customer_name=str(plain.get("customerName") or ""),
        amount=amount if isinstance(amount, Decimal) else None,
        items=items if isinstance(items, list) else [],
        requested_by=str(plain.get("requestedBy") or ""),
        created_at=timestamp_parse(plain.get("createdAt")),
        created_at_raw=str(plain.get("createdAt") or ""),
        execution_arn=str(plain.get("executionArn") or ""),
        approval_deadline=timestamp_parse(plain.get("approvalDeadline")),
        approval_timeout_seconds=_int_or_none(plain.get("approvalTimeoutSeconds")),
        has_callback=bool(plain.get("callbackId")),
        claimed_by=str(plain.get("claimedBy") or ""),
        claimed_at=timestamp_parse(plain.get("claimedAt")),
        claim_decision=str(plain.get("claimDecision") or ""),
        decided_by=str(plain.get("decidedBy") or ""),
        decided_at=timestamp_parse(plain.get("decidedAt")),
        decision_comment=str(plain.get("decisionComment") or ""),
        attributes={k: v for k, v in sorted(plain.items()) if k not in SECRET_ATTRIBUTES},
    )


def order_from_item(item: dict) -> Order:
    """The Order of a DynamoDB-JSON item (the detail page: every attribute kept, secrets dropped)."""
    return order_from_plain(item_plain(item))


# What a list row needs; the rest (items' contents, notifications, ...) is only read on the detail page.
SUMMARY_ATTRIBUTES = (
    "orderId",
    "status",
    "customerName",
    "amount",
    "requestedBy",
    "createdAt",
    "executionArn",
    "approvalDeadline",
    "approvalTimeoutSeconds",
    "claimedBy",
    "claimedAt",
    "claimDecision",
    "decidedBy",
    "decidedAt",
    "decisionComment",
)


def order_summary_from_item(item: dict) -> Order:
    """An Order for list pages: scalar attributes only, `items` counted but not decoded, no `attributes`."""
    plain = {key: _deserializer.deserialize(item[key]) for key in SUMMARY_ATTRIBUTES if key in item}
    raw_items = item.get("items", {})
    plain["items"] = [None] * len(raw_items["L"]) if "L" in raw_items else []
    plain["callbackId"] = "callbackId" in item
    return replace(order_from_plain(plain), attributes={})
