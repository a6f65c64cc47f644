"""Decoding payloads for people to read (pages only; the raw text is always kept and downloadable).

Payloads are JSON strings; the Python SDK wraps non-trivial values in a typed
envelope `{"t": tag, "v": value}` that is unwrapped here, recursively.
"""

from __future__ import annotations

import json

ENVELOPE_KEYS = {"t", "v"}
PAYLOAD_KEYS = {"Payload", "Result", "InputPayload", "ErrorData"}


def envelope_unwrap(value):
    """Unwrap the SDK's typed envelopes anywhere in a decoded JSON value."""
    if isinstance(value, dict):
        if set(value) == ENVELOPE_KEYS and isinstance(value["t"], str):
            tag, inner = value["t"], value["v"]
            if tag == "m" and isinstance(inner, dict):
                return {key: envelope_unwrap(item) for key, item in inner.items()}
            if tag in ("l", "t") and isinstance(inner, list):
                return [envelope_unwrap(item) for item in inner]
            return envelope_unwrap(inner)
        return {key: envelope_unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [envelope_unwrap(item) for item in value]
    return value


def payload_decode(text):
    """A JSON payload string → its decoded value; anything else is returned as it is."""
    if not isinstance(text, str):
        return text
    stripped = text.strip()
    if not stripped or stripped[0] not in '{["0123456789-tfn':
        return text
    try:
        return envelope_unwrap(json.loads(stripped))
    except ValueError:
        return text


def details_decode(details):
    """An event's *Details structure with every payload string decoded (for display)."""
    if isinstance(details, dict):
        decoded = {}
        for key, value in details.items():
            if key in PAYLOAD_KEYS and isinstance(value, str):
                decoded[key] = payload_decode(value)
            else:
                decoded[key] = details_decode(value)
        return decoded
    if isinstance(details, list):
        return [details_decode(item) for item in details]
    return details


def pretty(value) -> str:
    """Indented JSON for a <pre> block (strings are shown as they are)."""
    if value is None:
        return ""
    if isinstance(value, str):
        decoded = payload_decode(value)
        if isinstance(decoded, str):
            return decoded
        value = decoded
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=False)
    except (TypeError, ValueError):
        return str(value)


SECRET_KEYS = {"CallbackId", "callbackId"}
REDACTED = "(hidden)"


def secrets_redact(value):
    """A copy of `value` with callback ids replaced: whoever holds one can answer the callback."""
    if isinstance(value, dict):
        return {key: REDACTED if key in SECRET_KEYS and item else secrets_redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [secrets_redact(item) for item in value]
    return value
