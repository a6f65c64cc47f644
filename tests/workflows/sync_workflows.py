"""Durable functions that exercise every operation kind the poller must store and derive.

Registered on the test gateway and emulator through `tests/workflows/registry.py`.
Each handler reads flags from its input so one function covers success and failure paths.
"""

from __future__ import annotations

from aws_durable_execution_sdk_python import (
    CallbackError,
    DurableContext,
    StepContext,
    durable_execution,
)
from aws_durable_execution_sdk_python.config import (
    CallbackConfig,
    CompletionConfig,
    Duration,
    MapConfig,
    ParallelConfig,
    StepConfig,
    WaitForCallbackConfig,
)
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy


class FlakyError(Exception):
    """A failure the retry strategy retries."""


class ItemError(Exception):
    """A map item or parallel branch that fails on purpose."""


def _retries(max_attempts: int):
    return StepConfig(
        retry_strategy=create_retry_strategy(
            RetryStrategyConfig(max_attempts=max_attempts, initial_delay=Duration.from_seconds(1), backoff_rate=1.0)
        )
    )


@durable_execution
def retries_handler(event: dict, context: DurableContext) -> dict:
    """`fail_until`: attempts that fail before success (>= 3 means the step fails for good)."""
    fail_until = int(event.get("fail_until", 2))

    def flaky(step_context: StepContext) -> dict:
        if step_context.attempt <= fail_until:
            raise FlakyError(f"attempt {step_context.attempt} failed")
        return {"attempt": step_context.attempt}

    first = context.step(lambda _: {"ok": True}, name="prepare")
    outcome = context.step(flaky, name="flaky", config=_retries(3))
    return {"prepare": first, "flaky": outcome}


@durable_execution
def waits_handler(event: dict, context: DurableContext) -> dict:
    context.wait(Duration.from_seconds(int(event.get("first", 1))), name="short_pause")
    value = context.step(lambda _: 21 * 2, name="compute")
    context.wait(Duration.from_seconds(int(event.get("second", 2))))
    return {"value": value}


@durable_execution
def callbacks_handler(event: dict, context: DurableContext) -> dict:
    """create_callback then wait_for_callback; the test answers both (or lets them time out)."""
    timeout = int(event.get("timeout", 60))
    outcome: dict = {}
    callback = context.create_callback(
        name="approval",
        config=CallbackConfig(timeout=Duration.from_seconds(timeout), heartbeat_timeout=Duration.from_seconds(600)),
    )
    context.step(lambda _: {"callbackId": callback.callback_id}, name="publish_callback")
    try:
        outcome["approval"] = callback.result()
    except CallbackError as error:
        outcome["approval_error"] = type(error).__name__

    def submit(callback_id: str, _context) -> None:
        # The test reads the callback id from the history; nothing to send here.
        return None

    try:
        outcome["review"] = context.wait_for_callback(
            submit, name="review", config=WaitForCallbackConfig(timeout=Duration.from_seconds(timeout))
        )
    except CallbackError as error:
        outcome["review_error"] = type(error).__name__
    return outcome


@durable_execution
def concurrency_handler(event: dict, context: DurableContext) -> dict:
    """Nested child contexts, a map and a parallel, each with one tolerated failure."""

    def inner(child: DurableContext) -> int:
        return child.step(lambda _: 7, name="inner_step")

    def outer(child: DurableContext) -> int:
        base = child.step(lambda _: 1, name="outer_step")
        return base + child.run_in_child_context(inner, name="inner_context")

    nested = context.run_in_child_context(outer, name="outer_context")

    def square(child: DurableContext, item: int, index: int, items) -> int:
        def compute(_):
            if item == 3:
                raise ItemError("three is not allowed")
            return item * item

        return child.step(compute, name=f"square_{index}", config=_retries(1))

    squares = context.map(
        [1, 2, 3, 4],
        square,
        name="squares",
        config=MapConfig(max_concurrency=2, completion_config=CompletionConfig(tolerated_failure_count=1)),
    )

    def branch_ok(child: DurableContext) -> str:
        return child.step(lambda _: "ok", name="branch_step")

    def branch_fails(child: DurableContext) -> str:
        def boom(_):
            raise ItemError("branch failed")

        return child.step(boom, name="branch_boom", config=_retries(1))

    def branch_waits(child: DurableContext) -> str:
        child.wait(Duration.from_seconds(1), name="branch_wait")
        return "waited"

    branches = context.parallel(
        [branch_ok, branch_fails, branch_waits],
        name="fan_out",
        config=ParallelConfig(completion_config=CompletionConfig(tolerated_failure_count=1)),
    )
    return {
        "nested": nested,
        "squares": squares.get_results(),
        "squares_failed": squares.failure_count,
        "branches": branches.get_results(),
        "branches_failed": branches.failure_count,
    }


@durable_execution
def invoke_target_handler(event: dict, context: DurableContext) -> dict:
    doubled = context.step(lambda _: int(event.get("n", 0)) * 2, name="double")
    return {"doubled": doubled}


@durable_execution
def invoke_handler(event: dict, context: DurableContext) -> dict:
    result = context.invoke("SyncInvokeTarget", {"n": int(event.get("n", 5))}, name="call_target")
    return {"target": result}


@durable_execution
def large_handler(event: dict, context: DurableContext) -> dict:
    size = int(event.get("size", 300_000))
    blob = context.step(lambda _: {"blob": "x" * size}, name="big_result")
    return {"length": len(blob["blob"])}


@durable_execution
def quick_handler(event: dict, context: DurableContext) -> dict:
    return context.step(lambda _: {"n": event.get("n", 0)}, name="only_step")


@durable_execution
def hold_handler(event: dict, context: DurableContext) -> dict:
    """Suspends on a callback until answered or timed out (a long-running execution)."""
    callback = context.create_callback(
        name="hold", config=CallbackConfig(timeout=Duration.from_seconds(int(event.get("timeout", 3600))))
    )
    return {"answer": callback.result()}


_failed_first_invocation: set[str] = set()


@durable_execution
def _flaky_invocation_body(event: dict, context: DurableContext) -> dict:
    return context.step(lambda _: {"ok": True}, name="after_retry")


def flaky_invocation_handler(event, context):
    """The first invocation of each execution fails outside the SDK (a function error); the retry works."""
    arn = event.get("DurableExecutionArn", "") if isinstance(event, dict) else ""
    if arn not in _failed_first_invocation:
        _failed_first_invocation.add(arn)
        raise RuntimeError("the first invocation fails on purpose")
    return _flaky_invocation_body(event, context)
