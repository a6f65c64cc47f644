"""Wire events (schema 1, README.md) built from the SDK's hook infos.

Pure functions: no I/O, no state. An event carries ids, names, statuses, times and sizes, never a payload,
so a report cannot leak customer data or grow with it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from enum import Enum
from typing import Any

from aws_durable_execution_sdk_python.plugin import (
    InvocationEndInfo,
    InvocationInfo,
    InvocationStartInfo,
    OperationInfo,
)

SCHEMA = 1
ERROR_MESSAGE_LIMIT = 1000
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "STOPPED"})
STATUS_RANKS = {"STARTED": 1, "PENDING": 2, "READY": 3}
TERMINAL_RANK = 9


def now() -> str:
    return iso(datetime.datetime.now(datetime.UTC))


def iso(moment: datetime.datetime | None) -> str | None:
    """ISO 8601 with an offset; a naive time is the SDK's UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.isoformat()


def text(value: Any) -> str | None:
    """An enum's value or a string as is: statuses, types and subtypes are open sets, shown as received."""
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def status_rank(status: str | None) -> int:
    if status in TERMINAL_STATUSES:
        return TERMINAL_RANK
    return STATUS_RANKS.get(status or "", 0)


def version(attempt: int | None, status: str | None) -> list[int]:
    """[attempt or 0, status rank]: the receiver keeps the highest per operation, so repeats are harmless."""
    return [attempt or 0, status_rank(status)]


def attempt(info: OperationInfo) -> int | None:
    """A step's attempt; None for other types. Only steps retry, and the SDK gives a child context attempt 1 in
    its user-function hooks but none in its checkpoint: kept, [1, 1] (started) would outrank [0, 9] (done)."""
    return info.attempt if text(info.operation_type) == "STEP" else None


def truncate(message: Any) -> str | None:
    if message is None:
        return None
    return str(message)[:ERROR_MESSAGE_LIMIT]


def result_size(result: str | None) -> int | None:
    """Bytes of the serialized result (UTF-8), never the result itself."""
    if result is None:
        return None
    return len(result.encode("utf-8", errors="replace"))


def _envelope(kind: str, execution_arn: str | None, request_id: str | None) -> dict[str, Any]:
    return {"kind": kind, "execution_arn": execution_arn, "request_id": request_id, "observed_at": now()}


def operation_event(
    info: OperationInfo, *, hook: str, execution_arn: str | None, request_id: str | None
) -> dict[str, Any]:
    status = text(info.status)
    tries = attempt(info)
    error = info.error
    return {
        **_envelope("operation", execution_arn, request_id),
        "hook": hook,
        "operation_id": info.operation_id,
        "parent_id": info.parent_id,
        "name": info.name,
        "type": text(info.operation_type),
        "sub_type": text(info.sub_type),
        "status": status,
        "attempt": tries,
        "started_at": iso(info.start_time),
        "ended_at": iso(info.end_time),
        "error_type": truncate(error.type) if error is not None else None,
        "error_message": truncate(error.message) if error is not None else None,
        "result_size": result_size(info.result),
        "version": version(tries, status),
    }


def snapshot_operations(operations: Iterable[OperationInfo]) -> list[list[Any]]:
    return [[info.operation_id, *version(attempt(info), text(info.status))] for info in operations]


def snapshot_event(info: InvocationStartInfo) -> dict[str, Any]:
    return {
        **_envelope("snapshot", info.execution_arn, info.request_id),
        "first_invocation": info.is_first_invocation,
        "execution_started_at": iso(info.execution_start_time),
        "operations": snapshot_operations(info.operations.values()),
    }


def invocation_event(info: InvocationInfo) -> dict[str, Any]:
    """`start` for an InvocationStartInfo, `end` (with the outcome) for an InvocationEndInfo."""
    ended = isinstance(info, InvocationEndInfo)
    error = info.error if ended else None
    return {
        **_envelope("invocation", info.execution_arn, info.request_id),
        "phase": "end" if ended else "start",
        "first_invocation": info.is_first_invocation,
        "status": text(info.status) if ended else None,
        "error_type": truncate(error.type) if error is not None else None,
        "error_message": truncate(error.message) if error is not None else None,
    }
