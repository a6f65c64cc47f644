"""The one payload decoder: durable-execution payloads (JSON strings) into values people can read.

The Python SDK wraps non-trivial values in a typed envelope `{"t": tag, "v": value}` (tags in
`ENVELOPE_TAGS`; "B" is base64 bytes), unwrapped here recursively; any other JSON passes through.

- `payload_decode`: an `{"Payload": str, "Truncated": bool}` structure (or a bare string) -> `Payload`
  (the raw text is always kept; the value only when it is JSON).
- `payload_value`: the display helper: a JSON string -> its decoded value, anything else as it is.
- `details_decode`: an event's `*Details` with every payload string decoded; `pretty`: text for a `<pre>`.
- `error_decode`: an `Error` structure -> `ErrorInfo`; `secrets_redact`: callback ids hidden.

Anyone who can start an execution chooses its input, so nothing here trusts a payload's shape: values nested
deeper than `MAX_DEPTH` are measured without recursion (`json_depth`, `value_depth`) and are not decoded
(`Payload.too_deep`; the display helpers show `TOO_DEEP`); the raw text is always kept, and downloadable.
Within the cap the recursive helpers stay far from Python's recursion limit.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

ENVELOPE_TAGS = {"n", "s", "i", "f", "b", "B", "u", "d", "dt", "D", "t", "l", "m", "br"}
PAYLOAD_KEYS = {"Payload", "Result", "InputPayload", "ErrorData"}
PREVIEW_CHARS = 4000
SECRET_KEYS = {"CallbackId", "callbackId"}
REDACTED = "(hidden)"
MAX_DEPTH = 64  # levels of objects and lists a payload may nest and still be decoded for display
TOO_DEEP = "(too deeply nested to display: download the history for the raw payload)"
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str, *, cap: int = MAX_DEPTH) -> int:
    """How deep the objects and lists of JSON `text` nest (without parsing it; stops counting past `cap`)."""
    if text.count("{") + text.count("[") <= cap:
        return min(text.count("{") + text.count("["), cap)
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > cap:
                break
    return deepest


def value_depth(value, *, cap: int = MAX_DEPTH) -> int:
    """How deep dicts and lists nest in `value`, measured without recursion (stops past `cap`)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth > deepest:
                deepest = depth
                if deepest > cap:
                    break
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def too_deep(value) -> bool:
    """True when `value` (a decoded value, or JSON text) nests deeper than MAX_DEPTH."""
    if isinstance(value, str):
        return json_depth(value) > MAX_DEPTH
    return value_depth(value) > MAX_DEPTH


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
    too_deep: bool = False  # nested deeper than MAX_DEPTH: not decoded (the raw text is kept)

    def preview(self, limit: int = PREVIEW_CHARS) -> str:
        if not self.raw:
            return ""
        if self.too_deep:
            return TOO_DEEP
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
        raw = TOO_DEEP if too_deep(raw) else json.dumps(raw, default=str)
    size = len(raw.encode("utf-8"))
    if json_depth(raw) > MAX_DEPTH:
        return Payload(raw=raw, value=None, is_json=False, truncated=truncated, size=size, too_deep=True)
    try:
        value = envelope_unwrap(json.loads(raw))
        is_json = True
    except (ValueError, RecursionError):
        value, is_json = None, False
    return Payload(raw=raw, value=value, is_json=is_json, truncated=truncated, size=size)


def payload_value(text):
    """For display: a JSON payload string -> its decoded value; anything else is returned as it is."""
    if not isinstance(text, str):
        return text
    stripped = text.strip()
    if not stripped or stripped[0] not in '{["0123456789-tfn':
        return text
    payload = payload_decode(stripped)
    if payload.too_deep:
        return TOO_DEEP
    return payload.value if payload.is_json else text


def details_decode(details):
    """An event's *Details structure with every payload string decoded (for display)."""
    if isinstance(details, dict | list) and too_deep(details):
        return TOO_DEEP
    return _details(details)


def _details(details):
    if isinstance(details, dict):
        return {
            key: payload_value(value) if key in PAYLOAD_KEYS and isinstance(value, str) else _details(value)
            for key, value in details.items()
        }
    if isinstance(details, list):
        return [_details(item) for item in details]
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
    if isinstance(value, dict | list | tuple) and too_deep(value):
        return TOO_DEEP
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return str(value) if not isinstance(value, dict | list | tuple) else TOO_DEEP


def secrets_redact(value):
    """A copy of `value` with callback ids replaced: whoever holds one can answer the callback.

    A value nested deeper than MAX_DEPTH becomes TOO_DEEP (it is not walked)."""
    if isinstance(value, dict | list) and too_deep(value):
        return TOO_DEEP
    return _redact(value)


def _redact(value):
    if isinstance(value, dict):
        return {key: REDACTED if key in SECRET_KEYS and item else _redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
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
            payload = json.loads(payload) if json_depth(payload) <= MAX_DEPTH else {"ErrorMessage": TOO_DEEP}
        except (ValueError, RecursionError):
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
