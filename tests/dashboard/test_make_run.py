"""`make run` itself: start the stack as the README says, wait for /healthz, sign in, stop with Ctrl-C;
start it again on the same data folder: it reuses what is there and keeps the data."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

from devstack import dynamodb_local
from devstack.paths import PROJECT_DIR, var_dir
from devstack.services import free_port, port_open, wait_for_http

pytestmark = pytest.mark.slow

PREFIXES = ("mail     ", "dynamodb ", "emulator ", "gateway  ", "worker   ", "beat     ", "web      ")


def _demo_mail(folder, timeout: float = 120) -> list[str]:
    """The .eml files the SMTP sink kept, once the approvers' announcements of the seeded orders are there (the
    beat task `notifications.check` runs every NOTIFY_CHECK_SECONDS)."""
    deadline = time.monotonic() + timeout
    while True:
        messages = [path.read_text(errors="replace") for path in sorted(folder.glob("*.eml"))]
        announced = [m for m in messages if "To: approver@example.com" in m and "/approvals/" in m]
        if len(announced) >= 2 or time.monotonic() > deadline:
            return messages
        time.sleep(1)


def _pushed(ports: dict, database: Path, timeout: float = 60) -> None:
    """A new order's execution reports itself: the push plugin in the gateway posts to the dashboard's ingest
    endpoint with the run's token, so the console knows the execution before any listing."""
    arn = boto3.client(
        "lambda",
        endpoint_url=f"http://127.0.0.1:{ports['LAMBDA_GATEWAY_PORT']}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    ).invoke(
        FunctionName="OrderApproval",
        InvocationType="Event",
        Payload=json.dumps({"customerName": "Pushed Ltd", "amount": 10, "items": [{"sku": "A", "quantity": 1}]}),
    )["DurableExecutionArn"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(database, timeout=10) as connection:
            row = connection.execute(
                "SELECT pushed_at FROM executions_execution WHERE arn = ? AND pushed_at IS NOT NULL", (arn,)
            ).fetchone()
        if row:
            return
        time.sleep(0.5)
    raise AssertionError(f"no report of {arn} reached the console")


def _make_run(env: dict, ports: dict, log_path, *, expect_seed: bool) -> str:
    """Start `make run`, wait until every process is up, stop it with Ctrl-C; return its output."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["make", "run"], cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{ports['DASHBOARD_PORT']}"
    prefixes = (*PREFIXES, "seed     ") if expect_seed else PREFIXES
    try:
        wait_for_http(f"{base}/healthz", timeout=180, process=process)
        deadline = time.monotonic() + 90
        while True:  # the web process answers before the banner; a loaded machine starts the worker late
            output = log_path.read_text(errors="replace")
            started = all(re.search(rf"^{prefix}\| ", output, re.MULTILINE) for prefix in prefixes)
            if ("Durable Console is up" in output and started) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
            health = json.load(response)
        assert health["status"] == "ok", health
        with urllib.request.urlopen(f"{base}/accounts/login/", timeout=10) as response:
            assert response.status == 200
            assert b"Sign in" in response.read()
        assert f"Durable Console is up: {base}/" in output
        assert "password: make-run-secret" in output
        # One log stream, a prefix per process.
        for prefix in prefixes:
            assert re.search(rf"^{prefix}\| ", output, re.MULTILINE), f"no {prefix.strip()} lines"
        pending = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{ports['DYNAMODB_LOCAL_PORT']}",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        ).query(
            TableName="Orders",
            IndexName="status-createdAt-index",
            KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "pending_approval"}},
            Select="COUNT",
        )["Count"]
        assert pending == 2, "the two seeded orders are pending (and kept across restarts)"
        if expect_seed:
            # The demo users receive the demo notifications through the real SMTP path, kept under var/mail/.
            messages = _demo_mail(Path(env["VAR_DIR"]) / "mail")
            to_approver = [m for m in messages if "To: approver@example.com" in m and "/approvals/" in m]
            assert len(to_approver) >= 2, f"{len(messages)} messages: {[m[:300] for m in messages]}"
            assert "callbackId" not in "".join(messages)
            assert re.search(r"^mail     \| mail from=\S+ to=approver@example.com", log_path.read_text(), re.MULTILINE)
            _pushed(ports, Path(env["VAR_DIR"]) / "dashboard.sqlite3")
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    time.sleep(1)
    still_open = [name for name, port in ports.items() if port_open(port)]
    assert still_open == [], f"ports still served after Ctrl-C: {still_open}\n{output[-2000:]}"
    return log_path.read_text(errors="replace")


def test_make_run_starts_everything_ctrl_c_stops_it_and_a_second_run_keeps_the_data(tmp_path):
    # Reuse the already downloaded DynamoDB Local instead of fetching it again.
    shared = var_dir() / "dynamodb-local"
    dynamodb_local.fetch(var_dir())
    data = tmp_path / "var"
    data.mkdir()
    (data / "dynamodb-local").symlink_to(shared)
    ports = {
        name: free_port()
        for name in (
            "DASHBOARD_PORT",
            "LAMBDA_GATEWAY_PORT",
            "DYNAMODB_LOCAL_PORT",
            "DURABLE_EMULATOR_PORT",
            "MAIL_SINK_PORT",
        )
    }
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "EMAIL_URL")
        and not k.startswith("AWS_")
    }
    env.update({name: str(port) for name, port in ports.items()})
    env.update({"VAR_DIR": str(data), "DEMO_PASSWORD": "make-run-secret", "SEED_ORDERS": "2"})

    first = _make_run(env, ports, tmp_path / "first.log", expect_seed=True)
    assert "table Orders: created" in first
    assert len(re.findall(r"^seed     \| \S+", first, re.MULTILINE)) == 2

    second = _make_run(env, ports, tmp_path / "second.log", expect_seed=False)
    assert "table Orders: already exists" in second
    assert "user approver (Approvers): kept" in second
    assert not re.search(r"^seed     \| ", second, re.MULTILINE), "a second start does not seed again"

    leftovers = subprocess.run(["pgrep", "-f", str(data)], capture_output=True, text=True).stdout.split()
    assert leftovers == [], f"processes left behind: {leftovers}"
