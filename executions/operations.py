"""Derive one Operation from the history events that share its operation id.

Pure functions over event-like objects (HistoryEvent rows or anything with the same
attributes), so the poller, import_history and the tests use the same code.
Unknown event types still yield an operation (type from the event-type prefix).
"""

from __future__ import annotations

import re
from datetime import timedelta

from core.decoding import error_decode, payload_decode
from core.time import timestamp_parse
from executions.statuses import TERMINAL_OPERATION_STATUSES, ExecutionStatus, OperationStatus

# Event-type prefix -> Operation.op_type
OP_TYPES = {
    "Execution": "execution",
    "Step": "step",
    "Wait": "wait",
    "Callback": "callback",
    "Context": "context",
    "ChainedInvoke": "chained_invoke",
}
# Event-type suffix -> operation status (the API's OperationStatus values)
SUFFIX_STATUS = {
    "Started": OperationStatus.STARTED,
    "Succeeded": OperationStatus.SUCCEEDED,
    "Failed": OperationStatus.FAILED,
    "TimedOut": OperationStatus.TIMED_OUT,
    "Stopped": OperationStatus.STOPPED,
    "Cancelled": OperationStatus.CANCELLED,
    "Paused": OperationStatus.PAUSED,
    "Resumed": OperationStatus.STARTED,
}
EXECUTION_EVENT_STATUS = {
    "ExecutionStarted": ExecutionStatus.RUNNING,
    "ExecutionResumed": ExecutionStatus.RUNNING,
    "ExecutionPaused": ExecutionStatus.PAUSED,
    "ExecutionSucceeded": ExecutionStatus.SUCCEEDED,
    "ExecutionFailed": ExecutionStatus.FAILED,
    "ExecutionTimedOut": ExecutionStatus.TIMED_OUT,
    "ExecutionStopped": ExecutionStatus.STOPPED,
}
_SUFFIXES = "Started|Succeeded|Failed|TimedOut|Stopped|Cancelled|Paused|Resumed"
_SUFFIX_RE = re.compile(rf"^(?P<prefix>.*?)(?P<suffix>{_SUFFIXES})$")
_CAMEL_RE = re.compile(r"(?<!^)(?=[A-Z])")


