"""The audit-row helper: what every audit row (decisions, admin actions) records the same way.

Who acted (the user row, and the username kept even if the user is deleted later) and the error text,
clipped and scrubbed of secrets: botocore puts the request URL, which contains the callback id, into
connection-error messages, and whoever holds a callback id can answer the callback.
"""

from __future__ import annotations

from urllib.parse import quote

ERROR_CHARS = 4000
SECRET_PLACEHOLDER = "<callback-id>"


def secret_scrub(text: str, *secrets: str) -> str:
    """`text` with every plain or URL-encoded form of each secret replaced by a placeholder."""
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            text = text.replace(form, SECRET_PLACEHOLDER)
    return text


def audit_error(text: object, *secrets: str) -> str:
    """Error text as an audit row stores it: scrubbed of `secrets`, at most ERROR_CHARS characters."""
    return secret_scrub(str(text or ""), *secrets)[:ERROR_CHARS]


def audit_actor(user) -> dict:
    """The `user` and `username` fields of an audit row (anonymous or missing users are kept as a name only)."""
    if user is None:
        return {"user": None, "username": ""}
    return {"user": user if getattr(user, "pk", None) else None, "username": user.get_username()}
