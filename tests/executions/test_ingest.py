"""POST /ingest/operations and /ingest/eventbridge through the Django test client, against the test database:
authentication, limits, bad input, the version guard, which executions a push may touch, EventBridge dedupe and
the metrics. (The history side, with syncs on the AWS double, is in test_ingest_sync.py.)"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone
from django_ratelimit.core import get_usage

from core.counters import PUSH_EVENTS, PUSH_REJECTED, counter_total
from executions.models import EventBridgeEvent, Execution, MonitoredFunction, PushedOperation
from executions.push.ingest import eventbridge_event_ingest
from executions.scheduler import NEW
from tests.executions.page_factories import execution_make, function_make
from tests.executions.push_support import (
    EVENTBRIDGE_URL,
    OPERATIONS_URL,
    TOKEN,
    batch,
    execution_arn,
    invocation_event,
    operation_event,
    post_json,
    push,
    snapshot_event,
    status_change,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def ingest(settings):
    settings.INGEST_TOKEN = TOKEN
    settings.INGEST_RATE_LIMIT = "10000/m"


@pytest.fixture
def orders():
    return function_make("Orders")


@pytest.fixture
def running(orders):
    return execution_make(
        function=orders, arn=execution_arn("Orders"), next_poll_at=timezone.now() + timedelta(hours=1)
    )


def rejected(reason: str) -> int:
    return counter_total(PUSH_REJECTED, reason=reason)


# --- who may push ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [OPERATIONS_URL, EVENTBRIDGE_URL])
def test_missing_wrong_or_empty_token_is_401_and_counted(client, settings, running, url):
    body = batch(operation_event(running.arn, "op-1", "STARTED", (1, 1)))
    for token in (None, "wrong", TOKEN[:-1], ""):
        response = post_json(client, url, body, token=token)
        assert response.status_code == 401, token
        assert response["WWW-Authenticate"] == 'Bearer realm="ingest"'
        assert response.json()["reason"] == "unauthorized"
    settings.INGEST_TOKEN = ""  # an empty INGEST_TOKEN refuses everything, even an empty bearer
    assert post_json(client, url, body, token="").status_code == 401
    assert post_json(client, url, body, token=TOKEN).status_code == 401
    assert rejected("unauthorized") == 6
    assert not PushedOperation.objects.exists()


def test_a_session_is_not_enough_and_no_csrf_token_is_needed(admin_client_, running):
    """A logged-in admin without the token gets 401 (no cookie authenticates); with it, no CSRF token is asked."""
    body = batch(operation_event(running.arn, "op-1", "STARTED", (1, 1)))
    assert post_json(admin_client_, OPERATIONS_URL, body, token=None).status_code == 401
    admin_client_.handler.enforce_csrf_checks = True
    assert post_json(admin_client_, OPERATIONS_URL, body).status_code == 200


def test_get_is_405(client):
    assert client.get(OPERATIONS_URL).status_code == 405
    assert client.get(EVENTBRIDGE_URL).status_code == 405


def test_rate_limited_past_the_budget_with_retry_after(client, settings, running):
    settings.INGEST_RATE_LIMIT = "3/m"
    body = batch(operation_event(running.arn, "op-1", "STARTED", (1, 1)))
    assert [push(client, *body["events"]).status_code for _ in range(3)] == [200, 200, 200]
    response = push(client, *body["events"])
    assert response.status_code == 429 and response.json()["reason"] == "rate_limited"
    # Retry-After is what is left of this client's rate window (django-ratelimit's, read back without spending it);
    # the window's end is fixed, so a second ticking between the two reads is the only difference allowed.
    window = get_usage(
        RequestFactory().post(OPERATIONS_URL),
        group="ingest_operations",
        key=lambda _group, request: request.META["REMOTE_ADDR"],
        rate="3/m",
        increment=False,
    )
    assert window["should_limit"]
    assert int(response["Retry-After"]) in {max(1, window["time_left"]), window["time_left"] + 1}
    # A wrong token spends the same budget (guessing is bounded too); the other endpoint has its own.
    assert push(client, *body["events"], token="guess").status_code == 429
    assert post_json(client, EVENTBRIDGE_URL, status_change(running.arn, "RUNNING")).status_code == 200
    assert rejected("rate_limited") == 2


# --- bad input --------------------------------------------------------------------------------------------------


def test_over_1_mb_is_413_from_content_length_without_reading(client, running):
    response = client.post(
        OPERATIONS_URL,
        data=b"{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
        CONTENT_LENGTH=str(1024 * 1024 + 1),
    )
    assert response.status_code == 413 and response.json()["reason"] == "too_large"


def test_over_1_mb_body_is_413(client, running):
    events = [operation_event(running.arn, f"op-{i}", "STARTED", (1, 1), name="n" * 200) for i in range(2500)]
    body = json.dumps(batch(*events))
    assert len(body) > 1024 * 1024
    response = post_json(client, OPERATIONS_URL, body)
    assert response.status_code == 413
    assert "send smaller batches" in response.json()["error"]
    assert not PushedOperation.objects.exists() and rejected("too_large") == 1


@pytest.mark.parametrize(
    ("body", "reason", "text"),
    [
        ("{not json", "malformed", "not JSON"),
        (b"\xff\xfe{}", "malformed", "not UTF-8"),
        ("", "malformed", "not JSON"),
        ('{"a":' * 5000 + "1" + "}" * 5000, "too_deep", "deeper than 10"),
        ("[" * 50000 + "]" * 50000, "too_deep", "deeper than 10"),
        ("[1, 2]", "schema", "JSON object"),
        ('{"schema": 2, "events": []}', "schema", "Unsupported schema 2"),
        ('{"schema": 1, "events": {}}', "schema", "'events' must be a list"),
    ],
)
def test_malformed_deep_or_wrongly_shaped_bodies_are_400_with_a_clear_error(client, body, reason, text):
    response = post_json(client, OPERATIONS_URL, body)
    assert response.status_code == 400
    assert response.json()["reason"] == reason and text in response.json()["error"]
    assert rejected(reason) == 1


def test_eventbridge_malformed_events_are_400(client, running):
    event = status_change(running.arn, "SUCCEEDED")
    del event["detail"]["durableExecutionArn"]
    response = post_json(client, EVENTBRIDGE_URL, event)
    assert response.status_code == 400 and "'durableExecutionArn' is required" in response.json()["error"]
    assert post_json(client, EVENTBRIDGE_URL, [event]).status_code == 400


def test_bad_events_are_refused_one_by_one_and_the_others_still_count(client, running):
    good = operation_event(running.arn, "op-good", "STARTED", (1, 1))
    response = push(
        client,
        good,
        "not an object",
        operation_event(running.arn, "op-bad", "STARTED", (1, "x")),
        operation_event(running.arn, "", "STARTED", (1, 1)),
        {**operation_event(running.arn, "op-late", "STARTED", (1, 1)), "observed_at": "yesterday"},
        {"kind": "future_kind", "execution_arn": running.arn},
        {"kind": None},
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 1 and answer["applied"] == 1
    assert [(r["index"], r["reason"]) for r in answer["rejected"]] == [
        (1, "invalid_event"),
        (2, "invalid_event"),
        (3, "invalid_event"),
        (4, "invalid_event"),
    ]
    assert "'version' must be [attempt, status rank]" in answer["rejected"][1]["detail"]
    assert "'operation_id' is required" in answer["rejected"][2]["detail"]
    assert "'observed_at' must be an ISO 8601 time" in answer["rejected"][3]["detail"]
    assert [(r["index"], r["reason"]) for r in answer["ignored"]] == [(5, "unknown_kind"), (6, "unknown_kind")]
    assert list(PushedOperation.objects.values_list("operation_id", flat=True)) == ["op-good"]
    assert rejected("invalid_event") == 4 and rejected("unknown_kind") == 2


def test_unknown_fields_are_ignored(client, running):
    event = operation_event(running.arn, "op-1", "STARTED", (1, 1), future_field={"nested": [1, 2]}, cost=3)
    assert push(client, event).json()["applied"] == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"result": '{"card": "4111"}'},
        {"payload": "x"},
        {"callback_id": "cb-secret"},
        {"CallbackId": "cb-secret"},
        {"input": {"order": 1}},
        {"details": {"Result": {"Payload": "x"}}},  # at any depth
    ],
)
def test_an_event_carrying_a_payload_or_a_callback_id_is_refused_and_counted(client, running, extra):
    """Refused, never stored: the console never accepts a callback id or a payload from a push."""
    response = push(client, operation_event(running.arn, "op-1", "SUCCEEDED", (1, 9), **extra))
    answer = response.json()
    assert response.status_code == 200 and answer["accepted"] == 0
    assert answer["rejected"][0]["reason"] == "forbidden_field"
    assert "never accepts" in answer["rejected"][0]["detail"]
    assert not PushedOperation.objects.exists()
    assert rejected("forbidden_field") == 1
    assert "cb-secret" not in json.dumps(list(PushedOperation.objects.values()), default=str)


def test_eventbridge_never_reads_a_payload_or_callback_id_it_carries(client, running):
    """EventBridge events are AWS's: fields we do not read (even a payload or a callback id) are never stored."""
    event = status_change(
        running.arn, "SUCCEEDED", ended=timezone.now().timestamp(), callbackId="cb-secret", result='{"card":"4111"}'
    )
    event["detail"]["output"] = {"Payload": "secret-output"}
    assert post_json(client, EVENTBRIDGE_URL, event).json()["outcome"] == "applied"
    stored = json.dumps(
        [list(EventBridgeEvent.objects.values()), list(Execution.objects.filter(pk=running.pk).values())], default=str
    )
    assert "cb-secret" not in stored and "4111" not in stored and "secret-output" not in stored


