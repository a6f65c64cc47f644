"""Helpers to drive the real order-approval workflow in tests."""

from __future__ import annotations

import json

from tests.conftest import wait_until

VALID_ORDER = {
    "customerName": "Northwind Traders",
    "amount": 1249.90,
    "items": [{"sku": "LAP-14", "description": "14in laptop", "quantity": 1, "unitPrice": 1249.90}],
    "requestedBy": "carol@example.com",
}


def order_start(lambda_client, order: dict | None = None, **overrides) -> str:
    payload = {**(order or VALID_ORDER), **overrides}
    response = lambda_client.invoke(
        FunctionName="OrderApproval", InvocationType="Event", Payload=json.dumps(payload).encode()
    )
    assert response["StatusCode"] == 202
    return response["DurableExecutionArn"]


def order_for_execution(
    dynamodb_client, table: str, arn: str, *, with_callback: bool = True, timeout: float = 30
) -> dict:
    """Wait until the execution's order item exists (and holds its callbackId); return it as plain dict."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()

    def find():
        pages = dynamodb_client.get_paginator("scan").paginate(
            TableName=table, FilterExpression="executionArn = :a", ExpressionAttributeValues={":a": {"S": arn}}
        )
        for page in pages:
            for item in page["Items"]:
                plain = {k: deserializer.deserialize(v) for k, v in item.items()}
                if not with_callback or "callbackId" in plain:
                    return plain
        return None

    return wait_until(find, timeout=timeout, message=f"order of {arn}")


def order_get(dynamodb_client, table: str, order_id: str) -> dict:
    from boto3.dynamodb.types import TypeDeserializer

    item = dynamodb_client.get_item(TableName=table, Key={"orderId": {"S": order_id}}, ConsistentRead=True)["Item"]
    return {k: TypeDeserializer().deserialize(v) for k, v in item.items()}


def execution_wait(lambda_client, arn: str, timeout: float = 30) -> dict:
    """Wait until the execution leaves RUNNING; return GetDurableExecution's answer."""

    def done():
        described = lambda_client.get_durable_execution(DurableExecutionArn=arn)
        return described if described["Status"] != "RUNNING" else None

    return wait_until(done, timeout=timeout, interval=0.2, message=f"execution {arn} to finish")


def history(lambda_client, arn: str) -> list[dict]:
    events, marker = [], None
    while True:
        kwargs = {"DurableExecutionArn": arn, "MaxItems": 1000}
        if marker:
            kwargs["Marker"] = marker
        page = lambda_client.get_durable_execution_history(**kwargs)
        events.extend(page["Events"])
        marker = page.get("NextMarker")
        if not marker:
            return events
