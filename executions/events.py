"""History events (boto3 answers or saved JSON) as plain, storable values.

- `event_normalize`: a JSON-safe copy of the event (datetimes as ISO 8601), kept as `HistoryEvent.raw`.
- `event_columns`: the indexed columns of a HistoryEvent.
- `history_file_events`: the events of a saved history file.
Event types and subtypes are open sets: nothing here rejects an unknown one. Payloads inside events are
decoded by `core.decoding`.
"""

from __future__ import annotations

from datetime import datetime

from core.decoding import MAX_DEPTH, TOO_DEEP, value_depth
from core.time import timestamp_parse


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def event_normalize(event: dict) -> dict:
    """The event as JSON-safe data; the API's own keys and values are kept unchanged.

    A value nested deeper than `core.decoding.MAX_DEPTH` (only a hand-made file has one: the API's payloads are
    strings) is replaced by `TOO_DEEP` rather than walked."""
    return {
        str(k): TOO_DEEP if value_depth(v) > MAX_DEPTH else _jsonable(v)
        for k, v in event.items()
        if k != "ResponseMetadata"
    }


def event_details(event: dict) -> dict | None:
    """The event's `*Details` structure (whatever its name: unknown types keep theirs)."""
    own = f"{event.get('EventType', '')}Details"
    if isinstance(event.get(own), dict):
        return event[own]
    for key, value in event.items():
        if key.endswith("Details") and isinstance(value, dict):
            return value
    return None


def event_columns(raw: dict) -> dict:
    return {
        "event_id": int(raw["EventId"]),
        "event_type": str(raw.get("EventType") or "")[:64],
        "sub_type": str(raw.get("SubType") or "")[:64],
        "operation_id": str(raw.get("Id") or "")[:256],
        "parent_id": str(raw.get("ParentId") or "")[:256],
        "name": str(raw.get("Name") or "")[:256],
        "timestamp": timestamp_parse(raw.get("EventTimestamp")),
        "details": event_details(raw),
    }


def history_file_events(document) -> list[dict]:
    """Events from a saved history: `get-durable-execution-history` output, a bare list, or pages of either."""
    if isinstance(document, list):
        if all(isinstance(item, dict) and "Events" in item for item in document) and document:
            return [event for page in document for event in page["Events"]]
        return document
    if isinstance(document, dict) and isinstance(document.get("Events"), list):
        return document["Events"]
    raise ValueError("expected a list of events or an object with an 'Events' list")
