"""A saved history (from any account) stored as an imported execution, through the poller's own code.

An imported execution is an offline copy: never polled, never acted on, never counted. Importing is all or
nothing (one transaction: a bad file stores nothing, and a corrected file is read afresh). Callback ids are
stripped (they would answer the live execution's callbacks). A field of the wrong type is kept, as unreadable,
in the event's `Unreadable` map, unless it is the `EventId` the history is ordered by: then the import stops
with an error naming the event and the field (`HistoryFileError`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import transaction

from core.decoding import SECRET_KEYS
from core.time import timestamp_parse
from executions.events import event_normalize
from executions.models import Execution, MonitoredFunction
from executions.statuses import ExecutionStatus
from executions.sync.derive import execution_derive
from executions.sync.history import HistoryRewritten, events_store, history_forget


@dataclass(frozen=True)
class _ImportedPage:
    events: list
    marker: str | None = None
    next_marker: str | None = None


NUMBER_FIELDS = {
    "Timeout",
    "HeartbeatTimeout",
    "ExecutionTimeout",
    "NextAttemptDelaySeconds",
    "CurrentAttempt",
    "Duration",
    "Attempt",
}
TEXT_FIELDS = ("EventType", "SubType", "Id", "ParentId", "Name")


class HistoryFileError(ValueError):
    """A saved history that cannot be imported; the message names the event and the field."""


def _event_id(event, position: int) -> int:
    if not isinstance(event, dict):
        raise HistoryFileError(f"event #{position}: not an object")
    value = event.get("EventId")
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise HistoryFileError(f"event #{position}: field EventId is {value!r}, not a whole number")
    number = int(str(value).strip())
    if not 0 < number < 2**31:
        raise HistoryFileError(f"event #{position}: field EventId {number} is out of range")
    return number


def _unreadable(value) -> bool:
    return value is not None and (isinstance(value, bool) or not isinstance(value, int | float))


def _event_clean(event: dict, position: int) -> dict:
    """A JSON-safe copy: EventId a number, callback ids removed, wrongly typed fields moved to `Unreadable`."""
    clean = event_normalize(event)
    clean["EventId"] = _event_id(event, position)
    unreadable = {}
    for key in TEXT_FIELDS:
        if key in clean and clean[key] is not None and not isinstance(clean[key], str):
            unreadable[key] = clean.pop(key)
    stamp = clean.get("EventTimestamp")
    if stamp is not None and (isinstance(stamp, bool | dict | list) or timestamp_parse(stamp) is None):
        unreadable["EventTimestamp"] = clean.pop("EventTimestamp")
    for key, details in list(clean.items()):
        if not key.endswith("Details"):
            continue
        if not isinstance(details, dict):
            unreadable[key] = clean.pop(key)
            continue
        for holder_key, holder in [("", details), *((k, v) for k, v in details.items() if isinstance(v, dict))]:
            for field in list(holder):
                if field in SECRET_KEYS:
                    holder.pop(field)  # an offline copy must not answer the live execution's callbacks
                elif field in NUMBER_FIELDS and _unreadable(holder[field]):
                    path = ".".join(part for part in (key, holder_key, field) if part)
                    unreadable[path] = holder.pop(field)
    if unreadable:
        clean["Unreadable"] = {path: repr(value)[:200] for path, value in unreadable.items()}
    return clean


def history_import(*, events: list[dict], function_name: str, name: str | None = None) -> Execution:
    """Store a saved history (from any account) as an imported execution, through the poller's own code.

    Importing the same history again updates the same execution (its key is derived from the events). All or
    nothing: any failure rolls the whole import back (HistoryFileError names the event and the field).
    """
    if not isinstance(events, list) or not events:
        raise HistoryFileError("the history has no events")
    cleaned = [_event_clean(event, position) for position, event in enumerate(events, start=1)]
    normalized = sorted(cleaned, key=lambda e: e["EventId"])
    with transaction.atomic():
        return _history_store(normalized, function_name=function_name, name=name)


def _history_store(normalized: list[dict], *, function_name: str, name: str | None) -> Execution:
    started = next((e for e in normalized if e.get("EventType") == "ExecutionStarted"), None)
    identity = (started or {}).get("Id") or hashlib.sha256(
        json.dumps(normalized[:5], sort_keys=True).encode()
    ).hexdigest()[:32]
    function, _ = MonitoredFunction.objects.get_or_create(name=function_name, qualifier="", defaults={"enabled": False})
    arn = f"imported:{function_name}:{identity}"
    execution, _ = Execution.objects.get_or_create(
        arn=arn,
        defaults={
            "name": (name or (started or {}).get("Name") or identity)[:256],
            "function": function,
            "function_name": function_name,
            "status": ExecutionStatus.RUNNING,
            "imported": True,
            "started_at": timestamp_parse((started or {}).get("EventTimestamp")),
        },
    )
    if name and execution.name != name:
        Execution.objects.filter(pk=execution.pk).update(name=name[:256])
        execution.name = name[:256]
    try:
        events_store(execution=execution, page=_ImportedPage(events=normalized))
    except HistoryRewritten:
        history_forget(execution=execution)
        events_store(execution=execution, page=_ImportedPage(events=normalized))
    execution.refresh_from_db()
    try:
        execution_derive(execution=execution, changed=True, reached_end=True)
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        raise HistoryFileError(f"the events could not be read as a history: {type(error).__name__}: {error}") from error
    execution.refresh_from_db()
    return execution
