"""Fixtures for the approvals tests: real orders from the real workflow, and private tables for paging."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from core.aws import aws_clients_reset
from tests.orders import order_for_execution, order_start


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the pending-count badge is cached
    yield
    cache.clear()


@pytest.fixture
def fast_retries(settings):
    settings.APPROVALS_CALLBACK_BACKOFF_SECONDS = 0.01
    return settings


@pytest.fixture
def pending_order(aws, lambda_client, dynamodb_client):
    """Start the real OrderApproval workflow; return its order once the callback is stored."""

    def start(**overrides) -> dict:
        arn = order_start(lambda_client, **overrides)
        return order_for_execution(dynamodb_client, aws.table, arn)

    return start


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def order_item(*, created: datetime, timeout: int = 3600, **fields) -> dict:
    """A DynamoDB-JSON order like the workflow writes (for tests that only read the table)."""
    order_id = fields.pop("order_id", None) or str(uuid.uuid4())
    item = {
        "orderId": {"S": order_id},
        "customerName": {"S": fields.pop("customer", "Contoso")},
        "amount": {"N": str(fields.pop("amount", "100.00"))},
        "items": {"L": [{"M": {"sku": {"S": "SKU-1"}, "quantity": {"N": "1"}}}]},
        "requestedBy": {"S": fields.pop("requested_by", "carol@example.com")},
        "status": {"S": fields.pop("status", "pending_approval")},
        "createdAt": {"S": iso(created)},
        "executionArn": {"S": fields.pop("arn", f"arn:local:{order_id}")},
        "callbackId": {"S": fields.pop("callback_id", "cb-" + order_id)},
        "approvalDeadline": {"S": iso(created + timedelta(seconds=timeout))},
        "approvalTimeoutSeconds": {"N": str(timeout)},
    }
    assert not fields, fields
    return item


@pytest.fixture
def private_table(aws, settings, dynamodb_client):
    """A table of this test's own (so counts and pages are exact), made with the app's own create function."""
    from approvals.orders_schema import orders_table_create

    settings.ORDERS_TABLE = "Orders-" + uuid.uuid4().hex[:10]
    aws_clients_reset()
    orders_table_create()

    def put(items: list[dict]) -> None:
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            dynamodb_client.batch_write_item(RequestItems={settings.ORDERS_TABLE: batch})

    yield put
    dynamodb_client.delete_table(TableName=settings.ORDERS_TABLE)