# --- the version guard ----------------------------------------------------------------------------------------------


def stored(execution, operation_id="op-1") -> tuple:
    row = PushedOperation.objects.get(execution=execution, operation_id=operation_id)
    return row.status, row.version_attempt, row.version_rank


def test_higher_version_wins_equal_and_lower_are_ignored(client, running):
    assert push(client, operation_event(running.arn, "op-1", "STARTED", (1, 1))).json()["applied"] == 1
    assert push(client, operation_event(running.arn, "op-1", "SUCCEEDED", (1, 9))).json()["applied"] == 1
    assert stored(running) == ("SUCCEEDED", 1, 9)
    # Equal (a replay re-reporting it) and lower (a late delivery) change nothing.
    assert push(client, operation_event(running.arn, "op-1", "SUCCEEDED", (1, 9), name="other")).json()["applied"] == 0
    assert push(client, operation_event(running.arn, "op-1", "STARTED", (1, 1))).json()["applied"] == 0
    assert stored(running) == ("SUCCEEDED", 1, 9)
    assert PushedOperation.objects.get(operation_id="op-1").name == "charge"
    # A later attempt outranks an earlier attempt's end.
    push(client, operation_event(running.arn, "op-1", "STARTED", (2, 1)))
    assert stored(running) == ("STARTED", 2, 1)


