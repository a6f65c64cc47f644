"""The local gateway names answered callbacks in the invocation input's UpdatedOperationIds, as AWS does for every
operation completed outside the function while it was suspended (the emulator names waits and chained invokes
only). The SDK hands them to instrumentation plugins as `InvocationStartInfo.updated_operations`."""

from functions.gateway.invoke import Invoker
from functions.gateway.state import GatewayState


def invocation(*operations: dict, updated: list[str] | None = None) -> dict:
    event = {"DurableExecutionArn": "emu-1", "InitialExecutionState": {"Operations": list(operations)}}
    if updated is not None:
        event["UpdatedOperationIds"] = updated
    return event


def op(operation_id: str, kind: str, status: str) -> dict:
    return {"Id": operation_id, "Type": kind, "Status": status}


def updated_ids(invoker: Invoker, event: dict) -> list[str]:
    invoker._updated_callbacks_add("emu-1", event)
    return event.get("UpdatedOperationIds", [])


def test_an_answered_callback_is_named_once_beside_what_the_emulator_named():
    invoker = Invoker(region="us-east-1", emulator=None, arns=None, state=GatewayState())
    open_callback = invocation(op("e", "EXECUTION", "STARTED"), op("cb", "CALLBACK", "STARTED"))
    assert updated_ids(invoker, open_callback) == []

    answered = invocation(op("cb", "CALLBACK", "SUCCEEDED"), op("w", "WAIT", "SUCCEEDED"), updated=["w"])
    assert updated_ids(invoker, answered) == ["w", "cb"]

    # A later invocation (a retry, the next resume) is not told again; a second callback that failed is.
    later = invocation(op("cb", "CALLBACK", "SUCCEEDED"), op("cb2", "CALLBACK", "TIMED_OUT"))
    assert updated_ids(invoker, later) == ["cb2"]


def test_steps_and_open_callbacks_are_not_named():
    invoker = Invoker(region="us-east-1", emulator=None, arns=None, state=GatewayState())
    event = invocation(op("s", "STEP", "SUCCEEDED"), op("cb", "CALLBACK", "STARTED"), op("x", "CALLBACK", None))
    assert updated_ids(invoker, event) == []
    assert "UpdatedOperationIds" not in event
