"""/metrics: access control, the Prometheus text format, and every family's values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from core.counters import API_CALLS, API_ERRORS, API_THROTTLES, counters_clear
from dashboard.task_signals import TASK_FAILURES, TASK_RETRIES
from tests.executions.sync_support import gateway_faults

TOKEN = "scrape-token-0123456789"
THROTTLED_ARN = "arn:aws:lambda:us-east-1:123456789012:function:OrderApproval:$LATEST/durable-execution/t/throttled"


@pytest.fixture(autouse=True)
def clean_counters(db, settings):
    settings.METRICS_TOKEN = TOKEN
    counters_clear(API_CALLS, API_THROTTLES, API_ERRORS, TASK_FAILURES, TASK_RETRIES)
    yield
    counters_clear(API_CALLS, API_THROTTLES, API_ERRORS, TASK_FAILURES, TASK_RETRIES)


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


# --- access control ----------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_scrape_is_refused_with_401_not_a_login_redirect(client):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_wrong_token_is_refused(client):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


@pytest.mark.django_db
def test_no_token_configured_means_bearer_auth_is_off(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_approver_without_operator_role_gets_403(approver_client):
    assert approver_client.get("/metrics").status_code == 403


def test_operator_and_admin_sessions_may_read_metrics(client, operator, admin_user):
    for user in (operator, admin_user):
        client.force_login(user)
        response = client.get("/metrics")
        assert response.status_code == 200
        assert b"durable_console_executions" in response.content


@pytest.mark.django_db
def test_metrics_is_only_get(client):
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


# --- values ------------------------------------------------------------------------------------


@pytest.fixture
def stored_executions(db):
    from executions.models import Execution, HistoryEvent, MonitoredFunction, Operation

    now = timezone.now()
    synced = MonitoredFunction.objects.create(name="OrderApproval", last_sync_succeeded_at=now - timedelta(seconds=42))
    MonitoredFunction.objects.create(
        name="Billing", last_sync_error="boom", last_sync_error_at=now - timedelta(seconds=5)
    )

    def execution(name, function, status, **kwargs):
        return Execution.objects.create(
            arn=f"arn:test:{name}", name=name, function_name=function, status=status, started_at=now, **kwargs
        )

    running = [execution(f"r{i}", "OrderApproval", "RUNNING") for i in range(3)]
    execution("s1", "OrderApproval", "SUCCEEDED", history_complete=True)
    failed = execution("f1", "Billing", "FAILED", history_complete=True, needs_attention=True)
    execution("odd", "Billing", "SOME_FUTURE_STATUS", next_poll_at=now - timedelta(seconds=90))
    running[0].next_poll_at = now - timedelta(seconds=30)
    running[0].save()
    for i in range(1, 6):
        HistoryEvent.objects.create(execution=running[0], event_id=i, event_type="StepStarted", raw={})
    HistoryEvent.objects.create(execution=failed, event_id=1, event_type="ExecutionStarted", raw={})

    def callback(execution, op_id, deadline, ended=None):
        Operation.objects.create(
            execution=execution, operation_id=op_id, op_type="callback", deadline=deadline, ended_at=ended
        )

    callback(running[0], "cb-late", now - timedelta(minutes=5))  # open, past deadline: counted
    callback(running[1], "cb-ok", now + timedelta(hours=1))  # open, not yet due
    callback(running[2], "cb-done", now - timedelta(minutes=5), ended=now)  # answered
    callback(failed, "cb-dead", now - timedelta(minutes=5))  # execution over: not actionable
    return synced


def test_gauges_from_the_database(client, stored_executions):
    samples = scrape(client)
    assert value(samples, "durable_console_executions", function="OrderApproval", status="RUNNING") == 3
    assert value(samples, "durable_console_executions", function="OrderApproval", status="SUCCEEDED") == 1
    assert value(samples, "durable_console_executions", function="Billing", status="SOME_FUTURE_STATUS") == 1
    assert value(samples, "durable_console_executions_needing_attention", function="Billing") == 1
    assert value(samples, "durable_console_history_events_stored") == 6
    assert value(samples, "durable_console_callbacks_past_deadline", function="OrderApproval") == 1
    assert value(samples, "durable_console_callbacks_past_deadline", function="Billing") is None

    lag = value(samples, "durable_console_sync_lag_seconds", function="OrderApproval")
    assert 42 <= lag < 42 + 60
    assert value(samples, "durable_console_sync_last_success_timestamp_seconds", function="OrderApproval") == (
        pytest.approx(stored_executions.last_sync_succeeded_at.timestamp())
    )
    assert value(samples, "durable_console_sync_last_success_timestamp_seconds", function="Billing") == 0
    assert value(samples, "durable_console_sync_failing", function="Billing") == 1
    assert value(samples, "durable_console_sync_failing", function="OrderApproval") == 0
    assert value(samples, "durable_console_history_sync_backlog", function="OrderApproval") == 1
    assert value(samples, "durable_console_history_sync_backlog", function="Billing") == 1
    assert value(samples, "durable_console_history_sync_overdue_seconds", function="Billing") >= 90


def test_decisions_by_decision_and_outcome(client, db):
    from approvals.models import Decision

    for decision, outcome in [("approve", "succeeded"), ("approve", "succeeded"), ("reject", "closed")]:
        Decision.objects.create(order_id="o", decision=decision, username="u", outcome=outcome)
    samples = scrape(client)
    assert value(samples, "durable_console_decisions_total", decision="approve", outcome="succeeded") == 2
    assert value(samples, "durable_console_decisions_total", decision="reject", outcome="closed") == 1


def test_notifications_by_kind_channel_and_status(client, db):
    from notifications.models import Notification

    rows = [("order_pending", "email", "sent")] * 2 + [
        ("order_pending", "webhook", "failed"),
        ("execution_attention", "email", "digested"),
    ]
    for index, (kind, channel, status) in enumerate(rows):
        Notification.objects.create(
            kind=kind,
            subject=f"s{index}",
            recipient="r@example.com",
            channel=channel,
            dedupe_key=f"{index:064}",
            status=status,
        )
    samples = scrape(client)
    name = "durable_console_notifications_total"
    assert value(samples, name, kind="order_pending", channel="email", status="sent") == 2
    assert value(samples, name, kind="order_pending", channel="webhook", status="failed") == 1
    assert value(samples, name, kind="execution_attention", channel="email", status="digested") == 1
    assert value(samples, name, kind="order_pending", channel="email", status="failed") is None


def test_api_calls_throttles_and_errors_by_operation(client, aws, db):
    from executions import durable_api
    from executions.governor import governor_reset

    governor_reset()
    with pytest.raises(durable_api.ExecutionNotFound):
        durable_api.execution_describe(
            execution_arn="arn:aws:lambda:us-east-1:123456789012:function:Nope:$LATEST/durable-execution/x/y"
        )
    pages = list(durable_api.executions_list_pages(function_name="OrderApproval"))
    assert isinstance(pages, list)

    # The gateway throttles on demand with AWS's TooManyRequestsException shape (armed for two requests:
    # botocore's `max_attempts=1` means one retry; the rest is cleared below).
    fault = {"throttle": 2, "operation": "GetDurableExecution", "retryAfterSeconds": 0.01}
    gateway_faults(aws, "POST", fault)
    try:
        with pytest.raises(durable_api.Throttled):
            durable_api.execution_describe(execution_arn=THROTTLED_ARN)
    finally:
        gateway_faults(aws, "DELETE")
    governor_reset()

    samples = scrape(client)
    assert value(samples, "durable_console_api_calls_total", operation="get_durable_execution") == 2
    assert value(samples, "durable_console_api_calls_total", operation="list_durable_executions_by_function") >= 1
    assert value(samples, "durable_console_api_throttles_total", operation="get_durable_execution") == 1
    errors = {labels: v for (name, labels), v in samples.items() if name == "durable_console_api_errors_total"}
    assert sum(errors.values()) == 1
    ((labels, _),) = errors.items()
    assert dict(labels)["operation"] == "get_durable_execution"


def test_celery_task_failures_and_retries_are_counted(client, db):
    from tests.production.probe_tasks import always_fails, fails_then_retries

    always_fails.apply()
    always_fails.apply()
    fails_then_retries.apply()
    samples = scrape(client)
    assert (
        value(
            samples,
            "durable_console_celery_task_failures_total",
            task="tests.production.always_fails",
            exception="RuntimeError",
        )
        == 2
    )
    assert value(samples, "durable_console_celery_task_retries_total", task="tests.production.fails_then_retries") >= 1


def test_every_family_has_help_and_type(client, stored_executions):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    families = {f.name: f for f in text_string_to_metric_families(response.content.decode())}
    expected = {
        "durable_console_sync_lag_seconds": "gauge",
        "durable_console_api_calls": "counter",
        "durable_console_api_throttles": "counter",
        "durable_console_history_events_stored": "gauge",
        "durable_console_executions": "gauge",
        "durable_console_callbacks_past_deadline": "gauge",
        "durable_console_decisions": "counter",
        "durable_console_notifications": "counter",
        "durable_console_celery_task_failures": "counter",
    }
    for name, kind in expected.items():
        assert families[name].type == kind, name
        assert families[name].documentation, name