def test_out_of_order_and_duplicate_batches_end_in_the_same_state(client, running):
    reports = [
        operation_event(running.arn, "op-1", "STARTED", (1, 1)),
        operation_event(running.arn, "op-1", "PENDING", (1, 2), error_type="Throttled"),
        operation_event(running.arn, "op-1", "STARTED", (2, 1)),
        operation_event(running.arn, "op-1", "FAILED", (2, 9), error_type="CardDeclined", error_message="no"),
        operation_event(running.arn, "op-2", "STARTED", (0, 1), op_type="WAIT", name="cool_down"),
        operation_event(running.arn, "op-2", "SUCCEEDED", (0, 9), op_type="WAIT", name=None),
    ]
    for order in (reports, list(reversed(reports)), reports[3:] + reports[:3] + reports):
        PushedOperation.objects.all().delete()
        for report in order:
            assert push(client, report).status_code == 200
        assert stored(running, "op-1") == ("FAILED", 2, 9)
        assert PushedOperation.objects.get(operation_id="op-1").error_type == "CardDeclined"
        assert stored(running, "op-2") == ("SUCCEEDED", 0, 9)
        assert PushedOperation.objects.get(operation_id="op-2").name == "cool_down"  # kept when a report omits it
    # One batch holding every version, twice: the highest is kept, the repeat changes nothing.
    PushedOperation.objects.all().delete()
    assert push(client, *reversed(reports)).json()["applied"] == 2
    assert push(client, *reports).json()["applied"] == 0
    assert stored(running, "op-1") == ("FAILED", 2, 9)


