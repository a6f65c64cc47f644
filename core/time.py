"""The one timestamp parser: API answers, saved histories, stored JSON and our own records."""

from __future__ import annotations

from datetime import UTC, datetime


def timestamp_parse(value) -> datetime | None:
    """ISO 8601 text, epoch seconds or milliseconds (the CLI may print either) or a datetime -> aware datetime.

    Anything unreadable (a wrong type, a malformed string) is None, never an exception.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value / 1000 if abs(value) > 1e11 else value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return timestamp_parse(float(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def timestamp_iso(moment: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 text for JSON (None stays None)."""
    return moment.isoformat() if moment else None
