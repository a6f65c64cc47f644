"""Sync real executions of the test workflows from the emulator and compare with boto3's answers."""

from __future__ import annotations

import pytest

from executions.models import Execution, Invocation, Operation
from executions.sync import execution_history_sync, functions_sync
from tests.executions.sync_support import boto_history, stored_history, workflow_run

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def fast_budget(settings, aws):
    settings.DURABLE_API_MAX_RPS = 500


def synced(lambda_client, function_name: str, arn: str) -> Execution:
    functions_sync(function_name=function_name)
    execution = Execution.objects.get(arn=arn)
    assert execution.history_complete, execution.poll_reason
    return execution


def assert_faithful(lambda_client, execution: Execution) -> list[dict]:
    """Stored events equal boto3's one by one; one operation per operation id; one invocation per completion."""
    expected = boto_history(lambda_client, execution.arn)
    assert stored_history(execution) == expected
    operation_ids = {e["Id"] for e in expected if e.get("Id") and e["EventType"] != "InvocationCompleted"}
    assert set(Operation.objects.filter(execution=execution).values_list("operation_id", flat=True)) == operation_ids
    completions = [e for e in expected if e["EventType"] == "InvocationCompleted"]
    assert Invocation.objects.filter(execution=execution).count() == len(completions)
    assert execution.last_event_id == expected[-1]["EventId"]
    assert execution.next_poll_at is None
    return expected


def ops(execution: Execution) -> dict[str, Operation]:
    return {op.name: op for op in Operation.objects.filter(execution=execution).exclude(op_type="execution")}


def test_step_retries_then_success(lambda_client):
    arn = workflow_run(lambda_client, "SyncRetries", {"fail_until": 1})
    execution = synced(lambda_client, "SyncRetries", arn)
    assert_faithful(lambda_client, execution)
    assert execution.status == "SUCCEEDED"
    assert execution.input == {"fail_until": 1}
    assert execution.result == {"prepare": {"ok": True}, "flaky": {"attempt": 2}}
    flaky = ops(execution)["flaky"]
    assert (flaky.op_type, flaky.status, flaky.attempts) == ("step", "SUCCEEDED", 2)
    assert [a["status"] for a in flaky.attempt_history] == ["FAILED", "SUCCEEDED"]
    assert flaky.attempt_history[0]["error_type"].endswith("FlakyError")
    assert flaky.attempt_history[0]["next_delay_seconds"] == 1
    assert execution.has_failures  # a failed attempt, even if retried successfully
    assert not execution.needs_attention
    assert execution.activity is None


def test_step_retries_final_failure(lambda_client):
    arn = workflow_run(lambda_client, "SyncRetries", {"fail_until": 9})
    execution = synced(lambda_client, "SyncRetries", arn)
    assert_faithful(lambda_client, execution)
    assert execution.status == "FAILED"
    assert execution.error_type.endswith("StepError")
    assert execution.error_message == "attempt 3 failed"
    flaky = ops(execution)["flaky"]
    assert (flaky.status, flaky.attempts) == ("FAILED", 3)
    assert [a["attempt"] for a in flaky.attempt_history] == [1, 2, 3]
    assert all(a["status"] == "FAILED" for a in flaky.attempt_history)
    assert flaky.ended_at is not None
    codes = [reason["code"] for reason in execution.attention_reasons]
    assert codes == ["step_retries"]
    assert execution.attention_reasons[0]["operation_id"] == flaky.operation_id
    assert execution.needs_attention and execution.has_failures
