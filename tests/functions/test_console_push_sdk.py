"""durable_console_push inside real durable executions: the SDK's in-process runner
(aws_durable_execution_sdk_python_testing.DurableFunctionTestRunner) runs a workflow with a retried step, a wait,
a callback, a child context, a map and a parallel, the plugin enabled through the entry point
(DURABLE_EXECUTION_PLUGINS) or explicitly, and a real HTTP receiver on loopback. No local stack needed."""

from __future__ import annotations

import json
import time

import durable_console_push
import pytest
from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration, StepConfig
from aws_durable_execution_sdk_python.execution import InvocationStatus
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner, StepOperation
from durable_console_push.events import status_rank

from tests.receivers import http_receiver_running
from tests.unit.test_console_push_sender import closed_port_url

# The runner hands the callback's bytes (b'"yes"') back as text.
EXPECTED = {"flaky": {"attempt": 3}, "answer": '"yes"', "nested": 8, "squares": [1, 4, 9], "branches": ["a", "b"]}


class FlakyError(Exception):
    pass


def flaky(step: StepContext) -> dict:
    if step.attempt < 3:
        raise FlakyError(f"attempt {step.attempt} fails")
    return {"attempt": step.attempt}


def nested(child: DurableContext) -> int:
    return child.step(lambda _: 1, name="outer_step") + child.step(lambda _: 7, name="inner_step")


def square(child: DurableContext, item: int, index: int, items) -> int:
    return child.step(lambda _: item * item, name=f"square_{index}")


def branch_a(child: DurableContext) -> str:
    return child.step(lambda _: "a", name="branch_a_step")


def branch_b(child: DurableContext) -> str:
    return child.step(lambda _: "b", name="branch_b_step")


def workflow(event: dict, context: DurableContext) -> dict:
    retries = create_retry_strategy(
        RetryStrategyConfig(max_attempts=3, initial_delay=Duration.from_seconds(1), backoff_rate=1.0)
    )
    attempts = context.step(flaky, name="flaky", config=StepConfig(retry_strategy=retries))
    context.wait(Duration.from_seconds(5), name="pause")
    callback = context.create_callback(name="approval", config=CallbackConfig(timeout=Duration.from_seconds(60)))
    answer = callback.result()
    total = context.run_in_child_context(nested, name="nested")
    squares = context.map([1, 2, 3], square, name="squares")
    branches = context.parallel([branch_a, branch_b], name="fan_out")
    return {
        "flaky": attempts,
        "answer": answer,
        "nested": total,
        "squares": squares.get_results(),
        "branches": branches.get_results(),
    }


@pytest.fixture
def push_env(monkeypatch):
    """The plugin's variables for a receiver; the process-wide factory re-reads them for each test."""

    def configure(url: str, *, flush_seconds: float = 1.5, registration: str = "environment") -> None:
        monkeypatch.setenv("DURABLE_CONSOLE_PUSH_URL", url)
        monkeypatch.setenv("DURABLE_CONSOLE_PUSH_TOKEN", "ingest-token")
        monkeypatch.setenv("DURABLE_CONSOLE_PUSH_FLUSH_SECONDS", str(flush_seconds))
        if registration in ("environment", "both"):
            monkeypatch.setenv("DURABLE_EXECUTION_PLUGINS", "durable-console")
        else:
            monkeypatch.delenv("DURABLE_EXECUTION_PLUGINS", raising=False)
        durable_console_push.factory.reset()

    yield configure
    durable_console_push.factory.reset()


def run_workflow(registration: str):
    """Decorate now (the SDK loads plugins at decoration), run to completion answering the callback."""
    explicit = [durable_console_push.factory] if registration in ("explicit", "both") else None
    handler = durable_execution(workflow, plugins=explicit)
    with DurableFunctionTestRunner(handler, poll_interval=0.05) as runner:
        arn = runner.run_async(input="{}")
        callback_id = runner.wait_for_callback(arn, name="approval", timeout=60)
        runner.send_callback_success(callback_id, result=b'"yes"')
        return arn, runner.wait_for_result(arn, timeout=60)


def best_reports(received: list[dict]) -> dict[str, dict]:
    """What the receiver keeps: per operation, the report with the highest version (the first of equals)."""
    best: dict[str, dict] = {}
    for event in received:
        if event["kind"] != "operation":
            continue
        kept = best.get(event["operation_id"])
        if kept is None or event["version"] > kept["version"]:
            best[event["operation_id"]] = event
    return best


