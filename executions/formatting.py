"""What an execution is doing now, as a sentence, and how long it has run.

Durations and clock times are written by `core.formatting` (the one format); only the
execution-specific pieces live here.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html

from core.formatting import clock_text, duration_text
from core.time import timestamp_parse
from executions.statuses import ExecutionStatus


def execution_duration_seconds(execution, *, now: datetime | None = None) -> float | None:
    if execution.duration_ms is not None:
        return execution.duration_ms / 1000
    if execution.started_at is None:
        return None
    end = execution.ended_at or now or timezone.now()
    return (end - execution.started_at).total_seconds()


def activity_html(execution, *, now: datetime | None = None) -> str:
    """'waiting on callback approval for 3 h 12 m, 20 h left', 'retrying step charge (attempt 3)', ..."""
    now = now or timezone.now()
    if execution.status != ExecutionStatus.RUNNING:
        return ""
    activity = execution.activity if isinstance(execution.activity, dict) else None
    if not activity:
        return "running"
    kind = str(activity.get("kind") or "")
    name = str(activity.get("name") or "")
    code = format_html("<code>{}</code>", name) if name else ""
    if kind == "callback":
        since = timestamp_parse(activity.get("since"))
        deadline = timestamp_parse(activity.get("deadline"))
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
        until = timestamp_parse(activity.get("until"))
        if until:
            suffix = f" (in {duration_text((until - now).total_seconds())})" if until > now else " (overdue)"
            return format_html(
                "sleeping{} until {}{}", format_html(" in {}", code) if name else "", clock_text(until, now=now), suffix
            )
        return format_html("sleeping {}", code)
    if kind == "retry":
        attempt = activity.get("attempt")
        text = format_html("retrying step {}", code)
        if attempt:
            text = format_html("{} (attempt {})", text, attempt)
        next_at = timestamp_parse(activity.get("next_attempt_at"))
        if next_at and next_at > now:
            text = format_html("{}, next in {}", text, duration_text((next_at - now).total_seconds()))
        return text
    if kind == "step":
        since = timestamp_parse(activity.get("since"))
        text = format_html("running step {}", code)
        return format_html("{} for {}", text, duration_text((now - since).total_seconds())) if since else text
    if kind in ("invoke", "chained_invoke"):
        since = timestamp_parse(activity.get("since"))
        text = format_html("waiting on invoked function {}", code)
        return format_html("{} for {}", text, duration_text((now - since).total_seconds())) if since else text
    if kind:
        return format_html("{} {}", kind.replace("_", " "), code)
    return "running"
