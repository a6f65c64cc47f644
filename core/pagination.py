"""The one signed cursor codec: page cursors in URLs are signed, so a forged or edited one is refused."""

from __future__ import annotations

from django.core import signing

MAX_CURSOR_CHARS = 2000


class InvalidCursor(ValueError):
    """The page cursor in the URL was not issued by us (or is malformed)."""


def cursor_encode(value, *, salt: str) -> str:
    """`value` (JSON-able) as a signed, URL-safe token."""
    return signing.dumps(value, salt=salt, compress=True)


def cursor_decode(token: str, *, salt: str):
    """The value `cursor_encode` signed with the same salt; InvalidCursor for anything else."""
    if not isinstance(token, str) or len(token) > MAX_CURSOR_CHARS:
        raise InvalidCursor("cursor too long")
    try:
        return signing.loads(token, salt=salt)
    except signing.BadSignature as error:
        raise InvalidCursor("cursor signature mismatch") from error
    except ValueError as error:  # malformed base64 or JSON inside a valid-looking token
        raise InvalidCursor("cursor is malformed") from error
