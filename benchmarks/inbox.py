"""Approvals inbox benchmark: render time vs the raw DynamoDB Query, and read capacity per page view.

    python -m benchmarks inbox
    python -m benchmarks.inbox --orders 10000 --pending 1000

Starts its own DynamoDB Local (in memory, free port) and runs Django in a child process on a
throw-away SQLite database (var/ is untouched). The orders table is filled with BatchWriteItem:
first `pending` pending orders among `orders / 5` in total, then up to `orders` in total (the extra
ones decided), so the same pages are measured at two table sizes in one run. Reports, per size:
the median time of the raw `Query` of the first inbox page (boto3, status index, Limit = page size),
the median time to render that page through Django (GET /approvals/, authenticated approver), their
ratio, and the read capacity units that one page view consumed (ReturnConsumedCapacity).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

from benchmarks._child import child_run

TABLE = "BenchOrders"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:OrderApproval"


def _interleaved_medians(fns: list, repeat: int) -> list[float]:
    """Median seconds of each function, timed in turns so that load changes hit all of them alike."""
    for fn in fns:
        fn()  # warm-up
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for index, fn in enumerate(fns):
            began = time.perf_counter()
            fn()
            times[index].append(time.perf_counter() - began)
    return [statistics.median(series) for series in times]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _item(index: int, status: str, now: datetime) -> dict:
    created = now - timedelta(seconds=20_000 - index % 20_000)
    order_id = str(uuid.UUID(int=index + 1))
    lines = [
        {
            "M": {
                "sku": {"S": f"SKU-{index % 97}-{n}"},
                "description": {"S": "Office supplies, assorted"},
                "quantity": {"N": str(1 + n)},
                "unitPrice": {"N": "19.90"},
            }
        }
        for n in range(3)
    ]
    item = {
        "orderId": {"S": order_id},
        "customerName": {"S": f"Customer {index % 431}"},
        "amount": {"N": f"{100 + index % 9000}.50"},
        "items": {"L": lines},
        "requestedBy": {"S": f"requester{index % 37}@example.com"},
        "status": {"S": status},
        "createdAt": {"S": _iso(created)},
        "executionArn": {"S": f"{FUNCTION_ARN}:$LATEST/durable-execution/{order_id}"},
        "callbackId": {"S": "cb-" + uuid.uuid4().hex * 3},
        "approvalDeadline": {"S": _iso(created + timedelta(hours=24))},
        "approvalTimeoutSeconds": {"N": "86400"},
    }
    if status != "pending_approval":
        item.update({"decidedBy": {"S": "someone"}, "decidedAt": {"S": _iso(now)}, "decisionComment": {"S": "ok"}})
    return item


def _batch_write(client, items: list[dict]) -> None:
    for start in range(0, len(items), 25):
        request = {TABLE: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or None


def _child(orders: int, pending: int, repeat: int) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.test import Client

    from approvals.orders_schema import orders_table_create
    from approvals.orders_table import STATUS_INDEX
    from core.aws import aws_client
    from core.roles import APPROVERS

    call_command("migrate", verbosity=0)
    orders_table_create()
    user = User.objects.create_user("bench-approver")
    user.groups.add(Group.objects.get(name=APPROVERS))
    web = Client()
    web.force_login(user)
    dynamodb = aws_client("dynamodb")
    page_size = settings.APPROVALS_PAGE_SIZE
    now = datetime.now(UTC)

    def raw_query():
        return dynamodb.query(
            TableName=TABLE,
            IndexName=STATUS_INDEX,
            KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "pending_approval"}},
            ScanIndexForward=True,
            Limit=page_size,
            ReturnConsumedCapacity="TOTAL",
        )

    consumed: list[float] = []  # every DynamoDB call a page view makes, as the client saw it

    def record(parsed=None, **_):
        consumed.append(float((parsed or {}).get("ConsumedCapacity", {}).get("CapacityUnits", 0.0)))

    # Page views read through the interactive client (shorter timeouts, one attempt): another cached client, so
    # the recorder goes on every DynamoDB client the console makes.
    from core import aws

    make_client, recorded = aws._cached_client, set()

    def recording_client(*args):
        client = make_client(*args)
        if args[0] == "dynamodb" and id(client) not in recorded:
            recorded.add(id(client))
            for operation in ("Query", "Scan", "GetItem", "BatchGetItem"):
                client.meta.events.register(f"after-call.dynamodb.{operation}", record)
        return client

    aws._cached_client = recording_client

    def render(params=None):
        response = web.get("/approvals/", params or {})
        assert response.status_code == 200, response.status_code
        return response

    def page_view_capacity(params=None) -> tuple[float, int]:
        consumed.clear()
        render(params)
        return sum(consumed), len(consumed)

    sizes = [max(pending, orders // 5), orders]
    written, results = 0, []
    decided_statuses = ["approved", "rejected", "expired", "approved", "approved"]
    for size in sizes:
        batch = []
        for index in range(written, size):
            status = "pending_approval" if index < pending else decided_statuses[index % len(decided_statuses)]
            batch.append(_item(index, status, now))
        began = time.perf_counter()
        _batch_write(dynamodb, batch)
        load_seconds = time.perf_counter() - began
        written = size
        html = render().content.decode()
        assert html.count('class="inbox-row') == min(page_size, pending)
        next_cursor = html.split('rel="next" href="?cursor=')[1].split('"')[0]
        next_params = {"cursor": unquote(next_cursor)}
        query_s, render_s, later_s = _interleaved_medians([raw_query, render, lambda p=next_params: render(p)], repeat)
        page_rcu, page_calls = page_view_capacity()
        second_rcu, _ = page_view_capacity(next_params)
        results.append(
            {
                "table_items": size,
                "pending": pending,
                "page_size": page_size,
                "load_seconds": round(load_seconds, 1),
                "raw_query_ms": round(query_s * 1000, 2),
                "render_ms": round(render_s * 1000, 2),
                "second_page_render_ms": round(later_s * 1000, 2),
                "ratio": round(render_s / query_s, 2),
                "raw_query_rcu": raw_query()["ConsumedCapacity"]["CapacityUnits"],
                "page_view_rcu": page_rcu,
                "page_view_dynamodb_calls": page_calls,
                "second_page_view_rcu": second_rcu,
            }
        )
    return {"results": results}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--pending", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.child:
        print(json.dumps(_child(args.orders, args.pending, args.repeat)))
        return

    from devstack import services
    from devstack.paths import var_dir

    port = services.free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log = open(Path(tmp) / "dynamodb.log", "wb")  # noqa: SIM115 - closed below
        dynamodb = subprocess.Popen(
            services.dynamodb_command(var_dir(), port, None),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp,
            start_new_session=True,
        )
        try:
            services.wait_for_http(f"http://127.0.0.1:{port}", process=dynamodb)
            command = ["-m", "benchmarks.inbox", "--child", "--orders", str(args.orders), "--pending"]
            command += [str(args.pending), "--repeat", str(args.repeat)]
            env = {
                "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{port}",
                "ORDERS_TABLE": TABLE,
                "AWS_ACCESS_KEY_ID": "",
            }
            results = child_run(command, env=env)["results"]
        finally:
            dynamodb.terminate()
            dynamodb.wait(timeout=20)
            log.close()
    print(
        f"first inbox page ({results[0]['page_size']} orders), {results[0]['pending']:,} pending; "
        f"medians of {args.repeat} runs"
    )
    print(
        f"{'table items':>11} {'raw Query ms':>13} {'render ms':>10} {'render/Query':>13} "
        f"{'RCU Query':>10} {'RCU page':>9} {'RCU page 2':>11} {'page 2 ms':>10}"
    )
    for row in results:
        print(
            f"{row['table_items']:>11,} {row['raw_query_ms']:>13} {row['render_ms']:>10} {row['ratio']:>12}x "
            f"{row['raw_query_rcu']:>10} {row['page_view_rcu']:>9} {row['second_page_view_rcu']:>11} "
            f"{row['second_page_render_ms']:>10}"
        )
    constant = len({row["page_view_rcu"] for row in results}) == 1
    print(f"read capacity per page view is {'constant' if constant else 'NOT constant'} across table sizes")


if __name__ == "__main__":
    main(sys.argv[1:])