# --- which executions a push may touch ----------------------------------------------------------------------------


def test_unknown_arn_of_a_monitored_function_creates_the_execution_due_now(client, orders):
    arn = execution_arn("Orders", "fresh-run")
    started = timezone.now() - timedelta(seconds=3)
    response = push(
        client, snapshot_event(arn, [], started_at=started), operation_event(arn, "op-1", "STARTED", (1, 1))
    )
    assert response.json()["created"] == 1
    execution = Execution.objects.get(arn=arn)
    assert execution.status == "RUNNING" and execution.name == "fresh-run"
    assert execution.function == orders and execution.function_name == "Orders"
    assert execution.function_arn.endswith(":function:Orders:$LATEST")
    assert abs((execution.started_at - started).total_seconds()) < 0.01
    assert execution.poll_priority == NEW and execution.next_poll_at <= timezone.now()
    assert execution.pushed_at is not None
    assert execution.activity["kind"] == "step" and execution.activity["pushed"] is True
    # The same execution again is not created twice.
    assert push(client, operation_event(arn, "op-1", "SUCCEEDED", (1, 9))).json()["created"] == 0


def test_unknown_arn_from_eventbridge_creates_the_execution_too(client, orders):
    arn = execution_arn("Orders")
    answer = post_json(client, EVENTBRIDGE_URL, status_change(arn, "RUNNING", epoch_millis=True)).json()
    assert answer == {"outcome": "applied", "reason": "", "created": True, "polled": True}
    execution = Execution.objects.get(arn=arn)
    assert execution.status == "RUNNING" and execution.started_at is not None and execution.poll_priority == NEW
    assert execution.pushed_at is None and execution.eventbridge_at is not None  # EventBridge is not the plugin


def test_an_execution_of_an_unmonitored_function_is_rejected_and_counted(client, orders):
    function_make("Paused", enabled=False)
    for arn in (execution_arn("Elsewhere"), execution_arn("Paused"), "arn:not-an-execution"):
        answer = push(client, operation_event(arn, "op-1", "STARTED", (1, 1))).json()
        assert answer["accepted"] == 0 and answer["rejected"][0]["reason"] == "unknown_function"
        assert post_json(client, EVENTBRIDGE_URL, status_change(arn, "RUNNING")).json()["reason"] == (
            "unknown_function"
        )
    assert not Execution.objects.exists() and not PushedOperation.objects.exists()
    assert rejected("unknown_function") == 6


