"""The one payload decoder: durable-execution payloads (JSON strings) into values people can read.

The Python SDK wraps non-trivial values in a typed envelope `{"t": tag, "v": value}` (tags in
`ENVELOPE_TAGS`; "B" is base64 bytes), unwrapped here recursively; any other JSON passes through.

- `payload_decode`: an `{"Payload": str, "Truncated": bool}` structure (or a bare string) -> `Payload`
  (the raw text is always kept; the value only when it is JSON).
- `payload_value`: the display helper: a JSON string -> its decoded value, anything else as it is.
- `details_decode`: an event's `*Details` with every payload string decoded; `pretty`: text for a `<pre>`.
- `error_decode`: an `Error` structure -> `ErrorInfo`; `secrets_redact`: callback ids hidden.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

ENVELOPE_TAGS = {"n", "s", "i", "f", "b", "B", "u", "d", "dt", "D", "t", "l", "m", "br"}
PAYLOAD_KEYS = {"Payload", "Result", "InputPayload", "ErrorData"}
PREVIEW_CHARS = 4000
SECRET_KEYS = {"CallbackId", "callbackId"}
REDACTED = "(hidden)"


def envelope_unwrap(value):
    """Unwrap the SDK's `{"t": tag, "v": value}` envelopes, recursively; other JSON passes through."""
    if isinstance(value, dict):
        if set(value) == {"t", "v"} and isinstance(value["t"], str) and value["t"] in ENVELOPE_TAGS:
            tag, inner = value["t"], value["v"]
            if tag == "m" and isinstance(inner, dict):
                return {key: envelope_unwrap(item) for key, item in inner.items()}
            if tag in ("l", "t") and isinstance(inner, list):
                return [envelope_unwrap(item) for item in inner]
            if tag == "B" and isinstance(inner, str):
                try:
                    return base64.b64decode(inner).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    return inner
            return envelope_unwrap(inner)
        return {key: envelope_unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [envelope_unwrap(item) for item in value]
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


def payload_value(text):
    """For display: a JSON payload string -> its decoded value; anything else is returned as it is."""
    if not isinstance(text, str):
        return text
    stripped = text.strip()
    if not stripped or stripped[0] not in '{["0123456789-tfn':
        return text
    payload = payload_decode(stripped)
    return payload.value if payload.is_json else text


def details_decode(details):
    """An event's *Details structure with every payload string decoded (for display)."""
    if isinstance(details, dict):
        return {
            key: payload_value(value) if key in PAYLOAD_KEYS and isinstance(value, str) else details_decode(value)
            for key, value in details.items()
        }
    if isinstance(details, list):
        return [details_decode(item) for item in details]
    return details


def pretty(value) -> str:
    """Indented JSON for a <pre> block (strings that are not JSON are shown as they are)."""
    if value is None:
        return ""
    if isinstance(value, str):
        decoded = payload_value(value)
        if isinstance(decoded, str):
            return decoded
        value = decoded
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def secrets_redact(value):
    """A copy of `value` with callback ids replaced: whoever holds one can answer the callback."""
    if isinstance(value, dict):
        return {key: REDACTED if key in SECRET_KEYS and item else secrets_redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [secrets_redact(item) for item in value]
    return value


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