@pytest.mark.parametrize("registration", ["environment", "explicit", "both"])
def test_every_operation_is_reported_with_the_versions_of_its_final_state(push_env, registration):
    with http_receiver_running() as receiver:
        push_env(receiver.url, registration=registration)
        arn, result = run_workflow(registration)
        assert result.status is InvocationStatus.SUCCEEDED
        assert json.loads(result.result) == EXPECTED

        received = receiver.events()  # complete: the last invocation's end hook flushed
        assert {request.headers["authorization"] for request in receiver.requests} == {"Bearer ingest-token"}
        assert {event["execution_arn"] for event in received} == {arn}

        # One start, one snapshot and one end per invocation, in order: registered once even when "both".
        phases = [e.get("phase", "snapshot") for e in received if e["kind"] in ("invocation", "snapshot")]
        invocations = phases.count("start")
        assert invocations >= 4  # two retries of the step, the wait and the callback suspend it
        assert phases == ["start", "snapshot", "end"] * invocations
        ends = [e for e in received if e.get("phase") == "end"]
        assert [e["status"] for e in ends] == ["PENDING"] * (invocations - 1) + ["SUCCEEDED"]
        assert [e["first_invocation"] for e in received if e.get("phase") == "start"] == [True] + [False] * (
            invocations - 1
        )

        # What the receiver keeps per operation is the operation's final state, for every kind.
        best = best_reports(received)
        operations = result.get_all_operations()
        assert len(operations) >= 17
        for operation in operations:
            report = best[operation.operation_id]
            attempt = operation.attempt if isinstance(operation, StepOperation) else 0
            assert report["version"] == [attempt, status_rank(operation.status.value)], operation.name
            assert report["status"] == operation.status.value == "SUCCEEDED"
            assert (report["name"], report["sub_type"]) == (operation.name, operation.sub_type)
        by_name = {report["name"]: report for report in best.values()}
        kinds = {name: (by_name[name]["type"], by_name[name]["sub_type"]) for name in by_name}
        assert kinds["flaky"] == ("STEP", "Step")
        assert kinds["pause"] == ("WAIT", "Wait")
        assert kinds["approval"] == ("CALLBACK", "Callback")
        assert kinds["nested"] == ("CONTEXT", "RunInChildContext")
        assert kinds["squares"] == ("CONTEXT", "Map")
        assert kinds["fan_out"] == ("CONTEXT", "Parallel")
        assert by_name["flaky"]["version"] == [3, 9] and by_name["flaky"]["result_size"] > 0
        assert by_name["inner_step"]["parent_id"] == by_name["nested"]["operation_id"]
        children = [r for r in best.values() if r["parent_id"] == by_name["squares"]["operation_id"]]
        assert sorted(r["sub_type"] for r in children) == ["MapIteration"] * 3
        children = [r for r in best.values() if r["parent_id"] == by_name["fan_out"]["operation_id"]]
        assert sorted(r["sub_type"] for r in children) == ["ParallelBranch"] * 2

        # The retries: each failed attempt reported pending with its error, never the payload.
        flaky_reports = [e for e in received if e["kind"] == "operation" and e["name"] == "flaky"]
        pending = [e for e in flaky_reports if e["status"] == "PENDING"]
        assert [e["version"] for e in pending] == [[1, 2], [2, 2]]
        assert [e["error_message"] for e in pending] == ["attempt 1 fails", "attempt 2 fails"]
        assert all(e["error_type"].endswith("FlakyError") for e in pending)  # the SDK qualifies the name
        assert all("result" not in e for e in received)

        # Snapshots: each invocation starts with the ids and versions of what exists; the last one sees the
        # wait and the callback done. The elapsed wait is also reported as updated while suspended.
        snapshots = [e for e in received if e["kind"] == "snapshot"]
        assert [version for _, *version in snapshots[0]["operations"]] == [[0, 1]]  # the execution itself
        last = {op_id: version for op_id, *version in snapshots[-1]["operations"]}
        assert last[by_name["pause"]["operation_id"]] == [0, 9]
        assert last[by_name["approval"]["operation_id"]] == [0, 9]
        assert last[by_name["flaky"]["operation_id"]] == [3, 9]
        updated = [e for e in received if e["kind"] == "operation" and e["hook"] == "invocation_start"]
        assert {"pause", "flaky"} <= {e["name"] for e in updated}


@pytest.mark.parametrize("console", ["error", "hang", "down"])
def test_a_console_that_fails_or_hangs_changes_nothing_and_costs_at_most_the_flush_bound(push_env, console):
    with http_receiver_running(status=500, hang=console == "hang") as receiver:
        push_env(closed_port_url() if console == "down" else receiver.url, flush_seconds=0.3)
        started = time.monotonic()
        _, result = run_workflow("environment")
        elapsed = time.monotonic() - started
        receiver.release()
    assert result.status is InvocationStatus.SUCCEEDED
    assert json.loads(result.result) == EXPECTED
    # about six invocations, each waiting at most 0.3 s for its reports (loose: a behavioural bound)
    assert elapsed < 6 * 0.3 + 5
    assert bool(receiver.requests) is (console != "down")