def test_imported_and_deleted_executions_are_never_touched(client, orders):
    imported = execution_make(function=orders, arn="imported:Orders:abc", imported=True, next_poll_at=None)
    deleted = execution_make(function=orders, arn=execution_arn("Orders"), deleted_at=timezone.now())
    for execution, reason in ((imported, "imported"), (deleted, "deleted")):
        answer = push(
            client,
            operation_event(execution.arn, "op-1", "STARTED", (1, 1)),
            invocation_event(execution.arn, "end", "SUCCEEDED"),
        ).json()
        assert [r["reason"] for r in answer["rejected"]] == [reason, reason]
        event = status_change(execution.arn, "STOPPED", ended=timezone.now().timestamp())
        assert post_json(client, EVENTBRIDGE_URL, event).json()["reason"] == reason
        after = Execution.objects.get(pk=execution.pk)
        assert (after.status, after.pushed_at, after.pushed_status, after.next_poll_at, after.activity) == (
            "RUNNING",
            None,
            "",
            execution.next_poll_at,
            None,
        )
    assert not PushedOperation.objects.exists()
    assert rejected("imported") == 2 * 2 - 1 and rejected("deleted") == 2 * 2 - 1


# --- what a push shows at once ---------------------------------------------------------------------------------------


def test_a_push_the_history_lacks_puts_the_execution_at_the_head_of_the_poll_queue(client, running):
    assert running.next_poll_at > timezone.now()
    answer = push(client, operation_event(running.arn, "op-1", "STARTED", (1, 1), name="charge_card")).json()
    assert answer["polls"] == 1
    execution = Execution.objects.get(pk=running.pk)
    assert execution.poll_priority == NEW and execution.poll_reason == "pushed"
    assert execution.next_poll_at <= timezone.now()
    assert execution.activity["kind"] == "step" and execution.activity["name"] == "charge_card"
    assert execution.activity["pushed"] is True


def test_a_snapshot_revealing_a_newer_version_puts_the_execution_at_the_head_of_the_poll_queue(client, running):
    push(client, operation_event(running.arn, "op-1", "SUCCEEDED", (1, 9)))
    later = timezone.now() + timedelta(hours=1)
    Execution.objects.filter(pk=running.pk).update(next_poll_at=later, poll_priority=4, poll_reason="pushed-idle")
    # Nothing new: op-1 at the version stored. The schedule stays.
    assert push(client, snapshot_event(running.arn, [("op-1", 1, 9)])).json()["polls"] == 0
    assert Execution.objects.get(pk=running.pk).next_poll_at == later
    # op-2 ended while the function was suspended (a callback answered elsewhere): only the snapshot tells.
    assert push(client, snapshot_event(running.arn, [("op-1", 1, 9), ("op-2", 0, 9)])).json()["polls"] == 1
    execution = Execution.objects.get(pk=running.pk)
    assert execution.next_poll_at <= timezone.now() and execution.poll_reason == "pushed"


def test_an_invocation_end_shows_the_execution_ended_at_once(client, running):
    push(client, invocation_event(running.arn, "end", "PENDING"))
    assert Execution.objects.get(pk=running.pk).status == "RUNNING"  # suspended, not ended
    push(client, invocation_event(running.arn, "end", "FAILED", error_type="OrderInvalid", error_message="bad sku"))
    execution = Execution.objects.get(pk=running.pk)
    assert (execution.status, execution.pushed_status, execution.error_type) == ("FAILED", "FAILED", "OrderInvalid")
    assert execution.ended_at is not None and execution.duration_ms > 0 and execution.activity is None
    assert execution.poll_reason == "pushed"
    # A late SUCCEEDED (another invocation's report) does not change an end.
    push(client, invocation_event(running.arn, "end", "SUCCEEDED"))
    assert Execution.objects.get(pk=running.pk).status == "FAILED"


# --- EventBridge ----------------------------------------------------------------------------------------------------


