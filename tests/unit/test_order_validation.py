"""functions/order_approval/validation.py: the order rules, and the clipping that keeps any input storable.

The durable function runs `order_problems(clip_order_fields(event))`; tests/functions/test_order_approval.py
checks the same rules end to end (the execution fails with InvalidOrderError and the order is `invalid`).
"""

import json
from decimal import Decimal

import pytest

from functions.order_approval.validation import (
    MAX_AMOUNT,
    MAX_ITEM_BYTES,
    MAX_ITEMS,
    MAX_TEXT,
    InvalidOrderError,
    clip_order_fields,
    order_problems,
)

VALID = {
    "customerName": "Acme Corp",
    "amount": "1249.90",
    "requestedBy": "sam@example.com",
    "items": [{"sku": "LAPTOP-15", "qty": 1}],
}


def problems(**overrides):
    return order_problems(clip_order_fields({**VALID, **overrides}))


def test_a_valid_order_has_no_problems():
    assert problems() == []
    assert problems(amount=12) == []
    assert problems(amount=Decimal("0.01")) == []
    assert problems(amount=str(MAX_AMOUNT)) == []
    assert problems(requestedBy=None) == ["requestedBy is missing"], "four-eyes needs a requester"
    assert problems(customerName="x" * MAX_TEXT, items=[{"sku": str(i)} for i in range(MAX_ITEMS)]) == []


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"customerName": None}, "customerName is missing"),
        ({"customerName": "   "}, "customerName is missing"),
        ({"customerName": 42}, "customerName is missing"),
        ({"customerName": "x" * (MAX_TEXT + 1)}, f"customerName is longer than {MAX_TEXT} characters"),
        ({"requestedBy": "y" * 5000}, f"requestedBy is longer than {MAX_TEXT} characters"),
        ({"amount": None}, "amount must be a number"),
        ({"amount": True}, "amount must be a number"),
        ({"amount": "twelve"}, "amount must be a number"),
        ({"amount": "NaN"}, "amount must be a number"),
        ({"amount": "Infinity"}, "amount must be a number"),
        ({"amount": 0}, "amount must be greater than zero"),
        ({"amount": -12.5}, "amount must be greater than zero"),
        ({"amount": str(MAX_AMOUNT + 1)}, f"amount exceeds the maximum of {MAX_AMOUNT}"),
        ({"items": None}, "items must be a non-empty list"),
        ({"items": []}, "items must be a non-empty list"),
        ({"items": "a laptop"}, "items must be a non-empty list"),
        ({"items": [{"sku": str(i)} for i in range(500)]}, f"more than {MAX_ITEMS} items"),
        ({"items": [{"sku": "A", "note": "y" * 10_000}]}, f"an item is larger than {MAX_ITEM_BYTES} bytes"),
    ],
)
def test_each_rule(overrides, problem):
    assert problems(**overrides) == [problem]


def test_every_problem_is_reported_at_once():
    assert problems(customerName="", amount="-1", items=[]) == [
        "customerName is missing",
        "amount must be greater than zero",
        "items must be a non-empty list",
    ]


def test_clipping_bounds_every_field_just_past_its_limit():
    event = {
        **VALID,
        "customerName": "c" * 100_000,
        "requestedBy": "r" * 100_000,
        "amount": "9" * 100_000,
        "items": [{"sku": str(i), "note": "n" * 5000} for i in range(10_000)],
        "unexpected": "dropped",
    }
    clipped = clip_order_fields(event)
    assert set(clipped) == {"customerName", "amount", "requestedBy", "items"}
    assert len(clipped["customerName"]) == len(clipped["requestedBy"]) == len(clipped["amount"]) == MAX_TEXT + 1
    assert len(clipped["items"]) == MAX_ITEMS + 1
    assert all(item["oversized"] for item in clipped["items"])
    assert len(json.dumps(clipped)) < 400_000, "fits in one DynamoDB item"
    assert order_problems(clipped) == [
        f"customerName is longer than {MAX_TEXT} characters",
        f"requestedBy is longer than {MAX_TEXT} characters",
        f"amount exceeds the maximum of {MAX_AMOUNT}",
        f"more than {MAX_ITEMS} items",
        f"an item is larger than {MAX_ITEM_BYTES} bytes",
    ]


def test_clipping_keeps_a_valid_order_as_it_is():
    assert clip_order_fields(VALID) == VALID


def test_items_that_are_not_a_list_are_kept_as_a_short_preview():
    clipped = clip_order_fields({**VALID, "items": "z" * 10_000})
    assert clipped["items"] == {"invalid": True, "preview": "z" * 200}


def test_invalid_order_error_is_an_exception_the_function_raises():
    assert issubclass(InvalidOrderError, Exception)
