"""Gateway to the DynamoDB orders table: reads, the conditional decision claim, and claim-guarded writes.

Nothing else in the dashboard reads or writes orders. Returns dataclasses (`Order`, built by
`approvals/order_records.py`) and turns botocore errors into domain exceptions. Creating the table
(local mode and tests only) is `approvals/orders_schema.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from approvals.order_records import (
    Order,
    OrderStatus,
    item_plain,
    order_from_item,
    order_from_plain,
    order_summary_from_item,
)
from core.aws import aws_client, aws_endpoint_label
from functions.order_approval.validation import identity_key

STATUS_INDEX = "status-createdAt-index"


class OrdersTableUnavailable(Exception):
    """DynamoDB could not be reached (or the table is missing)."""

    def __init__(self, detail: str):
        self.table = settings.ORDERS_TABLE
        self.endpoint = aws_endpoint_label("dynamodb")
        super().__init__(f"DynamoDB table {self.table} at {self.endpoint} is unavailable: {detail}")


def _client():
    return aws_client("dynamodb")


def orders_table_ping() -> None:
    """Raise OrdersTableUnavailable unless the table and its status index answer.

    A one-item Query, not DescribeTable: the production IAM policy (deploy/iam-policy.json) allows only
    GetItem, Query and UpdateItem.
    """
    try:
        aws_client("dynamodb", max_attempts=1, read_timeout=3).query(**_status_query(OrderStatus.PENDING), Limit=1)
    except (ClientError, BotoCoreError) as error:
        raise OrdersTableUnavailable(str(error)) from error


# --- orders: reads -------------------------------------------------------------------

_deserializer = TypeDeserializer()
_serializer = TypeSerializer()


class OrderNotFound(Exception):
    """No order with this id."""


class OrderAlreadyDecided(Exception):
    """The conditional claim lost: the order is no longer pending (or is not ready)."""

    def __init__(self, order: Order | None):
        self.order = order
        super().__init__(f"order is {order.status if order else 'gone'}")


class ClaimLost(Exception):
    """A claim-guarded write found the order no longer held by this claim."""


@dataclass(frozen=True)
class OrdersPage:
    orders: list[Order]
    next_key: dict | None  # LastEvaluatedKey as plain strings, or None on the last page
    consumed_capacity: float


def _raise_unavailable(error: Exception):
    if isinstance(error, ClientError) and error.response["Error"]["Code"] == "ValidationException":
        raise ValueError(error.response["Error"].get("Message", "invalid request")) from error
    raise OrdersTableUnavailable(str(error)) from error


def _status_query(status: str) -> dict:
    """The Query of one status on the status/createdAt index (shared by pages and counts)."""
    return {
        "TableName": settings.ORDERS_TABLE,
        "IndexName": STATUS_INDEX,
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": status}},
    }


def _page_query(kwargs: dict) -> OrdersPage:
    """Run one Query of the status index and read its page (summaries, the next start key, the capacity used)."""
    try:
        response = _client().query(**kwargs)
    except (ClientError, BotoCoreError) as error:
        _raise_unavailable(error)
    last = response.get("LastEvaluatedKey")
    return OrdersPage(
        orders=[order_summary_from_item(item) for item in response.get("Items", [])],
        next_key={key: _deserializer.deserialize(value) for key, value in last.items()} if last else None,
        consumed_capacity=float(response.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0)),
    )


def orders_page(
    *, status: str = OrderStatus.PENDING, limit: int, start_key: dict | None = None, created_after: str | None = None
) -> OrdersPage:
    """One page of orders in `status`, oldest first, through the status/createdAt index (a Query, never a Scan).

    `start_key` is a previous page's `next_key` ({"orderId", "status", "createdAt"} strings). `created_after` (the
    workflow's createdAt text, e.g. "2026-01-31T12:00:00.000Z") keeps only orders created at or after it (a key
    condition on createdAt). Raises ValueError when DynamoDB rejects the start key.
    """
    kwargs = {**_status_query(status), "ScanIndexForward": True, "Limit": limit, "ReturnConsumedCapacity": "TOTAL"}
    if created_after:
        kwargs["KeyConditionExpression"] += " AND createdAt >= :after"
        kwargs["ExpressionAttributeValues"] = {**kwargs["ExpressionAttributeValues"], ":after": {"S": created_after}}
    if start_key:
        kwargs["ExclusiveStartKey"] = {key: {"S": value} for key, value in start_key.items()}
    return _page_query(kwargs)


def orders_index_page(
    *,
    status: str,
    limit: int,
    start_key: dict | None = None,
    created_from: str = "",
    created_to: str = "",
    order_id_prefix: str = "",
) -> OrdersPage:
    """One page of orders in `status`, NEWEST first, through the status/createdAt index (a Query, never a Scan).

    `created_from`/`created_to` (createdAt text, inclusive) become a key condition; `order_id_prefix` a
    begins_with filter (DynamoDB applies filters after `limit` items are read: a page may hold fewer, even none,
    and `next_key` says whether to go on). Raises ValueError when DynamoDB rejects the start key.
    """
    kwargs = {**_status_query(status), "ScanIndexForward": False, "Limit": limit, "ReturnConsumedCapacity": "TOTAL"}
    values = dict(kwargs["ExpressionAttributeValues"])
    if created_from and created_to:
        kwargs["KeyConditionExpression"] += " AND createdAt BETWEEN :from AND :to"
        values.update({":from": {"S": created_from}, ":to": {"S": created_to}})
    elif created_from:
        kwargs["KeyConditionExpression"] += " AND createdAt >= :from"
        values[":from"] = {"S": created_from}
    elif created_to:
        kwargs["KeyConditionExpression"] += " AND createdAt <= :to"
        values[":to"] = {"S": created_to}
    if order_id_prefix:
        kwargs["FilterExpression"] = "begins_with(orderId, :prefix)"
        values[":prefix"] = {"S": order_id_prefix}
    kwargs["ExpressionAttributeValues"] = values
    if start_key:
        kwargs["ExclusiveStartKey"] = {key: {"S": value} for key, value in start_key.items()}
    return _page_query(kwargs)


def orders_count(*, status: str = OrderStatus.PENDING) -> int:
    """How many orders are in `status` (a COUNT Query on the index, paginated)."""
    total, start = 0, None
    while True:
        kwargs = {**_status_query(status), "Select": "COUNT"}
        if start:
            kwargs["ExclusiveStartKey"] = start
        try:
            response = aws_client("dynamodb", max_attempts=1, read_timeout=3).query(**kwargs)
        except (ClientError, BotoCoreError) as error:
            _raise_unavailable(error)
        total += response.get("Count", 0)
        start = response.get("LastEvaluatedKey")
        if not start:
            return total


def order_get(*, order_id: str) -> Order:
    """The order (strongly consistent read); OrderNotFound when it does not exist."""
    try:
        response = _client().get_item(
            TableName=settings.ORDERS_TABLE, Key={"orderId": {"S": order_id}}, ConsistentRead=True
        )
    except (ClientError, BotoCoreError) as error:
        _raise_unavailable(error)
    if "Item" not in response:
        raise OrderNotFound(order_id)
    return order_from_item(response["Item"])


# --- orders: the decision claim ------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """An order held in `deciding` by one claim: the one this request just won, or one found by `orders_deciding`."""

    order: Order
    token: str
    callback_id: str = field(repr=False)


def order_claim(
    *, order_id: str, token: str, claimed_by: str, decision: str, comment: str, claimed_at: str, not_by: list[str]
) -> Claim:
    """Atomically move the order from pending_approval to deciding, recording who claims it and what for.

    Only one caller can win. The order must have its callback stored, and must not have been requested by any
    identity in `not_by` (four-eyes, enforced by DynamoDB too): the order's folded `requestedByKey` is compared
    with the folded identities, and orders written before the key existed compare `requestedBy` exactly.
    Raises OrderAlreadyDecided (with the current order) or OrderNotFound.
    """
    values = {
        ":pending": OrderStatus.PENDING,
        ":deciding": OrderStatus.DECIDING,
        ":token": token,
        ":by": claimed_by,
        ":decision": decision,
        ":comment": comment,
        ":at": claimed_at,
    }
    keys = [key for key in dict.fromkeys(identity_key(name) for name in not_by) if key][:99]
    raw = list(dict.fromkeys(not_by))
    condition = "#s = :pending AND attribute_exists(callbackId)"
    if keys:
        values.update({f":k{index}": key for index, key in enumerate(keys)})
        listed = ", ".join(f":k{index}" for index in range(len(keys)))
        condition += f" AND (attribute_not_exists(requestedByKey) OR NOT (requestedByKey IN ({listed})))"
    for index, identity in enumerate(raw):
        values[f":me{index}"] = identity
        condition += f" AND requestedBy <> :me{index}"
    try:
        response = _client().update_item(
            TableName=settings.ORDERS_TABLE,
            Key={"orderId": {"S": order_id}},
            UpdateExpression=(
                "SET #s = :deciding, claimToken = :token, claimedBy = :by, claimDecision = :decision, "
                "claimComment = :comment, claimedAt = :at"
            ),
            ConditionExpression=condition,
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={key: _serializer.serialize(value) for key, value in values.items()},
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            try:
                current = order_get(order_id=order_id)
            except OrderNotFound:
                raise OrderNotFound(order_id) from error
            raise OrderAlreadyDecided(current) from error
        _raise_unavailable(error)
    except BotoCoreError as error:
        _raise_unavailable(error)
    plain = item_plain(response["Attributes"])
    return Claim(order=order_from_plain(plain), token=token, callback_id=str(plain["callbackId"]))


def _claim_guarded_update(*, order_id: str, token: str, update: str, values: dict, remove_claim: bool) -> None:
    if remove_claim:
        update += " REMOVE claimToken, claimedBy, claimDecision, claimComment, claimedAt"
    values = {**values, ":deciding": OrderStatus.DECIDING, ":token": token}
    try:
        _client().update_item(
            TableName=settings.ORDERS_TABLE,
            Key={"orderId": {"S": order_id}},
            UpdateExpression=update,
            ConditionExpression="#s = :deciding AND claimToken = :token",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={key: _serializer.serialize(value) for key, value in values.items()},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise ClaimLost(order_id) from error
        _raise_unavailable(error)
    except BotoCoreError as error:
        _raise_unavailable(error)


def order_claim_release(*, order_id: str, token: str, error: str) -> None:
    """Give the order back to the inbox (pending_approval) after a decision could not be sent."""
    _claim_guarded_update(
        order_id=order_id,
        token=token,
        update="SET #s = :pending, lastDecisionError = :error",
        values={":pending": OrderStatus.PENDING, ":error": error[:1000]},
        remove_claim=True,
    )


def order_claim_finish(*, order_id: str, token: str, status: str, attributes: dict | None = None) -> None:
    """Move a claimed order to its final `status` (the durable function writes the same status when it resumes)."""
    values = {":final": status}
    sets = ["#s = :final"]
    for index, (name, value) in enumerate((attributes or {}).items()):
        values[f":a{index}"] = value
        sets.append(f"{name} = :a{index}")
    _claim_guarded_update(
        order_id=order_id, token=token, update="SET " + ", ".join(sets), values=values, remove_claim=False
    )


def orders_deciding(*, limit: int) -> list[Claim]:
    """Orders currently claimed (status deciding), oldest first, with what is needed to resolve the claim."""
    try:
        response = _client().query(**_status_query(OrderStatus.DECIDING), ScanIndexForward=True, Limit=limit)
    except (ClientError, BotoCoreError) as error:
        _raise_unavailable(error)
    claims = []
    for item in response.get("Items", []):
        plain = item_plain(item)
        token, callback_id = str(plain.get("claimToken", "")), str(plain.get("callbackId", ""))
        claims.append(Claim(order=order_from_plain(plain), token=token, callback_id=callback_id))
    return claims


def order_claim_read(*, order_id: str) -> Claim:
    """The order with its current claim token and callback id (token empty when not claimed), for the reconciler."""
    try:
        response = _client().get_item(
            TableName=settings.ORDERS_TABLE, Key={"orderId": {"S": order_id}}, ConsistentRead=True
        )
    except (ClientError, BotoCoreError) as error:
        _raise_unavailable(error)
    if "Item" not in response:
        raise OrderNotFound(order_id)
    plain = item_plain(response["Item"])
    return Claim(
        order=order_from_plain(plain),
        token=str(plain.get("claimToken", "")),
        callback_id=str(plain.get("callbackId", "")),
    )
