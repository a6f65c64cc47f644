"""The state of an order's callback, read from its execution's history (reads only: no writes, no heartbeats).

A decision that could not be sent, and a claim left behind by a crash, are resolved from what the history proves.
"""

from __future__ import annotations

from enum import StrEnum

from executions import services as executions
from executions.services import ExecutionStatus


class CallbackState(StrEnum):
    """How a callback stands, as far as the execution history proves it."""

    OPEN = "open"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CLOSED = "closed"  # the execution is over: nobody can answer the callback any more
    UNKNOWN = "unknown"  # not in the history


_CALLBACK_ENDS = {
    "CallbackSucceeded": CallbackState.SUCCEEDED,
    "CallbackFailed": CallbackState.FAILED,
    "CallbackTimedOut": CallbackState.TIMED_OUT,
}


def callback_state(*, execution_arn: str, callback_id: str) -> CallbackState:
    """open | succeeded | failed | timed_out | closed (execution over) | unknown (not in the history).

    Reads GetDurableExecutionHistory: CallbackStarted carries the callback id; the operation's
    later Callback* event tells how it ended. Raises DurableApiError when the API cannot answer.
    """
    operation_id, ended = None, None
    for page in executions.execution_history_pages(execution_arn=execution_arn):
        for event in page.events:
            kind = event.get("EventType", "")
            if kind == "CallbackStarted" and event.get("CallbackStartedDetails", {}).get("CallbackId") == callback_id:
                operation_id = event.get("Id")
            elif operation_id and event.get("Id") == operation_id:
                ended = _CALLBACK_ENDS.get(kind, ended)
    if operation_id is None:
        return CallbackState.UNKNOWN
    if ended:
        return ended
    status = executions.execution_describe(execution_arn=execution_arn).status
    # Pending callbacks of a paused execution still complete (AWS: pause stops invocations only).
    open_statuses = {ExecutionStatus.RUNNING, ExecutionStatus.PAUSING, ExecutionStatus.PAUSED}
    return CallbackState.OPEN if status in open_statuses else CallbackState.CLOSED
