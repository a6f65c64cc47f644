"""The wire formats the ingest endpoints read, parsed and checked (pure: no database).

- The push plugin's batches, schema 1 (functions/console_push/README.md): `{"schema": 1, "sent_at", "events"}`
  with events of kind `operation`, `snapshot` and `invocation`. Unknown kinds and unknown fields are ignored
  (forward compatibility), except the fields that would carry a payload or a callback id: an event with one of
  those (`FORBIDDEN_KEYS`, at any depth) is refused, never stored.
- EventBridge's `Durable Execution Status Change` events (`source: aws.lambda`), as an API destination posts
  them. Only the fields named in `status_change_parse` are read: a payload or a callback id AWS may add to an
  event is never read nor stored.

A whole-batch problem (not an object, another schema, no event list) raises `WireError`; a bad event is one
`Rejection` (its index, reason and a clear message) and the others still count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from core.time import timestamp_parse

SCHEMA = 1
MAX_BODY_BYTES = 1024 * 1024  # "at most 1 MB": the sender splits larger batches; read no more than this
MAX_DEPTH = 10  # a batch nests 5 levels (batch, events, event, snapshot operations, one operation)
OPERATION, SNAPSHOT, INVOCATION = "operation", "snapshot", "invocation"
EVENTBRIDGE_SOURCE = "aws.lambda"
EVENTBRIDGE_DETAIL_TYPE = "Durable Execution Status Change"
# Payload and callback-id fields, compared lowercased without "_" or "-": no event may carry one.
FORBIDDEN_KEYS = frozenset(
    {"result", "payload", "input", "inputpayload", "output", "errordata", "callbackid", "callbacktoken"}
)
MAX_ERROR_MESSAGE = 1000

# Rejection reasons (the `reason` label of durable_console_push_rejected_total).
INVALID_EVENT = "invalid_event"
FORBIDDEN_FIELD = "forbidden_field"
UNKNOWN_KIND = "unknown_kind"

_ARN_FUNCTION = re.compile(r":function:(?P<function>[A-Za-z0-9_-]{1,140})(?::(?P<qualifier>[^/:]{1,128}))?(?:/|$)")
_ARN_EXECUTION = re.compile(r"/durable-execution/(?P<name>[^/]{1,256})/[^/]+$")


class WireError(ValueError):
    """The whole body is unusable: `reason` is the metric label, the message says what is wrong."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Rejection:
    index: int | None
    reason: str
    detail: str

    def as_json(self) -> dict:
        return {"index": self.index, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class OperationReport:
    execution_arn: str
    request_id: str
    observed_at: datetime
    hook: str
    operation_id: str
    parent_id: str
    name: str
    op_type: str  # lowercased, as Operation.op_type: step, wait, callback, context, chained_invoke, execution
    sub_type: str
    status: str
    attempt: int
    started_at: datetime | None
    ended_at: datetime | None
    error_type: str
    error_message: str
    result_size: int | None
    version: tuple[int, int]


@dataclass(frozen=True)
class SnapshotReport:
    execution_arn: str
    request_id: str
    observed_at: datetime
    first_invocation: bool
    execution_started_at: datetime | None
    operations: tuple[tuple[str, int, int], ...]  # (operation id, attempt, rank)


@dataclass(frozen=True)
class InvocationReport:
    execution_arn: str
    request_id: str
    observed_at: datetime
    phase: str  # start, end (or a phase this console does not know)
    first_invocation: bool
    status: str  # SUCCEEDED, FAILED, PENDING, RETRY, or "" at the start
    error_type: str
    error_message: str


Report = OperationReport | SnapshotReport | InvocationReport


@dataclass(frozen=True)
class ParsedBatch:
    reports: list[tuple[int, Report]]  # (index in the batch, report)
    rejected: list[Rejection]
    unknown: list[Rejection]  # events of a kind this console does not know: ignored


@dataclass(frozen=True)
class StatusChange:
    """One EventBridge `Durable Execution Status Change` event: only these fields are ever read."""

    event_id: str
    execution_arn: str
    execution_name: str
    function_arn: str
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    event_time: datetime | None


class _Invalid(ValueError):
    pass


def forbidden_key(value) -> str | None:
    """The first key anywhere in `value` that names a payload or a callback id (iterative: `value` is depth-capped
    already, and this never recurses)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if str(key).lower().replace("_", "").replace("-", "") in FORBIDDEN_KEYS:
                    return str(key)
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
    return None


def arn_function(arn: str) -> tuple[str, str] | None:
    """(function name, qualifier or "") named in an execution or function ARN; None if it names none."""
    match = _ARN_FUNCTION.search(arn or "")
    return (match["function"], match["qualifier"] or "") if match else None


def arn_execution_name(arn: str) -> str:
    match = _ARN_EXECUTION.search(arn or "")
    return match["name"] if match else ""


def _text(event: dict, key: str, *, limit: int, required: bool = False, truncate: bool = False) -> str:
    value = event.get(key)
    if value is None or value == "":
        if required:
            raise _Invalid(f"'{key}' is required")
        return ""
    if not isinstance(value, str):
        raise _Invalid(f"'{key}' must be a string")
    if len(value) > limit:
        if not truncate:
            raise _Invalid(f"'{key}' is longer than {limit} characters")
        value = value[:limit]
    return value


def _whole(event: dict, key: str, *, default: int | None = 0) -> int | None:
    value = event.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 2**31 - 1:
        raise _Invalid(f"'{key}' must be a whole number from 0 to {2**31 - 1}")
    return value


def _moment(event: dict, key: str, *, required: bool = False) -> datetime | None:
    value = event.get(key)
    if value is None:
        if required:
            raise _Invalid(f"'{key}' is required (ISO 8601 with a UTC offset)")
        return None
    moment = timestamp_parse(value) if isinstance(value, str | int | float) else None
    if moment is None:
        raise _Invalid(f"'{key}' must be an ISO 8601 time with a UTC offset")
    return moment


def _flag(event: dict, key: str) -> bool:
    value = event.get(key)
    if value is not None and not isinstance(value, bool):
        raise _Invalid(f"'{key}' must be true or false")
    return bool(value)


def _common(event: dict) -> dict:
    return {
        "execution_arn": _text(event, "execution_arn", limit=2048, required=True),
        "request_id": _text(event, "request_id", limit=128, truncate=True),
        "observed_at": _moment(event, "observed_at", required=True),
    }


def _operation(event: dict) -> OperationReport:
    version = event.get("version")
    if (
        not isinstance(version, list)
        or len(version) != 2
        or any(isinstance(part, bool) or not isinstance(part, int) or not 0 <= part <= 2**31 - 1 for part in version)
    ):
        raise _Invalid("'version' must be [attempt, status rank], two whole numbers")
    return OperationReport(
        **_common(event),
        hook=_text(event, "hook", limit=32, truncate=True),
        operation_id=_text(event, "operation_id", limit=256, required=True),
        parent_id=_text(event, "parent_id", limit=256),
        name=_text(event, "name", limit=256, truncate=True),
        op_type=_text(event, "type", limit=32, required=True).lower(),
        sub_type=_text(event, "sub_type", limit=64, truncate=True),
        status=_text(event, "status", limit=32, required=True).upper(),
        attempt=_whole(event, "attempt"),
        started_at=_moment(event, "started_at"),
        ended_at=_moment(event, "ended_at"),
        error_type=_text(event, "error_type", limit=512, truncate=True),
        error_message=_text(event, "error_message", limit=MAX_ERROR_MESSAGE, truncate=True),
        result_size=_whole(event, "result_size", default=None),
        version=(version[0], version[1]),
    )


def _snapshot(event: dict) -> SnapshotReport:
    operations = event.get("operations")
    if not isinstance(operations, list):
        raise _Invalid("'operations' must be a list of [operation id, attempt, rank]")
    entries = []
    for entry in operations:
        if (
            not isinstance(entry, list)
            or len(entry) != 3
            or not isinstance(entry[0], str)
            or not 0 < len(entry[0]) <= 256
            or any(isinstance(part, bool) or not isinstance(part, int) or part < 0 for part in entry[1:])
        ):
            raise _Invalid("'operations' must be a list of [operation id, attempt, rank]")
        entries.append((entry[0], entry[1], entry[2]))
    return SnapshotReport(
        **_common(event),
        first_invocation=_flag(event, "first_invocation"),
        execution_started_at=_moment(event, "execution_started_at"),
        operations=tuple(entries),
    )


def _invocation(event: dict) -> InvocationReport:
    return InvocationReport(
        **_common(event),
        phase=_text(event, "phase", limit=16, required=True).lower(),
        first_invocation=_flag(event, "first_invocation"),
        status=_text(event, "status", limit=32).upper(),
        error_type=_text(event, "error_type", limit=512, truncate=True),
        error_message=_text(event, "error_message", limit=MAX_ERROR_MESSAGE, truncate=True),
    )


_PARSERS = {OPERATION: _operation, SNAPSHOT: _snapshot, INVOCATION: _invocation}


def batch_parse(batch) -> ParsedBatch:
    """The reports of a schema-1 batch; WireError when the batch itself is not one."""
    if not isinstance(batch, dict):
        raise WireError("schema", 'The body must be a JSON object: {"schema": 1, "events": [...]}.')
    if batch.get("schema") != SCHEMA:
        raise WireError("schema", f"Unsupported schema {batch.get('schema')!r}: this console reads schema {SCHEMA}.")
    events = batch.get("events")
    if not isinstance(events, list):
        raise WireError("schema", "'events' must be a list.")
    reports, rejected, unknown = [], [], []
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            rejected.append(Rejection(index, INVALID_EVENT, "an event must be a JSON object"))
            continue
        key = forbidden_key(event)
        if key is not None:
            detail = f"'{key}' may carry a payload or a callback id: the console never accepts one"
            rejected.append(Rejection(index, FORBIDDEN_FIELD, detail))
            continue
        kind = event.get("kind")
        parser = _PARSERS.get(kind) if isinstance(kind, str) else None
        if parser is None:
            unknown.append(Rejection(index, UNKNOWN_KIND, f"kind {str(kind)[:40]!r} is not one this console reads"))
            continue
        try:
            reports.append((index, parser(event)))
        except _Invalid as error:
            rejected.append(Rejection(index, INVALID_EVENT, f"{kind}: {error}"))
    return ParsedBatch(reports=reports, rejected=rejected, unknown=unknown)


def status_change_parse(event) -> StatusChange | None:
    """An EventBridge status-change event; None for another kind of event (ignored); WireError if malformed."""
    if not isinstance(event, dict):
        raise WireError("schema", "The body must be one EventBridge event (a JSON object).")
    if event.get("source") != EVENTBRIDGE_SOURCE or event.get("detail-type") != EVENTBRIDGE_DETAIL_TYPE:
        return None
    detail = event.get("detail")
    try:
        event_id = _text(event, "id", limit=256, required=True)
        if not isinstance(detail, dict):
            raise _Invalid("'detail' must be an object")
        return StatusChange(
            event_id=event_id,
            execution_arn=_text(detail, "durableExecutionArn", limit=2048, required=True),
            execution_name=_text(detail, "durableExecutionName", limit=256, truncate=True),
            function_arn=_text(detail, "functionArn", limit=2048),
            status=_text(detail, "status", limit=32, required=True).upper(),
            started_at=_moment(detail, "startTimestamp"),
            ended_at=_moment(detail, "endTimestamp"),
            event_time=_moment(event, "time"),
        )
    except _Invalid as error:
        raise WireError("schema", f"Not a durable-execution status change: {error}.") from None
