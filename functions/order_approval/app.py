"""The order-approval durable function (deployed and registered as `OrderApproval`).

Five stages, as in the article the project grew from:
create the order, validate it, wait for a human decision on a callback,
process or cancel it, notify. Every side effect, uuid and clock read happens
inside a step, and step names are static, so replays are deterministic.

Outcomes (the execution's result, or its error type):
  approved  -> {"outcome": "approved", ...}          execution SUCCEEDED
  rejected  -> {"outcome": "rejected", ...}          execution SUCCEEDED
  expired   -> {"outcome": "expired", ...}           execution SUCCEEDED (no decision in time)
  failed    -> {"outcome": "failed", "error": ...}   execution SUCCEEDED (an admin failed the callback)
  invalid   -> raises InvalidOrderError               execution FAILED
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

import boto3
from aws_durable_execution_sdk_python import (
    CallbackError,
    CallbackTimeoutError,
    DurableContext,
    StepContext,
    StepError,
    durable_execution,
    durable_step,
)
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration, StepConfig
from aws_durable_execution_sdk_python.retries import RetryPresets

from functions.order_approval.validation import InvalidOrderError, clip_order_fields, identity_key, order_problems

DEFAULT_APPROVAL_TIMEOUT_SECONDS = 24 * 3600
MAX_APPROVAL_TIMEOUT_SECONDS = 7 * 24 * 3600
# The execution must outlive the longest approval window (see template.yaml).
EXECUTION_TIMEOUT_SECONDS = 8 * 24 * 3600
RETENTION_PERIOD_DAYS = 30

NO_RETRY = StepConfig(retry_strategy=RetryPresets.none())


@lru_cache(maxsize=1)
def _orders_table():
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.resource("dynamodb", region_name=region).Table(os.environ.get("ORDERS_TABLE", "Orders"))


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _to_decimal(value):
    """Amounts are Decimal (cents) in DynamoDB; anything DynamoDB cannot store as a
    number (text, NaN, infinities, absurd magnitudes) is kept as text for validation to reject."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return value
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)[:50]
    if not number.is_finite() or abs(number) >= Decimal("1e20"):
        return str(value)[:50]
    return number.quantize(Decimal("0.01"))


def _jsonable(item: dict) -> dict:
    """A DynamoDB item as plain JSON (Decimal -> str keeps amounts exact)."""
    return json.loads(json.dumps(item, default=str))


def approval_timeout_seconds(event: dict) -> int:
    raw = event.get("approvalTimeoutSeconds") or os.environ.get(
        "APPROVAL_TIMEOUT_SECONDS", DEFAULT_APPROVAL_TIMEOUT_SECONDS
    )
    try:
        seconds = int(raw)
    except (TypeError, ValueError):
        seconds = DEFAULT_APPROVAL_TIMEOUT_SECONDS
    return max(1, min(seconds, MAX_APPROVAL_TIMEOUT_SECONDS))


@durable_step
def create_order(step_context: StepContext, event: dict, execution_arn: str) -> dict:
    event = clip_order_fields(event)
    order = {
        "orderId": str(uuid.uuid4()),
        "customerName": event.get("customerName"),
        "amount": _to_decimal(event.get("amount")),
        "items": event.get("items") or [],
        # No default: an order without a requester is rejected by validate_order (four-eyes needs one).
        "requestedBy": event.get("requestedBy") if isinstance(event.get("requestedBy"), str) else "",
        # The folded identity the dashboard's claim condition compares (four-eyes, NFKC + casefold).
        "requestedByKey": identity_key(event.get("requestedBy")),
        "status": "pending_approval",
        "createdAt": _iso(_now()),
        "executionArn": execution_arn,
    }
    _orders_table().put_item(Item=_floats_to_decimal(order))
    return _jsonable(order)


@durable_step
def validate_order(step_context: StepContext, order: dict) -> dict:
    problems = order_problems(order)
    if problems:
        _orders_table().update_item(
            Key={"orderId": order["orderId"]},
            UpdateExpression="SET #s = :s, validationErrors = :e",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": "invalid", ":e": problems},
        )
        raise InvalidOrderError("; ".join(problems))
    return {"valid": True}


@durable_step
def store_callback(step_context: StepContext, order: dict, callback_id: str, timeout_seconds: int) -> dict:
    created = datetime.fromisoformat(order["createdAt"].replace("Z", "+00:00"))
    deadline = _iso(created + timedelta(seconds=timeout_seconds))
    _orders_table().update_item(
        Key={"orderId": order["orderId"]},
        UpdateExpression="SET callbackId = :c, approvalDeadline = :d, approvalTimeoutSeconds = :t",
        ExpressionAttributeValues={":c": callback_id, ":d": deadline, ":t": timeout_seconds},
    )
    return {"approvalDeadline": deadline}


