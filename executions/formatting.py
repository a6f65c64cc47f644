"""Human-readable durations, times and "what it is doing now" sentences."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html


def duration_text(seconds: float | None) -> str:
    """350 ms · 12.3 s · 3 m 12 s · 3 h 12 m · 2 d 4 h."""
    if seconds is None:
        return ""
    seconds = max(0.0, float(seconds))
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} m {secs} s" if secs else f"{minutes} m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} m" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def ms_text(ms: int | float | None) -> str:
    return "" if ms is None else duration_text(ms / 1000)


def as_datetime(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)
    if isinstance(value, str) and value:
        parsed = parse_datetime(value.replace("Z", "+00:00"))
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, UTC)
        return parsed
    return None


def clock_text(moment: datetime | None, *, now: datetime | None = None) -> str:
    """14:05 today, otherwise 'Nov 28 14:05' (in the site's time zone)."""
    if moment is None:
        return ""
    now = now or timezone.now()
    local = timezone.localtime(moment)
    if abs(moment - now) < timedelta(hours=20) and timezone.localtime(now).date() == local.date():
        return local.strftime("%H:%M:%S") if abs(moment - now) < timedelta(minutes=10) else local.strftime("%H:%M")
    return local.strftime("%b %d %H:%M")


def execution_duration_seconds(execution, *, now: datetime | None = None) -> float | None:
    if execution.duration_ms is not None:
        return execution.duration_ms / 1000
    if execution.started_at is None:
        return None
    end = execution.ended_at or now or timezone.now()
    return (end - execution.started_at).total_seconds()


def status_class(status: str) -> str:
    """A CSS-safe class for an open-set status value."""
    return re.sub(r"[^A-Za-z0-9_-]", "", status or "") or "UNKNOWN"


def activity_html(execution, *, now: datetime | None = None) -> str:
    """'waiting on callback approval for 3 h 12 m, 20 h left', 'retrying step charge (attempt 3)', ..."""
    now = now or timezone.now()
    if execution.status != "RUNNING":
        return ""
    activity = execution.activity if isinstance(execution.activity, dict) else None
    if not activity:
        return "running"
    kind = str(activity.get("kind") or "")
    name = str(activity.get("name") or "")
    code = format_html("<code>{}</code>", name) if name else ""
    if kind == "callback":
        since = as_datetime(activity.get("since"))
        deadline = as_datetime(activity.get("deadline"))
        text = format_html("waiting on callback {}", code)
        if since:
            text = format_html("{} for {}", text, duration_text((now - since).total_seconds()))
        if deadline:
            left = (deadline - now).total_seconds()
            if left >= 0:
                text = format_html("{}, {} left", text, duration_text(left))
            else:
                text = format_html('{}, <span class="overdue">overdue by {}</span>', text, duration_text(-left))
        return text
    if kind == "wait":
        until = as_datetime(activity.get("until"))
        if until:
            suffix = f" (in {duration_text((until - now).total_seconds())})" if until > now else " (overdue)"
            return format_html("sleeping{} until {}{}", format_html(" in {}", code) if name else "",
                               clock_text(until, now=now), suffix)
        return format_html("sleeping {}", code)
    if kind == "retry":
        attempt = activity.get("attempt")
        text = format_html("retrying step {}", code)
        if attempt:
            text = format_html("{} (attempt {})", text, attempt)
        next_at = as_datetime(activity.get("next_attempt_at"))
        if next_at and next_at > now:
            text = format_html("{}, next in {}", text, duration_text((next_at - now).total_seconds()))
        return text
    if kind == "step":
        since = as_datetime(activity.get("since"))
        text = format_html("running step {}", code)
        return format_html("{} for {}", text, duration_text((now - since).total_seconds())) if since else text
    if kind in ("invoke", "chained_invoke"):
        since = as_datetime(activity.get("since"))
        text = format_html("waiting on invoked function {}", code)
        return format_html("{} for {}", text, duration_text((now - since).total_seconds())) if since else text
    if kind:
        return format_html("{} {}", kind.replace("_", " "), code)
    return "running"