def event_type_split(event_type: str) -> tuple[str, str]:
    """("StepFailed") -> ("step", "FAILED"); unknown types keep readable values."""
    match = _SUFFIX_RE.match(event_type or "")
    if match:
        prefix, suffix = match.group("prefix"), match.group("suffix")
    else:
        prefix, suffix = event_type or "Unknown", ""
    op_type = OP_TYPES.get(prefix) or _CAMEL_RE.sub("_", prefix).lower() or "unknown"
    status = SUFFIX_STATUS.get(suffix, _CAMEL_RE.sub("_", suffix).upper() if suffix else "UNKNOWN")
    return op_type, status


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def operation_derive(events: list) -> dict:
    """Fields of the Operation made of `events` (same operation id, any order)."""
    events = sorted(events, key=lambda e: e.event_id)
    first, last = events[0], events[-1]
    op_type, _ = event_type_split(first.event_type)
    fields: dict = {
        "op_type": op_type[:32],
        "sub_type": next((e.sub_type for e in events if e.sub_type), "")[:64],
        "name": next((e.name for e in events if e.name), "")[:256],
        "parent_operation_id": next((e.parent_id for e in events if e.parent_id), ""),
        "started_at": first.timestamp,
        "ended_at": None,
        "status": "",
        "attempts": 0,
        "attempt_history": [],
        "callback_id": "",
        "callback_timeout_seconds": None,
        "heartbeat_timeout_seconds": None,
        "deadline": None,
        "wait_seconds": None,
        "wait_scheduled_end": None,
        "error_type": "",
        "error_message": "",
        "error_data": "",
        "result_preview": "",
        "result_truncated": False,
        "result_size": None,
        "extra": {},
        "first_event_id": first.event_id,
        "last_event_id": last.event_id,
    }
    attempts: list[dict] = []
    for event in events:
        _, status = event_type_split(event.event_type)
        details = event.details or {}
        fields["status"] = status
        if status in TERMINAL_OPERATION_STATUSES:
            fields["ended_at"] = event.timestamp
        if event.event_type.endswith("Started") and op_type == "step":
            attempts.append(
                {"attempt": len(attempts) + 1, "started": _iso(event.timestamp), "status": OperationStatus.STARTED}
            )
        if "Result" in details:
            result = payload_decode(details["Result"])
            fields["result_preview"] = result.preview()
            fields["result_truncated"] = result.truncated
            fields["result_size"] = result.size
        error = error_decode(details)
        if error:
            fields["error_type"], fields["error_message"], fields["error_data"] = error.type, error.message, error.data
        elif status == OperationStatus.SUCCEEDED:
            fields["error_type"] = fields["error_message"] = fields["error_data"] = ""
        retry = details.get("RetryDetails") if isinstance(details.get("RetryDetails"), dict) else None
        if op_type == "step" and status in (OperationStatus.FAILED, OperationStatus.SUCCEEDED):
            _attempt_close(attempts, event, status, error, retry)
            if status == OperationStatus.FAILED and retry and (retry.get("NextAttemptDelaySeconds") or 0) > 0:
                # Not final: the SDK retries after the delay (the next StepStarted will follow).
                fields["status"] = OperationStatus.PENDING
                fields["ended_at"] = None
                attempts[-1]["next_attempt_at"] = _iso(
                    event.timestamp + timedelta(seconds=int(retry["NextAttemptDelaySeconds"]))
                    if event.timestamp
                    else None
                )
        if event.event_type == "WaitStarted":
            fields["wait_seconds"] = details.get("Duration")
            fields["wait_scheduled_end"] = timestamp_parse(details.get("ScheduledEndTimestamp"))
            if fields["wait_scheduled_end"] is None and fields["wait_seconds"] is not None and event.timestamp:
                fields["wait_scheduled_end"] = event.timestamp + timedelta(seconds=int(fields["wait_seconds"]))
        if event.event_type == "CallbackStarted":
            fields["callback_id"] = details.get("CallbackId") or ""
            fields["callback_timeout_seconds"] = details.get("Timeout") or None
            fields["heartbeat_timeout_seconds"] = details.get("HeartbeatTimeout") or None
            if fields["callback_timeout_seconds"] and event.timestamp:
                fields["deadline"] = event.timestamp + timedelta(seconds=int(fields["callback_timeout_seconds"]))
        if event.event_type == "ChainedInvokeStarted":
            invoked = payload_decode(details.get("Input"))
            fields["extra"].update(
                {
                    "function_name": details.get("FunctionName") or "",
                    "child_execution_arn": details.get("DurableExecutionArn") or "",
                    "executed_version": details.get("ExecutedVersion") or "",
                    "input_preview": invoked.preview(1000),
                }
            )
        if event.event_type == "ExecutionStarted":
            fields["extra"]["execution_timeout_seconds"] = details.get("ExecutionTimeout")
    if op_type == "execution":
        fields["status"] = execution_status_from(events) or fields["status"]
    if op_type == "step":
        fields["attempts"] = len(attempts)
        fields["attempt_history"] = attempts
    return fields


def _attempt_close(attempts: list[dict], event, status: str, error, retry: dict | None) -> None:
    if not attempts or attempts[-1]["status"] != OperationStatus.STARTED:
        # A failure without its start (history begins mid-way): record it as its own attempt.
        attempts.append({"attempt": len(attempts) + 1, "started": None, "status": OperationStatus.STARTED})
    current = attempts[-1]
    current.update(
        {
            "ended": _iso(event.timestamp),
            "status": status,
            "error_type": error.type if error else "",
            "error_message": error.message if error else "",
            "next_delay_seconds": (retry or {}).get("NextAttemptDelaySeconds"),
        }
    )
    if retry and retry.get("CurrentAttempt"):
        current["attempt"] = int(retry["CurrentAttempt"])


def execution_status_from(events: list) -> str | None:
    """The execution's status told by its own events (None when they tell nothing)."""
    status = None
    for event in sorted(events, key=lambda e: e.event_id):
        if event.event_type in EXECUTION_EVENT_STATUS:
            status = EXECUTION_EVENT_STATUS[event.event_type]
        elif event.event_type.startswith("Execution"):
            # An execution event type we do not know: keep its suffix as the status.
            status = event_type_split(event.event_type)[1]
    return status