def _set_outcome(order_id: str, status: str, **attributes) -> str:
    names = {"#s": "status"}
    values = {":s": status, ":at": _iso(_now())}
    sets = ["#s = :s", "completedAt = :at"]
    for index, (key, value) in enumerate(attributes.items()):
        names[f"#a{index}"] = key
        values[f":v{index}"] = value
        sets.append(f"#a{index} = :v{index}")
    _orders_table().update_item(
        Key={"orderId": order_id},
        UpdateExpression="SET " + ", ".join(sets),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )
    return values[":at"]


def _record_decision(order: dict, status: str, decision: dict) -> str:
    # decisionId: the dashboard's claim token, so the order (and the history) say whose decision this was.
    return _set_outcome(
        order["orderId"],
        status,
        decidedBy=str(decision.get("decidedBy", "")),
        decisionComment=str(decision.get("comment", "")),
        decidedAt=str(decision.get("decidedAt", "")),
        decisionId=str(decision.get("decisionId", ""))[:64],
    )


@durable_step
def process_order(step_context: StepContext, order: dict, decision: dict) -> dict:
    return {"status": "approved", "processedAt": _record_decision(order, "approved", decision)}


@durable_step
def cancel_order(step_context: StepContext, order: dict, decision: dict) -> dict:
    return {"status": "rejected", "cancelledAt": _record_decision(order, "rejected", decision)}


@durable_step
def expire_order(step_context: StepContext, order: dict) -> dict:
    at = _set_outcome(order["orderId"], "expired")
    return {"status": "expired", "expiredAt": at}


@durable_step
def fail_order(step_context: StepContext, order: dict, error_type: str, message: str) -> dict:
    at = _set_outcome(order["orderId"], "failed", failureType=error_type, failureMessage=message)
    return {"status": "failed", "failedAt": at}


@durable_step
def send_notification(step_context: StepContext, order: dict, outcome: str, detail: str) -> dict:
    """Records the notification on the order (no external mail); idempotent by design."""
    notification = {
        "notificationId": str(uuid.uuid4()),
        "outcome": outcome,
        "recipient": order.get("requestedBy", ""),
        "message": f"Order {order['orderId']} {outcome}" + (f": {detail}" if detail else ""),
        "sentAt": _iso(_now()),
    }
    _orders_table().update_item(
        Key={"orderId": order["orderId"]},
        UpdateExpression="SET notifications = list_append(if_not_exists(notifications, :empty), :n)",
        ExpressionAttributeValues={":n": [notification], ":empty": []},
    )
    return notification


def _failure_type(error: CallbackError) -> str:
    """The SDK keeps the sender's ErrorType on the operation only; senders that want it
    on the order (the dashboard does) also put {"errorType": ...} in ErrorData."""
    try:
        data = json.loads(error.data) if error.data else {}
    except (TypeError, ValueError):
        data = {}
    if isinstance(data, dict) and isinstance(data.get("errorType"), str):
        return data["errorType"][:256]
    return type(error).__name__


def _parse_decision(raw) -> dict:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        value = {}
    return value if isinstance(value, dict) else {}


def _floats_to_decimal(value):
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _floats_to_decimal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats_to_decimal(v) for v in value]
    return value


@durable_execution
def handler(event: dict, context: DurableContext) -> dict:
    event = event if isinstance(event, dict) else {}
    execution_arn = context.execution_context.durable_execution_arn

    order = context.step(create_order(event, execution_arn), name="create_order", config=NO_RETRY)
    try:
        context.step(validate_order(order), name="validate_order", config=NO_RETRY)
    except StepError as error:
        # Surface the typed validation error as the execution's error.
        raise InvalidOrderError(error.message or "invalid order") from None

    timeout = approval_timeout_seconds(event)
    callback = context.create_callback(name="approval", config=CallbackConfig(timeout=Duration.from_seconds(timeout)))
    context.step(store_callback(order, callback.callback_id, timeout), name="store_callback")

    base = {"orderId": order["orderId"]}
    try:
        decision = _parse_decision(callback.result())
    except CallbackTimeoutError:
        context.step(expire_order(order), name="expire_order")
        context.step(send_notification(order, "expired", "no decision before the deadline"), name="send_notification")
        return {**base, "outcome": "expired"}
    except CallbackError as error:
        message = error.message or str(error)
        error_type = _failure_type(error)
        context.step(fail_order(order, error_type, message), name="fail_order")
        context.step(send_notification(order, "failed", message), name="send_notification")
        return {**base, "outcome": "failed", "error": {"type": error_type, "message": message}}

    if decision.get("approved") is True:
        context.step(process_order(order, decision), name="process_order")
        outcome = "approved"
    else:
        context.step(cancel_order(order, decision), name="cancel_order")
        outcome = "rejected"
    context.step(send_notification(order, outcome, decision.get("comment", "")), name="send_notification")
    return {
        **base,
        "outcome": outcome,
        "decidedBy": decision.get("decidedBy", ""),
        "comment": decision.get("comment", ""),
        "decidedAt": decision.get("decidedAt", ""),
        "decisionId": decision.get("decisionId", ""),
    }
