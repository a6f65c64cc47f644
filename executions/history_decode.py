"""Turn history events (boto3 answers or saved JSON) into plain, storable values.

- `event_normalize`: a JSON-safe copy of the event (datetimes as ISO 8601), kept as `HistoryEvent.raw`.
- `event_columns`: the indexed columns of a HistoryEvent.
- `payload_decode`: JSON parsed and the Python SDK's typed envelope `{"t": tag, "v": value}` unwrapped.
Event types and subtypes are open sets: nothing here rejects an unknown one.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

ENVELOPE_TAGS = {"n", "s", "i", "f", "b", "B", "u", "d", "dt", "D", "t", "l", "m", "br"}
PREVIEW_CHARS = 4000


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
    """The event as JSON-safe data; the API's own keys and values are kept unchanged."""
    return _jsonable({k: v for k, v in event.items() if k != "ResponseMetadata"})


def timestamp_parse(value) -> datetime | None:
    """ISO 8601 text, epoch seconds (the CLI may print either) or a datetime -> aware datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=UTC)
    text = str(value).strip()
    try:
        return timestamp_parse(float(text))
    except ValueError:
        pass
    text = text.replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


def envelope_unwrap(value):
    """Unwrap the SDK's `{"t": tag, "v": value}` envelopes, recursively; other JSON passes through."""
    if isinstance(value, dict):
        if set(value) == {"t", "v"} and value["t"] in ENVELOPE_TAGS:
            tag, inner = value["t"], value["v"]
            if tag == "m" and isinstance(inner, dict):
                return {k: envelope_unwrap(v) for k, v in inner.items()}
            if tag in ("l", "t") and isinstance(inner, list):
                return [envelope_unwrap(v) for v in inner]
            if tag == "B" and isinstance(inner, str):
                try:
                    return base64.b64decode(inner).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    return inner
            return envelope_unwrap(inner)
        return {k: envelope_unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [envelope_unwrap(v) for v in value]
    return value


@dataclass(frozen=True)
class Payload:
    raw: str  # as the API returned it ("" when absent)
    value: object  # decoded value (None when absent or not JSON: see `is_json`)
    is_json: bool
    truncated: bool
    size: int  # bytes of the raw payload

    def preview(self, limit: int = PREVIEW_CHARS) -> str:
        if not self.raw:
            return ""
        text = json.dumps(self.value, ensure_ascii=False, default=str) if self.is_json else self.raw
        return text if len(text) <= limit else text[: limit - 1] + "…"


def payload_decode(container) -> Payload:
    """Decode an `{"Payload": str, "Truncated": bool}` structure (or a bare string)."""
    truncated = False
    raw = container
    if isinstance(container, dict):
        truncated = bool(container.get("Truncated"))
        raw = container.get("Payload")
    if raw is None:
        return Payload(raw="", value=None, is_json=False, truncated=truncated, size=0)
    if not isinstance(raw, str):
        raw = json.dumps(raw, default=str)
    try:
        value = envelope_unwrap(json.loads(raw))
        is_json = True
    except ValueError:
        value, is_json = None, False
    return Payload(raw=raw, value=value, is_json=is_json, truncated=truncated, size=len(raw.encode("utf-8")))


@dataclass(frozen=True)
class ErrorInfo:
    type: str
    message: str
    data: str
    stack: list | None
    truncated: bool


def error_decode(details: dict | None) -> ErrorInfo | None:
    """`{"Error": {"Payload": {ErrorType, ErrorMessage, ErrorData, StackTrace}, "Truncated"}}` -> ErrorInfo."""
    if not isinstance(details, dict) or not details.get("Error"):
        return None
    error = details["Error"]
    payload = error.get("Payload", error) if isinstance(error, dict) else {}
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            payload = {"ErrorMessage": payload}
    if not isinstance(payload, dict):
        payload = {"ErrorMessage": str(payload)}
    stack = payload.get("StackTrace")
    return ErrorInfo(
        type=str(payload.get("ErrorType") or "")[:512],
        message=str(payload.get("ErrorMessage") or ""),
        data=str(payload.get("ErrorData") or ""),
        stack=stack if isinstance(stack, list) else None,
        truncated=bool(error.get("Truncated")) if isinstance(error, dict) else False,
    )


def history_file_events(document) -> list[dict]:
    """Events from a saved history: `get-durable-execution-history` output, a bare list, or pages of either."""
    if isinstance(document, list):
        if all(isinstance(item, dict) and "Events" in item for item in document) and document:
            return [event for page in document for event in page["Events"]]
        return document
    if isinstance(document, dict) and isinstance(document.get("Events"), list):
        return document["Events"]
    raise ValueError("expected a list of events or an object with an 'Events' list")
