"""The AWS-semantics double itself: ordering, markers and filters as botocore's model states them."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.config import Config

from tests.localstack import TEST_REGION


@pytest.fixture
def client(aws_double):
    return boto3.client(
        "lambda",
        endpoint_url=aws_double.url,
        region_name=TEST_REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_2500_executions_page_newest_first_and_reverse_oldest_first(aws_double, client):
    arns = aws_double.seed("Big", 2500)
    pages = list(
        client.get_paginator("list_durable_executions_by_function").paginate(
            FunctionName="Big", PaginationConfig={"PageSize": 1000}
        )
    )
    assert [len(page["DurableExecutions"]) for page in pages] == [1000, 1000, 500]
    listed = [item["DurableExecutionArn"] for page in pages for item in page["DurableExecutions"]]
    assert listed == arns[::-1]
    oldest_first = [
        item["DurableExecutionArn"]
        for page in client.get_paginator("list_durable_executions_by_function").paginate(
            FunctionName="Big", ReverseOrder=True
        )
        for item in page["DurableExecutions"]
    ]
    assert oldest_first == arns
    default_page = client.list_durable_executions_by_function(FunctionName="Big")
    assert len(default_page["DurableExecutions"]) == 100 and default_page["NextMarker"]


def test_filters_and_bounds(aws_double, client):
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()
    arns = aws_double.seed("F", 30, start=start, statuses=("SUCCEEDED", "RUNNING", "FAILED"))
    running = client.list_durable_executions_by_function(FunctionName="F", Statuses=["RUNNING"])
    assert {item["Status"] for item in running["DurableExecutions"]} == {"RUNNING"}
    assert len(running["DurableExecutions"]) == 10
    window = client.list_durable_executions_by_function(
        FunctionName="F",
        StartedAfter=dt.datetime.fromtimestamp(start + 9, dt.UTC),
        StartedBefore=dt.datetime.fromtimestamp(start + 13, dt.UTC),
    )
    assert [item["DurableExecutionArn"] for item in window["DurableExecutions"]] == arns[12:9:-1]
    named = client.list_durable_executions_by_function(FunctionName="F", DurableExecutionName="seed-00007")
    assert [item["DurableExecutionArn"] for item in named["DurableExecutions"]] == [arns[7]]
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.list_durable_executions_by_function(FunctionName="F", MaxItems=1001)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_durable_executions_by_function(FunctionName="Nope")


def test_history_order_and_admin_calls(aws_double, client):
    (arn,) = aws_double.seed("G", 1, statuses=("RUNNING",))
    client.pause_durable_execution(DurableExecutionArn=arn)
    assert client.get_durable_execution(DurableExecutionArn=arn)["Status"] == "PAUSED"
    client.resume_durable_execution(DurableExecutionArn=arn)
    with pytest.raises(client.exceptions.ResourceConflictException):
        client.delete_durable_execution(DurableExecutionArn=arn)
    client.stop_durable_execution(DurableExecutionArn=arn)
    forward = client.get_durable_execution_history(DurableExecutionArn=arn, MaxItems=2)
    assert [e["EventType"] for e in forward["Events"]] == ["ExecutionStarted", "ExecutionPaused"]
    rest = client.get_durable_execution_history(DurableExecutionArn=arn, Marker=forward["NextMarker"])
    assert [e["EventType"] for e in rest["Events"]] == ["ExecutionResumed", "ExecutionStopped"]
    newest = client.get_durable_execution_history(DurableExecutionArn=arn, ReverseOrder=True, MaxItems=1)
    assert newest["Events"][0]["EventType"] == "ExecutionStopped"
    client.delete_durable_execution(DurableExecutionArn=arn)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_durable_execution(DurableExecutionArn=arn)
