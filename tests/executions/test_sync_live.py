"""Sync real executions of the test workflows from the emulator and compare with boto3's answers."""

from __future__ import annotations

import pytest

from executions.models import Execution, Invocation, Operation
from executions.sync import functions_sync
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


def test_waits(lambda_client):
    arn = workflow_run(lambda_client, "SyncWaits", {"first": 1, "second": 2})
    execution = synced(lambda_client, "SyncWaits", arn)
    assert_faithful(lambda_client, execution)
    waits = Operation.objects.filter(execution=execution, op_type="wait").order_by("first_event_id")
    assert [(w.name, w.wait_seconds, w.status) for w in waits] == [
        ("short_pause", 1, "SUCCEEDED"),
        ("", 2, "SUCCEEDED"),
    ]
    for wait in waits:
        assert abs((wait.wait_scheduled_end - wait.started_at).total_seconds() - wait.wait_seconds) < 0.1
        assert wait.ended_at >= wait.wait_scheduled_end
    compute = ops(execution)["compute"]
    assert (compute.result_preview, compute.result_size, compute.result_truncated) == ("42", 2, False)
    assert execution.result == {"value": 42}


def test_child_contexts_map_and_parallel_with_tolerated_failures(lambda_client):
    arn = workflow_run(lambda_client, "SyncConcurrency")
    execution = synced(lambda_client, "SyncConcurrency", arn)
    assert_faithful(lambda_client, execution)
    assert execution.status == "SUCCEEDED"
    assert execution.result["squares_failed"] == 1 and execution.result["branches_failed"] == 1
    by_name = ops(execution)
    outer, inner = by_name["outer_context"], by_name["inner_context"]
    assert (outer.op_type, outer.sub_type, outer.depth, outer.parent_id) == ("context", "RunInChildContext", 0, None)
    assert (inner.parent_id, inner.depth) == (outer.pk, 1)
    assert (by_name["inner_step"].parent_id, by_name["inner_step"].depth) == (inner.pk, 2)
    assert by_name["outer_step"].parent_id == outer.pk

    squares = by_name["squares"]
    assert (squares.sub_type, squares.status) == ("Map", "SUCCEEDED")
    iterations = Operation.objects.filter(parent=squares).order_by("name")
    assert [(i.sub_type, i.name, i.status) for i in iterations] == [
        ("MapIteration", "map-item-0", "SUCCEEDED"),
        ("MapIteration", "map-item-1", "SUCCEEDED"),
        ("MapIteration", "map-item-2", "FAILED"),
        ("MapIteration", "map-item-3", "SUCCEEDED"),
    ]
    failed_square = by_name["square_2"]
    assert (failed_square.status, failed_square.depth, failed_square.error_message) == (
        "FAILED",
        2,
        "three is not allowed",
    )
    assert failed_square.parent.name == "map-item-2"

    fan_out = by_name["fan_out"]
    branches = Operation.objects.filter(parent=fan_out).order_by("name")
    assert [(b.sub_type, b.status) for b in branches] == [
        ("ParallelBranch", "SUCCEEDED"),
        ("ParallelBranch", "FAILED"),
        ("ParallelBranch", "SUCCEEDED"),
    ]
    branch_wait = by_name["branch_wait"]
    assert (branch_wait.op_type, branch_wait.depth, branch_wait.parent.parent_id) == ("wait", 2, fan_out.pk)
    # The batch result is decoded from the SDK's typed envelope.
    assert '"status": "FAILED"' in squares.result_preview and '"t":' not in squares.result_preview
    assert execution.has_failures and not execution.needs_attention


def test_chained_invoke(lambda_client):
    arn = workflow_run(lambda_client, "SyncInvoke", {"n": 4})
    execution = synced(lambda_client, "SyncInvoke", arn)
    assert_faithful(lambda_client, execution)
    call = ops(execution)["call_target"]
    assert (call.op_type, call.sub_type, call.status) == ("chained_invoke", "ChainedInvoke", "SUCCEEDED")
    assert call.extra["function_name"] == "SyncInvokeTarget"
    assert call.extra["child_execution_arn"]
    assert call.result_preview == '{"doubled": 8}'
    # The invoked execution is an execution of its own function.
    child = synced(lambda_client, "SyncInvokeTarget", call.extra["child_execution_arn"])
    assert child.result == {"doubled": 8}


def test_large_payloads(lambda_client):
    arn = workflow_run(lambda_client, "SyncLarge", {"size": 400_000})
    execution = synced(lambda_client, "SyncLarge", arn)
    expected = assert_faithful(lambda_client, execution)
    big = ops(execution)["big_result"]
    raw = next(e for e in expected if e["EventType"] == "StepSucceeded")["StepSucceededDetails"]["Result"]["Payload"]
    assert big.result_size == len(raw) > 400_000
    assert len(big.result_preview) <= 4000 and big.result_preview.endswith("…")
    assert execution.result == {"length": 400_000}
