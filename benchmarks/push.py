"""Live push benchmark: orders whose approval callbacks are answered outside the console (boto3, straight to
the Lambda API), and the time until the console shows each resumed execution; push+poll vs poll-only, in
one run on the real local stack.

    python -m benchmarks push                  # 50 orders per mode
    python -m benchmarks push --orders 20

The console runs as it does in production, in one child process on a throw-away database (var/ is untouched):
its WSGI app serves the ingest endpoints on a local port (the functions' push plugin and the gateway's
EventBridge events report there), and a sync thread runs `functions_sync` every SYNC_INTERVAL_SECONDS, as the
beat and its workers would. Poll-only runs first, with the console refusing every report (a wrong
INGEST_TOKEN), so it sees changes by polling alone; then push+poll, with the token right.

Before the callbacks are answered, the held executions are put in their long-run state, as after an hour on
an approval, instead of waiting that hour: the real planner's schedule from a backoff at its cap (poll-only
executions due at a random point of the next POLL_BACKOFF_CAP_SECONDS, pushing ones of the next
POLL_PUSHED_IDLE_SECONDS), and started before the listing window (the list call no longer returns them).
"Shown" means what the execution page renders: the execution ended, or the callback no longer the current activity.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import threading
import time
from datetime import timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from benchmarks._child import child_run

ANSWER_SPACING_SECONDS = 0.3


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def _console_serve(port: int) -> _ThreadingWSGIServer:
    from django.core.wsgi import get_wsgi_application

    server = make_server(
        "127.0.0.1", port, get_wsgi_application(), server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="console", daemon=True).start()
    return server


def _sync_loop(stop: threading.Event) -> None:
    from django.conf import settings
    from django.db import close_old_connections

    from executions.sync import functions_sync

    while not stop.is_set():
        began = time.monotonic()
        try:
            functions_sync()
        except Exception as error:  # the benchmark goes on, as the beat would
            print(f"  sync cycle failed: {type(error).__name__}: {error}", flush=True)
        finally:
            close_old_connections()
        stop.wait(max(0.0, settings.SYNC_INTERVAL_SECONDS - (time.monotonic() - began)))


def _shows_resumed(execution_id: int) -> bool:
    from executions.models import Execution

    execution = Execution.objects.only("status", "activity").get(pk=execution_id)
    return execution.status != "RUNNING" or (execution.activity or {}).get("kind") != "callback"


def _held_steady(execution_ids: list[int], *, spread_seconds: float) -> None:
    """Put held executions in their long-run schedule: due at a random point of the next `spread_seconds`."""
    from django.conf import settings
    from django.utils import timezone

    from executions.models import Execution

    now = timezone.now()
    for execution_id in execution_ids:
        Execution.objects.filter(pk=execution_id).update(
            next_poll_at=now + timedelta(seconds=random.uniform(0, spread_seconds)),
            poll_backoff_seconds=settings.POLL_BACKOFF_CAP_SECONDS,
        )


def _listing_past(*, held_since) -> None:
    """The held orders started long ago, beyond the listing window: the list call no longer returns them (only
    executions started after the watermark minus SYNC_LIST_OVERLAP_SECONDS), so their end is seen by a history
    fetch or a report, as for an order that has waited an hour."""
    from django.conf import settings

    from executions.models import MonitoredFunction

    settings.SYNC_LIST_OVERLAP_SECONDS = 0
    MonitoredFunction.objects.update(list_watermark=held_since)


def _phase(*, mode: str, orders: int, lambda_client, dynamodb_client, table: str, token: str) -> dict:
    from django.conf import settings
    from django.utils import timezone

    from executions import durable_api
    from executions.models import Execution
    from tests.orders import VALID_ORDER

    settings.INGEST_TOKEN = token if mode == "push+poll" else f"not-{token}"
    arns = []
    for n in range(orders):
        payload = {**VALID_ORDER, "customerName": f"Bench {mode} {n}"}
        response = lambda_client.invoke(
            FunctionName="OrderApproval", InvocationType="Event", Payload=json.dumps(payload).encode()
        )
        arns.append(response["DurableExecutionArn"])

    deadline = time.monotonic() + 180
    while True:  # every order held on its callback, as the console sees it
        held = dict(
            Execution.objects.filter(arn__in=arns, status="RUNNING", activity__kind="callback").values_list("arn", "pk")
        )
        if len(held) == len(arns):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{mode}: only {len(held)} of {len(arns)} orders reached their callback")
        time.sleep(0.5)
    callback_ids = {}
    scan = dynamodb_client.get_paginator("scan").paginate(TableName=table)
    for page in scan:
        for item in page["Items"]:
            arn = item.get("executionArn", {}).get("S")
            if arn in held and "callbackId" in item:
                callback_ids[arn] = item["callbackId"]["S"]
    spread = settings.POLL_PUSHED_IDLE_SECONDS if mode == "push+poll" else settings.POLL_BACKOFF_CAP_SECONDS
    _held_steady(list(held.values()), spread_seconds=spread)
    _listing_past(held_since=timezone.now())

    calls_before = durable_api.api_calls_made()
    answered: dict[int, float] = {}
    shown: dict[int, float] = {}

    def answer_all():
        for arn, execution_id in held.items():
            lambda_client.send_durable_execution_callback_success(
                CallbackId=callback_ids[arn], Result=json.dumps({"approved": True, "decidedBy": "bench"}).encode()
            )
            answered[execution_id] = time.monotonic()
            time.sleep(ANSWER_SPACING_SECONDS)

    answering = threading.Thread(target=answer_all, name="answer")
    answering.start()
    deadline = time.monotonic() + spread + 120
    while len(shown) < len(held) and time.monotonic() < deadline:
        for execution_id, at in list(answered.items()):
            if execution_id not in shown and _shows_resumed(execution_id):
                shown[execution_id] = time.monotonic() - at
        time.sleep(0.05)
    answering.join()
    delays = sorted(shown.values())
    return {
        "mode": mode,
        "orders": len(held),
        "shown": len(delays),
        "p50": statistics.median(delays) if delays else None,
        "p95": delays[math.ceil(len(delays) * 0.95) - 1] if delays else None,
        "max": delays[-1] if delays else None,
        "api_calls": durable_api.api_calls_made() - calls_before,
    }


def _live(orders: int) -> list[dict]:
    import boto3
    import django
    from botocore.config import Config

    django.setup()
    import logging

    from django.conf import settings
    from django.core.management import call_command

    from approvals.orders_schema import orders_table_create
    from core.aws import aws_clients_reset
    from devstack.services import free_port
    from tests.localstack import TEST_REGION, local_stack_start, push_env

    call_command("migrate", verbosity=0)
    logging.getLogger("django.request").setLevel(logging.ERROR)  # poll-only refuses every report (401) on purpose
    token = "bench-ingest-token"
    port = free_port()
    console = _console_serve(port)
    stack = local_stack_start(
        log_dir=Path(os.environ["VAR_DIR"]) / "logs", gateway_env=push_env(f"http://127.0.0.1:{port}", token)
    )
    stop = threading.Event()
    syncing = threading.Thread(target=_sync_loop, args=(stop,), name="sync", daemon=True)
    try:
        settings.LAMBDA_ENDPOINT_URL = stack.gateway_url
        settings.DYNAMODB_ENDPOINT_URL = stack.dynamodb_url
        settings.AWS_LOCAL_CREDENTIALS = True
        settings.AWS_REGION = TEST_REGION
        settings.ORDERS_TABLE = stack.table
        settings.DURABLE_FUNCTIONS = ["OrderApproval"]
        aws_clients_reset()
        orders_table_create()
        credentials = {"region_name": TEST_REGION, "aws_access_key_id": "local", "aws_secret_access_key": "local"}
        config = Config(retries={"max_attempts": 5, "mode": "standard"})
        lambda_client = boto3.client("lambda", endpoint_url=stack.gateway_url, config=config, **credentials)
        dynamodb_client = boto3.client("dynamodb", endpoint_url=stack.dynamodb_url, **credentials)
        syncing.start()
        return [
            _phase(
                mode=mode,
                orders=orders,
                lambda_client=lambda_client,
                dynamodb_client=dynamodb_client,
                table=stack.table,
                token=token,
            )
            for mode in ("poll-only", "push+poll")
        ]
    finally:
        stop.set()
        if syncing.is_alive():  # its cycle in progress ends before the stack goes away
            syncing.join(timeout=60)
        console.shutdown()
        stack.stop()


def live_report(orders: int) -> None:
    results = child_run(["-c", f"import json, benchmarks.push as b; print(json.dumps(b._live({orders})))"])
    print(f"  {orders} orders per mode, callbacks answered through boto3 every {ANSWER_SPACING_SECONDS} s")
    print(f"  {'mode':10s} {'shown':>7s} {'p50 s':>8s} {'p95 s':>8s} {'max s':>8s} {'API calls':>10s}")
    for row in results:
        print(
            f"  {row['mode']:10s} {row['shown']:>3d}/{row['orders']:<3d} {row['p50'] or 0:8.2f} "
            f"{row['p95'] or 0:8.2f} {row['max'] or 0:8.2f} {row['api_calls']:10d}"
        )
    poll, push = results
    if poll["p95"] and push["p95"]:
        print(f"  push+poll p95 is {poll['p95'] / push['p95']:.1f}x faster; goal p95 < 3 s: "
              f"{'pass' if push['p95'] < 3 and push['shown'] == push['orders'] else 'FAIL'}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks push", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=50)
    args = parser.parse_args(argv)
    live_report(args.orders)


if __name__ == "__main__":
    main()
