"""The order-approval durable function on the real emulator, gateway and DynamoDB Local (no mocks)."""

import json
from decimal import Decimal

import pytest

from tests.orders import VALID_ORDER, execution_wait, history, order_for_execution, order_get, order_start

pytestmark = pytest.mark.usefixtures("local_stack")


def _decide(lambda_client, callback_id, approved, comment="", by="dana@example.com", decision_id=None):
    result = {"approved": approved, "decidedBy": by, "comment": comment, "decidedAt": "2026-11-27T10:00:00Z"}
    if decision_id is not None:
        result["decisionId"] = decision_id
    lambda_client.send_durable_execution_callback_success(CallbackId=callback_id, Result=json.dumps(result).encode())


def test_approve_flow_ends_approved_with_notification(lambda_client, dynamodb_client, local_stack):
    arn = order_start(lambda_client)
    order = order_for_execution(dynamodb_client, local_stack.table, arn)
    assert order["status"] == "pending_approval"
    assert order["customerName"] == "Northwind Traders"
    assert order["amount"] == Decimal("1249.90")
    assert order["executionArn"] == arn
    assert order["createdAt"].endswith("Z") and order["approvalDeadline"] > order["createdAt"]
    assert order["approvalTimeoutSeconds"] == 24 * 3600

    _decide(lambda_client, order["callbackId"], True, "looks good")
    execution = execution_wait(lambda_client, arn)
    assert execution["Status"] == "SUCCEEDED"
    result = json.loads(execution["Result"])
    assert result == {
        "orderId": order["orderId"],
        "outcome": "approved",
        "decidedBy": "dana@example.com",
        "comment": "looks good",
        "decidedAt": "2026-11-27T10:00:00Z",
        "decisionId": "",  # a result without the dashboard's decisionId (tolerated, recorded empty)
    }
    stored = order_get(dynamodb_client, local_stack.table, order["orderId"])
    assert stored["status"] == "approved"
    assert stored["decidedBy"] == "dana@example.com"
    assert [n["outcome"] for n in stored["notifications"]] == ["approved"]


def test_reject_flow_ends_rejected(lambda_client, dynamodb_client, local_stack):
    arn = order_start(lambda_client)
    order = order_for_execution(dynamodb_client, local_stack.table, arn)
    _decide(lambda_client, order["callbackId"], False, "over budget")
    execution = execution_wait(lambda_client, arn)
    assert execution["Status"] == "SUCCEEDED"
    assert json.loads(execution["Result"])["outcome"] == "rejected"
    stored = order_get(dynamodb_client, local_stack.table, order["orderId"])
    assert stored["status"] == "rejected"
    assert stored["decisionComment"] == "over budget"
    assert stored["notifications"][0]["outcome"] == "rejected"


def test_callback_timeout_ends_expired(lambda_client, dynamodb_client, local_stack):
    arn = order_start(lambda_client, approvalTimeoutSeconds=2)
    order = order_for_execution(dynamodb_client, local_stack.table, arn)
    assert order["approvalTimeoutSeconds"] == 2
    execution = execution_wait(lambda_client, arn, timeout=30)
    assert execution["Status"] == "SUCCEEDED"
    assert json.loads(execution["Result"])["outcome"] == "expired"
    stored = order_get(dynamodb_client, local_stack.table, order["orderId"])
    assert stored["status"] == "expired"
    assert stored["notifications"][0]["outcome"] == "expired"
    # The closed callback answers as AWS does: 400 CallbackTimeoutException.
    with pytest.raises(lambda_client.exceptions.CallbackTimeoutException) as caught:
        _decide(lambda_client, order["callbackId"], True)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_callback_failure_ends_failed_with_message(lambda_client, dynamodb_client, local_stack):
    arn = order_start(lambda_client)
    order = order_for_execution(dynamodb_client, local_stack.table, arn)
    lambda_client.send_durable_execution_callback_failure(
        CallbackId=order["callbackId"],
        Error={
            "ErrorType": "ManualFailure",
            "ErrorMessage": "approval window closed by admin",
            "ErrorData": json.dumps({"errorType": "ManualFailure", "failedBy": "admin"}),
        },
    )
    execution = execution_wait(lambda_client, arn)
    assert execution["Status"] == "SUCCEEDED"
    result = json.loads(execution["Result"])
    assert result["outcome"] == "failed"
    assert result["error"] == {"type": "ManualFailure", "message": "approval window closed by admin"}
    stored = order_get(dynamodb_client, local_stack.table, order["orderId"])
    assert stored["status"] == "failed"
    assert stored["failureMessage"] == "approval window closed by admin"
    assert stored["failureType"] == "ManualFailure"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"customerName": ""}, "customerName is missing"),
        ({"customerName": None}, "customerName is missing"),
        ({"amount": 0}, "amount must be greater than zero"),
        ({"amount": -12.5}, "amount must be greater than zero"),
        ({"amount": "twelve"}, "amount must be a number"),
        ({"amount": "NaN"}, "amount must be a number"),
        ({"items": []}, "items must be a non-empty list"),
        ({"items": "a laptop"}, "items must be a non-empty list"),
        ({"customerName": "x" * 5000}, "customerName is longer than 200 characters"),
        ({"items": [{"sku": "A", "note": "y" * 10_000}]}, "an item is larger than 2000 bytes"),
        ({"items": [{"sku": str(i)} for i in range(500)]}, "more than 100 items"),
        ({"requestedBy": None}, "requestedBy is missing"),  # four-eyes needs a requester (was "unknown")
        ({"requestedBy": "   "}, "requestedBy is missing"),
        ({"requestedBy": 42}, "requestedBy is missing"),
    ],
)
def test_invalid_orders_end_invalid_with_typed_error(lambda_client, dynamodb_client, local_stack, overrides, problem):
    arn = order_start(lambda_client, **overrides)
    execution = execution_wait(lambda_client, arn)
    assert execution["Status"] == "FAILED"
    assert execution["Error"]["ErrorType"].endswith("InvalidOrderError")
    assert problem in execution["Error"]["ErrorMessage"]
    order = order_for_execution(dynamodb_client, local_stack.table, arn, with_callback=False)
    assert order["status"] == "invalid"
    assert problem in order["validationErrors"]
    assert "callbackId" not in order


