"""Gateway to the DynamoDB orders table. Nothing else in the dashboard talks to DynamoDB.

Returns plain dataclasses/dicts and turns botocore errors into domain exceptions.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from dashboard.aws import aws_client, aws_endpoint_label

STATUS_INDEX = "status-createdAt-index"


class OrdersTableUnavailable(Exception):
    """DynamoDB could not be reached (or the table is missing)."""

    def __init__(self, detail: str):
        self.table = settings.ORDERS_TABLE
        self.endpoint = aws_endpoint_label("dynamodb")
        super().__init__(f"DynamoDB table {self.table} at {self.endpoint} is unavailable: {detail}")


def _client():
    return aws_client("dynamodb")


def orders_table_create() -> bool:
    """Create the orders table with its status/createdAt index. Returns False if it already exists."""
    client = _client()
    try:
        client.create_table(
            TableName=settings.ORDERS_TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "orderId", "AttributeType": "S"},
                {"AttributeName": "status", "AttributeType": "S"},
                {"AttributeName": "createdAt", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": STATUS_INDEX,
                    "KeySchema": [
                        {"AttributeName": "status", "KeyType": "HASH"},
                        {"AttributeName": "createdAt", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceInUseException":
            return False
        raise OrdersTableUnavailable(str(error)) from error
    except BotoCoreError as error:
        raise OrdersTableUnavailable(str(error)) from error
    client.get_waiter("table_exists").wait(TableName=settings.ORDERS_TABLE, WaiterConfig={"Delay": 1})
    return True


def orders_table_ping() -> None:
    """Raise OrdersTableUnavailable unless the table answers."""
    try:
        aws_client("dynamodb", max_attempts=1, read_timeout=3).describe_table(TableName=settings.ORDERS_TABLE)
    except (ClientError, BotoCoreError) as error:
        raise OrdersTableUnavailable(str(error)) from error
