"""The local Lambda gateway answers like the Lambda API, through a real boto3 client."""

import json
import subprocess
import sys
import uuid

import boto3
import pytest
from botocore.config import Config

from devstack import services
from devstack.paths import PROJECT_DIR
from tests.localstack import TEST_REGION
from tests.orders import VALID_ORDER, execution_wait


@pytest.fixture(scope="module")
def own_gateway(local_stack, tmp_path_factory):
    """A second gateway with extra plain handlers, in front of the session's emulator."""
    port = services.free_port()
    log = open(tmp_path_factory.mktemp("gw") / "gateway.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "functions.gateway",
            "--port",
            str(port),
            "--emulator",
            local_stack.emulator_url,
            "--function",
            "Echo=tests.functions.gateway_handlers:echo,plain",
            "--function",
            "Boom=tests.functions.gateway_handlers:boom,plain",
            "--function",
            "Broken=tests.functions.no_such_module:handler,plain",
        ],
        cwd=PROJECT_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    services.wait_for_http(f"{url}/health", process=process)
    client = boto3.client(
        "lambda",
        endpoint_url=url,
        region_name=TEST_REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}),
    )
    yield client
    process.terminate()
    process.wait(timeout=10)


def test_unknown_function_is_a_lambda_shaped_404(lambda_client):
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as caught:
        lambda_client.invoke(FunctionName="NoSuchFunction", Payload=b"{}")
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "Function not found: arn:aws:lambda:" in error["Error"]["Message"]
    assert error["Error"]["Message"].endswith(":function:NoSuchFunction")


def test_malformed_payload_is_rejected_and_nothing_starts(lambda_client):
    with pytest.raises(lambda_client.exceptions.InvalidRequestContentException) as caught:
        lambda_client.invoke(FunctionName="OrderApproval", Payload=b"{not json")
    assert "Could not parse request body into json" in caught.value.response["Error"]["Message"]


def test_invoke_by_arn_and_qualifier_starts_a_durable_execution(lambda_client):
    name = f"by-arn-{uuid.uuid4().hex[:8]}"
    response = lambda_client.invoke(
        FunctionName="arn:aws:lambda:us-east-1:123456789012:function:OrderApproval:$LATEST",
        DurableExecutionName=name,
        Payload=json.dumps({**VALID_ORDER, "amount": -1}).encode(),
    )
    assert response["StatusCode"] == 200
    arn = response["DurableExecutionArn"]
    assert json.loads(response["Payload"].read()) == {"DurableExecutionArn": arn}
    described = execution_wait(lambda_client, arn)
    assert described["DurableExecutionName"] == name
    assert described["Status"] == "FAILED"  # amount -1 is invalid


def test_durable_api_requests_are_proxied_to_the_emulator(lambda_client):
    with pytest.raises(lambda_client.exceptions.ClientError) as caught:
        lambda_client.get_durable_execution(DurableExecutionArn="not-an-execution")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 404)
    listed = lambda_client.list_durable_executions_by_function(FunctionName="OrderApproval")
    assert "DurableExecutions" in listed


def test_plain_handler_runs_in_process(own_gateway):
    response = own_gateway.invoke(FunctionName="Echo", Payload=b'{"hello": "world"}')
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    body = json.loads(response["Payload"].read())
    assert body["echo"] == {"hello": "world"} and body["function"] == "Echo" and body["requestId"]


def test_raising_handler_gives_a_function_error_and_the_gateway_keeps_serving(own_gateway):
    response = own_gateway.invoke(FunctionName="Boom", Payload=b"{}")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "the handler exploded on purpose"
    assert error["stackTrace"]
    # Still serving:
    assert own_gateway.invoke(FunctionName="Echo", Payload=b"{}")["StatusCode"] == 200


def test_handler_that_cannot_be_loaded_is_reported(own_gateway):
    with pytest.raises(own_gateway.exceptions.ClientError) as caught:
        own_gateway.invoke(FunctionName="Broken", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "InvalidRuntimeException"
    assert own_gateway.invoke(FunctionName="Echo", Payload=b"{}")["StatusCode"] == 200


def test_oversized_payload_is_refused(own_gateway):
    with pytest.raises(own_gateway.exceptions.ClientError) as caught:
        own_gateway.invoke(FunctionName="Echo", Payload=b'"' + b"x" * (6 * 1024 * 1024 + 10) + b'"')
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_function_spec_parsing():
    from functions.registry import function_spec_parse

    spec = function_spec_parse("Name=pkg.mod:fn,timeout=60,retention=3")
    assert (spec.name, spec.handler_path, spec.execution_timeout, spec.retention_days, spec.durable) == (
        "Name",
        "pkg.mod:fn",
        60,
        3,
        True,
    )
    assert function_spec_parse("P=m:f,plain").durable is False
    for bad in ("nohandler", "=m:f", "N=m:f,colour=red"):
        with pytest.raises(ValueError):
            function_spec_parse(bad)