def test_eventbridge_end_is_shown_at_once_and_deduplicated_by_event_id(client, running):
    ended = timezone.now() - timedelta(seconds=2)
    event = status_change(running.arn, "TIMED_OUT", event_id="evt-1", ended=ended.timestamp())
    answer = post_json(client, EVENTBRIDGE_URL, event).json()
    assert answer["outcome"] == "applied" and answer["polled"] is True
    execution = Execution.objects.get(pk=running.pk)
    assert (execution.status, execution.pushed_status) == ("TIMED_OUT", "TIMED_OUT")
    assert abs((execution.ended_at - ended).total_seconds()) < 0.01
    assert MonitoredFunction.objects.get(pk=running.function_id).eventbridge_at is not None
    # Redelivered (EventBridge retries): the same id is a duplicate, even with another status.
    again = {**event, "detail": {**event["detail"], "status": "STOPPED"}}
    assert post_json(client, EVENTBRIDGE_URL, again).json()["outcome"] == "duplicate"
    assert Execution.objects.get(pk=running.pk).status == "TIMED_OUT"
    assert EventBridgeEvent.objects.filter(event_id="evt-1").count() == 1


def test_eventbridge_accepts_epoch_milliseconds(client, running):
    ended = timezone.now().replace(microsecond=123000) - timedelta(seconds=5)
    event = status_change(running.arn, "STOPPED", ended=ended.timestamp(), epoch_millis=True)
    post_json(client, EVENTBRIDGE_URL, event)
    assert Execution.objects.get(pk=running.pk).ended_at == ended


def test_eventbridge_other_events_are_ignored_and_counted(client, running):
    event = status_change(running.arn, "SUCCEEDED")
    event["detail-type"] = "Lambda Function Invocation Result"
    assert post_json(client, EVENTBRIDGE_URL, event).json()["outcome"] == "ignored"
    assert Execution.objects.get(pk=running.pk).status == "RUNNING"
    assert rejected("unknown_kind") == 1


def test_old_eventbridge_ids_are_pruned(running):
    old = timezone.now() - timedelta(days=3)
    EventBridgeEvent.objects.create(event_id="ancient", received_at=old)
    eventbridge_event_ingest(event=status_change(running.arn, "RUNNING"), now=timezone.now())
    assert not EventBridgeEvent.objects.filter(event_id="ancient").exists()
    assert EventBridgeEvent.objects.count() == 1


# --- metrics --------------------------------------------------------------------------------------------------------


def test_metrics_count_events_lag_and_refusals(client, admin_client_, running):
    observed = timezone.now() - timedelta(seconds=3)
    push(
        client,
        operation_event(running.arn, "op-1", "STARTED", (1, 1), observed_at=observed),
        operation_event(running.arn, "op-2", "STARTED", (1, 1), observed_at=observed),
        {"kind": "telemetry"},
    )
    post_json(client, EVENTBRIDGE_URL, status_change(running.arn, "SUCCEEDED", ended=timezone.now().timestamp()))
    push(client, operation_event(running.arn, "op-1", "STARTED", (1, 1)), token="nope")
    assert counter_total(PUSH_EVENTS, source="plugin") == 2
    assert counter_total(PUSH_EVENTS, source="eventbridge") == 1
    text = admin_client_.get("/metrics").content.decode()
    assert 'durable_console_push_events_total{source="plugin"} 2.0' in text
    assert 'durable_console_push_events_total{source="eventbridge"} 1.0' in text
    assert 'durable_console_push_rejected_total{reason="unauthorized"} 1.0' in text
    assert 'durable_console_push_rejected_total{reason="unknown_kind"} 1.0' in text
    assert 'durable_console_push_lag_seconds_bucket{le="2.5"} 1.0' in text  # the EventBridge end, just now
    assert 'durable_console_push_lag_seconds_bucket{le="5.0"} 3.0' in text  # the two reports, 3 s late
    assert 'durable_console_push_lag_seconds_bucket{le="+Inf"} 3.0' in text
    assert "durable_console_push_lag_seconds_count 3.0" in text
    total = float(text.split("durable_console_push_lag_seconds_sum ")[1].split()[0])
    assert 6 <= total < 8
