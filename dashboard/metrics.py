"""What /metrics exposes, in the Prometheus text format.

Everything is read at scrape time, so any web process answers for the whole
deployment: gauges come from the database the poller keeps, counters from the
shared cache counters (core/counters.py) that every worker increments.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from approvals.models import Decision
from core.counters import (
    API_CALLS,
    API_ERRORS,
    API_THROTTLES,
    PUSH_EVENTS,
    PUSH_LAG,
    PUSH_LAG_BUCKETS,
    PUSH_REJECTED,
    counter_series,
    histogram_read,
)
from core.roles import ADMINS, OPERATORS, user_roles
from dashboard.task_signals import TASK_FAILURES, TASK_RETRIES
from executions.models import Execution, HistoryEvent, MonitoredFunction, Operation
from executions.statuses import TERMINAL_STATUSES
from notifications.models import Notification

PREFIX = "durable_console"


def _counter(name: str, documentation: str, source: str, labels: list[str]) -> CounterMetricFamily:
    family = CounterMetricFamily(f"{PREFIX}_{name}", documentation, labels=labels)
    for series, value in counter_series(source):
        family.add_metric([series.get(label, "") for label in labels], value)
    return family


def _sync_families(now) -> list[GaugeMetricFamily]:
    last_success = GaugeMetricFamily(
        f"{PREFIX}_sync_last_success_timestamp_seconds",
        "Unix time of the last successful listing sync of each monitored function (0: never).",
        labels=["function"],
    )
    lag = GaugeMetricFamily(
        f"{PREFIX}_sync_lag_seconds",
        "Seconds since the last successful listing sync of each monitored function "
        "(since monitoring began if it never succeeded).",
        labels=["function"],
    )
    failing = GaugeMetricFamily(
        f"{PREFIX}_sync_failing",
        "1 when the latest sync attempt of the function failed (see the dashboard for the error).",
        labels=["function"],
    )
    for function in MonitoredFunction.objects.filter(enabled=True):
        label = [str(function)]
        succeeded = function.last_sync_succeeded_at
        last_success.add_metric(label, succeeded.timestamp() if succeeded else 0.0)
        lag.add_metric(label, max(0.0, (now - (succeeded or function.created_at)).total_seconds()))
        errored = function.last_sync_error_at
        failing.add_metric(label, 1.0 if errored and (not succeeded or errored > succeeded) else 0.0)

    overdue = GaugeMetricFamily(
        f"{PREFIX}_history_sync_overdue_seconds",
        "How long the most overdue history poll of each function has been waiting (0: none overdue).",
        labels=["function"],
    )
    backlog = GaugeMetricFamily(
        f"{PREFIX}_history_sync_backlog",
        "Executions whose history poll is due now, per function.",
        labels=["function"],
    )
    pending = (
        Execution.objects.exclude(Q(status__in=TERMINAL_STATUSES) & Q(history_complete=True))
        .filter(next_poll_at__lte=now, imported=False)
        .values("function_name")
        .annotate(due=Count("id"), oldest=Min("next_poll_at"))
        .order_by()
    )
    seen = set()
    for row in pending:
        seen.add(row["function_name"])
        overdue.add_metric([row["function_name"]], max(0.0, (now - row["oldest"]).total_seconds()))
        backlog.add_metric([row["function_name"]], row["due"])
    for name in MonitoredFunction.objects.filter(enabled=True).values_list("name", flat=True).distinct():
        if name not in seen:
            overdue.add_metric([name], 0.0)
            backlog.add_metric([name], 0)
    return [last_success, lag, failing, overdue, backlog]


def _execution_families(now) -> list[GaugeMetricFamily]:
    """Live executions only: imported histories are offline copies and never counted."""
    live = Execution.objects.filter(imported=False)
    by_status = GaugeMetricFamily(
        f"{PREFIX}_executions", "Executions stored, by function and status.", labels=["function", "status"]
    )
    for row in live.values("function_name", "status").annotate(n=Count("id")).order_by():
        by_status.add_metric([row["function_name"], row["status"]], row["n"])

    attention = GaugeMetricFamily(
        f"{PREFIX}_executions_needing_attention",
        "Executions flagged as stuck, overdue or failing, by function.",
        labels=["function"],
    )
    rows = live.filter(needs_attention=True).values("function_name").annotate(n=Count("id")).order_by()
    for row in rows:
        attention.add_metric([row["function_name"]], row["n"])

    events = GaugeMetricFamily(f"{PREFIX}_history_events_stored", "History events stored (polled executions).")
    events.add_metric([], HistoryEvent.objects.filter(execution__imported=False).count())

    overdue_callbacks = GaugeMetricFamily(
        f"{PREFIX}_callbacks_past_deadline",
        "Callbacks still open (no outcome event, execution not finished) whose deadline has passed.",
        labels=["function"],
    )
    rows = (
        Operation.objects.filter(op_type="callback", ended_at__isnull=True, deadline__lt=now, execution__imported=False)
        .exclude(execution__status__in=TERMINAL_STATUSES)
        .values("execution__function_name")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        overdue_callbacks.add_metric([row["execution__function_name"]], row["n"])
    return [by_status, attention, events, overdue_callbacks]


def _decision_families() -> list[CounterMetricFamily]:
    family = CounterMetricFamily(
        f"{PREFIX}_decisions",
        "Approval decisions recorded, by decision (approve/reject) and outcome.",
        labels=["decision", "outcome"],
    )
    for row in Decision.objects.values("decision", "outcome").annotate(n=Count("id")).order_by():
        family.add_metric([row["decision"], row["outcome"]], row["n"])
    return [family]


def _notification_families() -> list[CounterMetricFamily]:
    family = CounterMetricFamily(
        f"{PREFIX}_notifications",
        "Notifications written, by kind, channel and status (pending, sending, sent, failed, digested, skipped).",
        labels=["kind", "channel", "status"],
    )
    rows = Notification.objects.values("kind", "channel", "status").annotate(n=Count("id")).order_by()
    for row in rows:
        family.add_metric([row["kind"], row["channel"], row["status"]], row["n"])
    return [family]


def _push_families() -> list:
    """Push, then poll (executions/push/): reports received, how late they were stored, and what was refused."""
    events = _counter("push_events", "Push events accepted, by source (plugin, eventbridge).", PUSH_EVENTS, ["source"])
    lag = histogram_read(PUSH_LAG, buckets=PUSH_LAG_BUCKETS)
    histogram = HistogramMetricFamily(
        f"{PREFIX}_push_lag_seconds",
        "Seconds from a pushed event's own time (the plugin's observed_at, EventBridge's status change) to stored.",
        buckets=lag.buckets,
        sum_value=lag.sum,
    )
    rejected = _counter(
        "push_rejected",
        "Push requests and events refused or ignored, by reason (unauthorized, rate_limited, too_large, malformed, "
        "too_deep, schema, invalid_event, forbidden_field, unknown_kind, unknown_function, imported, deleted).",
        PUSH_REJECTED,
        ["reason"],
    )
    return [events, histogram, rejected]


class ConsoleCollector:
    def collect(self):
        now = timezone.now()
        yield from _sync_families(now)
        yield from _execution_families(now)
        yield from _decision_families()
        yield from _notification_families()
        yield from _push_families()
        yield _counter("api_calls", "Lambda durable-API calls made, by operation.", API_CALLS, ["operation"])
        yield _counter("api_throttles", "TooManyRequestsException answers, by operation.", API_THROTTLES, ["operation"])
        yield _counter(
            "api_errors",
            "Other failed Lambda API calls, by operation and error code.",
            API_ERRORS,
            ["operation", "code"],
        )
        yield _counter(
            "celery_task_failures",
            "Celery tasks that ended in failure, by task and exception.",
            TASK_FAILURES,
            ["task", "exception"],
        )
        yield _counter("celery_task_retries", "Celery task retries, by task.", TASK_RETRIES, ["task"])


def metrics_render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ConsoleCollector())
    return generate_latest(registry)


def metrics_access(request) -> str:
    """'ok', 'unauthenticated' (401) or 'forbidden' (403).

    Allowed: a request with `Authorization: Bearer <METRICS_TOKEN>` (Prometheus),
    or a logged-in staff user, admin or operator (a person looking).
    """
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        if hmac.compare_digest(header[len("Bearer ") :].strip().encode(), token.encode()):
            return "ok"
        return "unauthenticated"
    user = request.user
    if not user.is_authenticated:
        return "unauthenticated"
    if user.is_staff or user_roles(user) & {ADMINS, OPERATORS}:
        return "ok"
    return "forbidden"
