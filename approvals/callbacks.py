"""The state of an order's callback, read from its execution's history (reads only: no writes, no heartbeats).

A decision that could not be sent, and a claim left behind by a crash, are resolved from what the history proves.
The dashboard puts its claim token in the callback result as `decisionId`, so a `CallbackSucceeded` event tells
whose decision the workflow got.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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


# The states that prove the callback ended: only these may finish an order as closed or expired.
ENDED = frozenset({CallbackState.SUCCEEDED, CallbackState.FAILED, CallbackState.TIMED_OUT, CallbackState.CLOSED})

_CALLBACK_ENDS = {
    "CallbackSucceeded": CallbackState.SUCCEEDED,
    "CallbackFailed": CallbackState.FAILED,
    "CallbackTimedOut": CallbackState.TIMED_OUT,
}


@dataclass(frozen=True)
class CallbackReading:
    state: CallbackState
    decision_id: str | None = None  # the `decisionId` of a succeeded callback's result (None: absent or unreadable)

    def delivered(self, token: str) -> bool:
        """The history proves the decision with this claim token is the one the workflow got."""
        return self.state == CallbackState.SUCCEEDED and bool(token) and self.decision_id == token

    def answered_by_other(self, token: str) -> bool:
        """The callback succeeded with a result that names another decision (or none: answered outside)."""
        return self.state == CallbackState.SUCCEEDED and self.decision_id is not None and self.decision_id != token


def _decision_id(event: dict) -> str | None:
    result = event.get("CallbackSucceededDetails", {}).get("Result", {}) or {}
    if result.get("Truncated"):
        return None
    try:
        value = json.loads(result.get("Payload") or "")
    except (TypeError, ValueError):
        return ""  # a result that is not our JSON: answered outside the dashboard
    if isinstance(value, dict) and isinstance(value.get("v"), dict) and "t" in value:
        value = value["v"]  # the SDK's typed envelope
    return str(value.get("decisionId") or "") if isinstance(value, dict) else ""


def callback_reading(*, execution_arn: str, callback_id: str) -> CallbackReading:
    """How the callback stands and, when it succeeded, whose decision it carried.

    Reads GetDurableExecutionHistory: CallbackStarted carries the callback id; the operation's
    later Callback* event tells how it ended. Raises DurableApiError when the API cannot answer.
    """
    operation_id, ended, decision_id = None, None, None
    for page in executions.execution_history_pages(execution_arn=execution_arn):
        for event in page.events:
            kind = event.get("EventType", "")
            if kind == "CallbackStarted" and event.get("CallbackStartedDetails", {}).get("CallbackId") == callback_id:
                operation_id = event.get("Id")
            elif operation_id and event.get("Id") == operation_id and kind in _CALLBACK_ENDS:
                ended = _CALLBACK_ENDS[kind]
                if ended == CallbackState.SUCCEEDED:
                    decision_id = _decision_id(event)
    if operation_id is None:
        return CallbackReading(CallbackState.UNKNOWN)
    if ended:
        return CallbackReading(ended, decision_id)
    status = executions.execution_describe(execution_arn=execution_arn).status
    # Pending callbacks of a paused execution still complete (AWS: pause stops invocations only).
    open_statuses = {ExecutionStatus.RUNNING, ExecutionStatus.PAUSING, ExecutionStatus.PAUSED}
    return CallbackReading(CallbackState.OPEN if status in open_statuses else CallbackState.CLOSED)


def callback_state(*, execution_arn: str, callback_id: str) -> CallbackState:
    """open | succeeded | failed | timed_out | closed (execution over) | unknown (not in the history)."""
    return callback_reading(execution_arn=execution_arn, callback_id=callback_id).state