def test_replay_runs_each_side_effect_once(lambda_client, dynamodb_client, local_stack):
    arn = order_start(lambda_client, customerName="Replay Corp")
    order = order_for_execution(dynamodb_client, local_stack.table, arn)
    _decide(lambda_client, order["callbackId"], True)
    execution_wait(lambda_client, arn)

    events = history(lambda_client, arn)
    invocations = [e for e in events if e["EventType"] == "InvocationCompleted"]
    assert len(invocations) >= 2, "the handler was replayed after the callback"
    # One order item for this execution, one notification, each step started once.
    pages = dynamodb_client.get_paginator("scan").paginate(
        TableName=local_stack.table,
        FilterExpression="executionArn = :a",
        ExpressionAttributeValues={":a": {"S": arn}},
    )
    matching = [item for page in pages for item in page["Items"]]
    assert len(matching) == 1
    stored = order_get(dynamodb_client, local_stack.table, order["orderId"])
    assert len(stored["notifications"]) == 1
    started = [e["Name"] for e in events if e["EventType"] == "StepStarted"]
    assert sorted(started) == sorted(
        ["create_order", "validate_order", "store_callback", "process_order", "send_notification"]
    )


def test_valid_order_constant_is_valid():
    from functions.order_approval.validation import order_problems

    assert order_problems({**VALID_ORDER, "amount": "1249.90"}) == []


def test_callback_failure_without_error_data_keeps_the_sdk_type(lambda_client, dynamodb_client, local_stack):
    arn = order_start(lambda_client)
    order = order_for_execution(dynamodb_client, local_stack.table, arn)
    lambda_client.send_durable_execution_callback_failure(
        CallbackId=order["callbackId"], Error={"ErrorType": "Whatever", "ErrorMessage": "no"}
    )
    execution_wait(lambda_client, arn)
    stored = order_get(dynamodb_client, local_stack.table, order["orderId"])
    observed = (stored["status"], stored["failureType"], stored["failureMessage"])
    assert observed == ("failed", "CallbackExternalError", "no")


def test_the_decision_id_and_the_folded_requester_are_recorded(lambda_client, dynamodb_client, local_stack):
    """requestedByKey (NFKC + casefold) is what the dashboard's claim condition compares; decisionId (the
    dashboard's claim token) says whose decision the workflow got, on the order and in the result."""
    arn = order_start(lambda_client, requestedBy="  \uff23arol@Example.COM ")  # a fullwidth C
    order = order_for_execution(dynamodb_client, local_stack.table, arn)
    assert order["requestedByKey"] == "carol@example.com"
    _decide(lambda_client, order["callbackId"], True, "fine", decision_id="d" * 32)
    execution = execution_wait(lambda_client, arn)
    assert json.loads(execution["Result"])["decisionId"] == "d" * 32
    assert order_get(dynamodb_client, local_stack.table, order["orderId"])["decisionId"] == "d" * 32
