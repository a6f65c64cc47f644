"""The gateway's EventBridge events with the real emulator: a small stack of its own (the emulator and a gateway
with LOCAL_EVENTBRIDGE_URL pointing at a receiver in this process; no DynamoDB), real durable functions that
succeed, fail, are stopped and time out, and the events the receiver gets for each: RUNNING, then the end, once,
with the AWS-shaped ARNs the gateway serves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid

import boto3
import pytest
from botocore.config import Config

from devstack import services
from devstack.paths import PROJECT_DIR
from tests.conftest import wait_until
from tests.localstack import TEST_REGION
from tests.receivers import http_receiver_running

pytestmark = pytest.mark.slow

TOKEN = "live-eventbridge-token"
_SYNC = "tests.workflows.sync_workflows"
FUNCTIONS = [
    f"EbQuick={_SYNC}:quick_handler,timeout=60",
    f"EbFail={_SYNC}:retries_handler,timeout=60",
    f"EbHold={_SYNC}:hold_handler,timeout=60",
    f"EbTimeout={_SYNC}:hold_handler,timeout=2",
]


def _spawn(name: str, command: list[str], log_dir, env: dict) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("eventbridge-live")
    emulator_port, gateway_port = services.free_port(), services.free_port()
    gateway_url, emulator_url = f"http://127.0.0.1:{gateway_port}", f"http://127.0.0.1:{emulator_port}"
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_DIR),
        "AWS_ENDPOINT_URL_LAMBDA": gateway_url,  # the handlers' checkpoints go through this gateway
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": TEST_REGION,
        "AWS_DEFAULT_REGION": TEST_REGION,
    }
    env.pop("DURABLE_EXECUTION_PLUGINS", None)  # this test is about the gateway's own events only
    processes = []
    with http_receiver_running() as receiver:
        try:
            processes.append(
                _spawn(
                    "emulator",
                    services.emulator_command(
                        port=emulator_port, gateway_url=gateway_url, store_path=None, functions=FUNCTIONS
                    ),
                    log_dir,
                    env,
                )
            )
            gateway_env = {
                **env,
                "LOCAL_EVENTBRIDGE_URL": f"{receiver.base_url}/ingest/eventbridge",
                "LOCAL_EVENTBRIDGE_TOKEN": TOKEN,
            }
            processes.append(
                _spawn(
                    "gateway",
                    services.gateway_command(port=gateway_port, emulator_url=emulator_url, functions=FUNCTIONS),
                    log_dir,
                    gateway_env,
                )
            )
            services.wait_for_http(f"{emulator_url}/health", process=processes[0])
            services.wait_for_http(f"{gateway_url}/health", process=processes[1])
            client = boto3.client(
                "lambda",
                endpoint_url=gateway_url,
                region_name=TEST_REGION,
                aws_access_key_id="local",
                aws_secret_access_key="local",
                config=Config(retries={"max_attempts": 2}),
            )
            yield client, receiver
        finally:
            for process in reversed(processes):
                _stop(process)


def _events_for(receiver, arn: str) -> list[dict]:
    events = [json.loads(request.body) for request in receiver.received("/ingest/eventbridge")]
    return [event for event in events if event["detail"]["durableExecutionArn"] == arn]


def _statuses(receiver, arn: str) -> list[str]:
    return [event["detail"]["status"] for event in _events_for(receiver, arn)]


def _start(client, function: str, payload: dict) -> tuple[str, str]:
    name = f"{function.lower()}-{uuid.uuid4().hex[:8]}"
    response = client.invoke(
        FunctionName=function, InvocationType="Event", DurableExecutionName=name, Payload=json.dumps(payload)
    )
    return response["DurableExecutionArn"], name


def _wait_for_statuses(receiver, arn: str, expected: list[str], timeout: float = 60) -> list[dict]:
    wait_until(lambda: len(_statuses(receiver, arn)) >= len(expected), timeout=timeout, message=f"{expected}")
    assert _statuses(receiver, arn) == expected
    return _events_for(receiver, arn)


def test_a_succeeded_execution_sends_running_then_succeeded_once(stack):
    client, receiver = stack
    arn, name = _start(client, "EbQuick", {"n": 3})
    running, succeeded = _wait_for_statuses(receiver, arn, ["RUNNING", "SUCCEEDED"])
    described = client.get_durable_execution(DurableExecutionArn=arn)
    assert described["Status"] == "SUCCEEDED"
    for event in (running, succeeded):
        assert event["source"] == "aws.lambda" and event["detail-type"] == "Durable Execution Status Change"
        assert event["account"] == "123456789012" and event["region"] == TEST_REGION
        detail = event["detail"]
        assert detail["durableExecutionName"] == name
        assert detail["functionArn"] == f"arn:aws:lambda:{TEST_REGION}:123456789012:function:EbQuick:$LATEST"
        assert detail["startTimestamp"] == described["StartTimestamp"].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert "endTimestamp" not in running["detail"]
    assert succeeded["detail"]["endTimestamp"] == described["EndTimestamp"].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    # Reading it again (get, list) reports nothing more: each status once.
    client.list_durable_executions_by_function(FunctionName="EbQuick")
    client.get_durable_execution(DurableExecutionArn=arn)
    (request,) = [r for r in receiver.received("/ingest/eventbridge") if json.loads(r.body)["id"] == running["id"]]
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert _statuses(receiver, arn) == ["RUNNING", "SUCCEEDED"]


def test_a_failed_execution_sends_failed(stack):
    client, receiver = stack
    arn, _ = _start(client, "EbFail", {"fail_until": 3})  # the step fails all three attempts
    _wait_for_statuses(receiver, arn, ["RUNNING", "FAILED"])
    assert client.get_durable_execution(DurableExecutionArn=arn)["Status"] == "FAILED"


def test_a_stopped_execution_sends_stopped(stack):
    client, receiver = stack
    arn, _ = _start(client, "EbHold", {"timeout": 600})
    _wait_for_statuses(receiver, arn, ["RUNNING"])
    client.stop_durable_execution(DurableExecutionArn=arn)
    _, stopped = _wait_for_statuses(receiver, arn, ["RUNNING", "STOPPED"], timeout=20)
    assert stopped["detail"]["endTimestamp"]
    client.stop_durable_execution(DurableExecutionArn=arn)  # stopping it again reports nothing more
    client.get_durable_execution(DurableExecutionArn=arn)
    assert _statuses(receiver, arn) == ["RUNNING", "STOPPED"]


def test_an_emulator_timeout_is_sent_once_the_gateway_sees_it(stack):
    client, receiver = stack
    arn, _ = _start(client, "EbTimeout", {"timeout": 600})  # the execution times out after 2 s
    _wait_for_statuses(receiver, arn, ["RUNNING"])
    # The gateway sees the timeout when the console reads the execution (get or list), as the poller does.
    wait_until(
        lambda: client.get_durable_execution(DurableExecutionArn=arn)["Status"] == "TIMED_OUT",
        timeout=30,
        interval=0.5,
        message="the emulator's timeout",
    )
    _wait_for_statuses(receiver, arn, ["RUNNING", "TIMED_OUT"], timeout=10)
