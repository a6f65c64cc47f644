"""The orders table's shape, and creating it where the dashboard owns the table (local mode and tests).

In production the table comes from template.yaml (SAM) and the IAM policy does not allow CreateTable:
only `bootstrap_local` and the test fixtures call `orders_table_create`.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from approvals.orders_table import STATUS_INDEX, OrdersTableUnavailable
from core.aws import aws_client

ATTRIBUTE_DEFINITIONS = [
    {"AttributeName": "orderId", "AttributeType": "S"},
    {"AttributeName": "status", "AttributeType": "S"},
    {"AttributeName": "createdAt", "AttributeType": "S"},
]
KEY_SCHEMA = [{"AttributeName": "orderId", "KeyType": "HASH"}]
STATUS_INDEX_SCHEMA = {
    "IndexName": STATUS_INDEX,
    "KeySchema": [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "createdAt", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "ALL"},
}


def orders_table_create() -> bool:
    """Create the orders table with its status/createdAt index. Returns False if it already exists."""
    client = aws_client("dynamodb")
    try:
        client.create_table(
            TableName=settings.ORDERS_TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=ATTRIBUTE_DEFINITIONS,
            KeySchema=KEY_SCHEMA,
            GlobalSecondaryIndexes=[STATUS_INDEX_SCHEMA],
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceInUseException":
            return False
        raise OrdersTableUnavailable(str(error)) from error
    except BotoCoreError as error:
        raise OrdersTableUnavailable(str(error)) from error
    client.get_waiter("table_exists").wait(TableName=settings.ORDERS_TABLE, WaiterConfig={"Delay": 1})
    return True
