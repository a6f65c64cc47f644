"""What an execution is doing now, as a sentence, and how long it has run.

Durations and clock times are written by `core.formatting` (the one format); only the
execution-specific pieces live here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

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


REPORTED_BADGE = format_html(
    ' <span class="pushed-badge" title="{}">reported, awaiting history</span>',
    "Reported by the function as it ran (push); the next history fetch confirms it.",
)


def activity_html(execution, *, now: datetime | None = None) -> str:
    """'waiting on callback approval for 3 h 12 m, 20 h left', 'retrying step charge (attempt 3)', ...; followed
    by a "reported, awaiting history" badge when it comes from a push the history does not show yet."""
    text = _activity_text(execution, now=now or timezone.now())
    activity = execution.activity if isinstance(execution.activity, dict) else {}
    if text and activity.get("pushed") and not ExecutionStatus.is_terminal(execution.status):
        return format_html("{}{}", text, REPORTED_BADGE)
    return text


def _activity_text(execution, *, now: datetime) -> str:
    if getattr(execution, "deleted_at", None) or ExecutionStatus.is_terminal(execution.status):
        return ""
    activity = execution.activity if isinstance(execution.activity, dict) else None
    if execution.status in (ExecutionStatus.PAUSING, ExecutionStatus.PAUSED):
        return paused_html(execution.status, activity if activity and activity.get("kind") == "paused" else {}, now)
    if execution.status == ExecutionStatus.DELETING:
        return "being deleted"
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


def paused_html(status: str, activity: dict, now: datetime) -> str:
    """'paused since 14:05: maintenance' (or 'pausing since ...' while an invocation is still running)."""
    since = timestamp_parse(activity.get("since"))
    text = "pausing" if status == ExecutionStatus.PAUSING else "paused"
    if since:
        text = format_html('{} since <span title="{}">{}</span>', text, since.isoformat(), clock_text(since, now=now))
    reason = str(activity.get("reason") or "")
    return format_html("{}: {}", text, reason) if reason else format_html("{}", text)


def execution_timeout_info(*, execution, now: datetime | None = None) -> dict:
    """The execution's DurableConfig and when it times out, for the detail page.

    {"paused_at", "timeout_seconds", "retention_days", "expected_at", "computed", "left"}: `expected_at` is
    GetDurableExecution's ExpectedExecutionTimeoutTimestamp (which includes time paused); when the API
    gives none, it is the start time plus the execution timeout (`computed`: True). `left` reads
    "6 d 3 h" while the execution runs.
    """
    now = now or timezone.now()
    config = execution.durable_config if isinstance(execution.durable_config, dict) else {}
    timeout = config.get("ExecutionTimeout") or execution.execution_timeout_seconds
    expected, computed = execution.expected_timeout_at, False
    if expected is None and timeout and execution.started_at:
        expected, computed = execution.started_at + timedelta(seconds=int(timeout)), True
    left = ""
    if expected and not ExecutionStatus.is_terminal(execution.status) and expected > now:
        seconds = (expected - now).total_seconds()
        step = 3600 if seconds >= 86400 else 60 if seconds >= 3600 else 1  # "6 d 3 h", "4 h 12 m", "35 m 10 s"
        left = duration_text(round(seconds / step) * step)
    pause = execution.pause_details if isinstance(execution.pause_details, dict) else {}
    return {
        "paused_at": timestamp_parse(pause.get("PauseRequestTimestamp")),
        "timeout_seconds": timeout,
        "retention_days": config.get("RetentionPeriodInDays"),
        "expected_at": expected,
        "computed": computed,
        "left": left,
    }
