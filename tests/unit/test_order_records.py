"""Order records from DynamoDB items: odd types, missing fields, Decimal amounts, secrets never kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from approvals.order_records import (
    SECRET_ATTRIBUTES,
    WINDOW_OVER,
    OrderStatus,
    order_from_item,
    order_from_plain,
    order_summary_from_item,
)

ITEM = {
    "orderId": {"S": "o-1"},
    "status": {"S": "pending_approval"},
    "customerName": {"S": "Contoso"},
    "amount": {"N": "1249.90"},
    "items": {"L": [{"M": {"sku": {"S": "LAP-14"}, "quantity": {"N": "1"}}}, {"M": {"sku": {"S": "MON-27"}}}]},
    "requestedBy": {"S": "carol@example.com"},
    "createdAt": {"S": "2026-01-02T03:04:05.678Z"},
    "executionArn": {"S": "arn:aws:lambda:us-east-1:1:function:OrderApproval:$LATEST/durable-execution/x"},
    "approvalDeadline": {"S": "2026-01-02T04:04:05.678Z"},
    "approvalTimeoutSeconds": {"N": "3600"},
    "callbackId": {"S": "secret-callback"},
    "claimToken": {"S": "secret-token"},
    "notifications": {"L": [{"S": "sent"}]},
}


def test_full_item():
    order = order_from_item(ITEM)
    assert order.order_id == "o-1" and order.status == OrderStatus.PENDING and order.is_pending
    assert order.amount == Decimal("1249.90") and isinstance(order.amount, Decimal)
    assert order.created_at == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert order.created_at_raw == "2026-01-02T03:04:05.678Z"
    assert order.approval_deadline - order.created_at == timedelta(hours=1)
    assert order.approval_timeout_seconds == 3600 and isinstance(order.approval_timeout_seconds, int)
    assert order.has_callback and order.items_count == 2
    assert order.items[0] == {"sku": "LAP-14", "quantity": Decimal("1")}


def test_secrets_never_reach_the_record():
    order = order_from_item(ITEM)
    assert not SECRET_ATTRIBUTES & set(order.attributes)
    assert "secret" not in repr(order)
    assert [name for name, _ in order.attribute_pairs] == sorted(set(ITEM) - SECRET_ATTRIBUTES)


def test_missing_fields_are_empty_values():
    order = order_from_plain({})
    assert order.order_id == "" and order.status == "" and not order.is_pending
    assert order.customer_name == "" and order.requested_by == "" and order.execution_arn == ""
    assert order.amount is None and order.items == [] and order.items_count == 0
    assert order.created_at is None and order.approval_deadline is None and order.claimed_at is None
    assert order.approval_timeout_seconds is None and not order.has_callback
    assert order.attributes == {}


def test_odd_types_never_raise():
    order = order_from_plain(
        {
            "orderId": 42,
            "status": "archived",
            "customerName": None,
            "amount": "12.50",
            "items": {"not": "a list"},
            "createdAt": Decimal("1700000000"),
            "approvalDeadline": "next tuesday",
            "approvalTimeoutSeconds": "soon",
            "claimedAt": "",
            "decidedAt": ["2026-01-01"],
            "callbackId": "",
        }
    )
    assert order.order_id == "42"
    assert order.status == "archived"  # an open set: kept as it is
    assert order.customer_name == ""
    assert order.amount is None  # a string is not an amount DynamoDB stored as a number
    assert order.items == [] and order.items_count == 0
    assert order.created_at is None and order.approval_deadline is None
    assert order.claimed_at is None and order.decided_at is None
    assert order.approval_timeout_seconds is None
    assert not order.has_callback


def test_times_without_zone_are_utc_and_offsets_are_kept():
    order = order_from_plain({"createdAt": "2026-01-02T03:04:05", "approvalDeadline": "2026-01-02T05:04:05+02:00"})
    assert order.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert order.approval_deadline.utcoffset() == timedelta(hours=2)
    assert order.approval_deadline == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_amounts_keep_decimal_precision():
    assert order_from_item({"amount": {"N": "0.1"}}).amount == Decimal("0.1")
    assert order_from_item({"amount": {"N": "12345678901234567890.12"}}).amount == Decimal("12345678901234567890.12")
    assert order_from_item({"amount": {"N": "-5"}}).amount == Decimal("-5")


def test_summary_counts_items_without_decoding_them_and_drops_the_rest():
    summary = order_summary_from_item(ITEM)
    full = order_from_item(ITEM)
    assert summary.items_count == 2 and summary.items == [None, None]
    assert summary.attributes == {} and summary.has_callback
    assert (summary.order_id, summary.amount, summary.created_at, summary.approval_deadline) == (
        full.order_id,
        full.amount,
        full.created_at,
        full.approval_deadline,
    )
    assert not order_summary_from_item({"orderId": {"S": "x"}}).has_callback
    assert order_summary_from_item({"orderId": {"S": "x"}, "items": {"S": "odd"}}).items_count == 0


def test_status_type():
    assert OrderStatus("deciding") is OrderStatus.DECIDING
    assert f"{OrderStatus.PENDING}" == "pending_approval" and OrderStatus.PENDING == "pending_approval"
    assert order_from_plain({"status": "deciding"}).is_deciding
    assert {OrderStatus.EXPIRED, OrderStatus.CLOSED} == WINDOW_OVER
