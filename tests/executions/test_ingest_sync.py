"""Pushes and the history sync together, on the AWS-semantics double (tests/aws_double.py) through the real sync
code: a pushed change is shown at once, a sync of a history that does not have it yet never takes it back, the
history confirms it and wins; pushing executions are polled as a repair sweep; a function whose EventBridge events
flow is listed less often."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core.aws import aws_clients_reset
from executions.governor import governor_reset
from executions.models import Execution, MonitoredFunction, PushedOperation
from executions.scheduler import NEW
from executions.sync import execution_history_sync, function_list_sync, functions_sync, monitored_functions_seed
from tests.executions.push_support import (
    EVENTBRIDGE_URL,
    TOKEN,
    history_event,
    invocation_event,
    operation_event,
    post_json,
    push,
    snapshot_event,
    status_change,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def double(aws_double, settings):
    settings.LAMBDA_ENDPOINT_URL = aws_double.url
    settings.AWS_LOCAL_CREDENTIALS = True
    settings.DURABLE_API_MAX_RPS = 500
    settings.INGEST_TOKEN = TOKEN
    settings.INGEST_RATE_LIMIT = "10000/m"
    settings.DURABLE_FUNCTIONS = []
    aws_clients_reset()
    governor_reset()
    yield aws_double
    aws_clients_reset()
    governor_reset()


def listed(double, function: str) -> list[Execution]:
    (monitored,) = monitored_functions_seed(names=[function])
    function_list_sync(function=MonitoredFunction.objects.get(pk=monitored.pk))
    return list(Execution.objects.filter(function=monitored).order_by("started_at"))


def synced(execution: Execution) -> Execution:
    execution_history_sync(execution_id=execution.pk)
    return Execution.objects.get(pk=execution.pk)


def unsettled(execution: Execution) -> list[str]:
    rows = PushedOperation.objects.filter(execution=execution, settled_at__isnull=True)
    return sorted(rows.values_list("operation_id", flat=True))


def doing_now(client, execution: Execution) -> str:
    page = client.get(f"/executions/{execution.pk}/").content.decode()
    return page.split('<span class="doing-now">')[1].split("</span> ·")[0] if "doing-now" in page else ""


def test_a_callback_answered_elsewhere_is_shown_at_once_and_an_older_history_does_not_take_it_back(
    double, client, operator_client
):
    arn = double.add("Orders", "order-1", status="RUNNING")
    history_event(double, arn, "CallbackStarted", "cb-1", "approval", "Callback", CallbackId="cb-secret", Timeout=3600)
    history_event(double, arn, "InvocationCompleted", "", "", "", RequestId="r-1")
    (execution,) = listed(double, "Orders")
    execution = synced(execution)
    assert execution.activity["kind"] == "callback" and "pushed" not in execution.activity
    assert "waiting on callback" in doing_now(operator_client, execution)

    # The callback is answered outside the console; the next invocation starts and reports it, then its next step.
    response = push(
        client,
        snapshot_event(arn, [("cb-1", 0, 9)]),
        operation_event(arn, "cb-1", "SUCCEEDED", (0, 9), op_type="CALLBACK", name="approval", hook="invocation_start"),
        operation_event(arn, "ship", "STARTED", (1, 1), name="ship_order", hook="operation_start"),
    )
    assert response.json()["applied"] == 2 and response.json()["polls"] == 1
    execution.refresh_from_db()
    assert execution.activity["kind"] == "step" and execution.activity["name"] == "ship_order"
    assert execution.activity["pushed"] is True
    assert execution.poll_reason == "pushed" and execution.next_poll_at <= timezone.now()
    page = doing_now(operator_client, execution)
    assert "running step <code>ship_order</code>" in page and "reported, awaiting history" in page

    # A sync before the history has the answer: the pages still show the pushed state (no flicker), and the
    # execution is polled again soon, not as a repair sweep, while the history lacks it.
    execution = synced(execution)
    assert execution.activity["name"] == "ship_order" and execution.activity["pushed"] is True
    assert unsettled(execution) == ["cb-1", "ship"]
    assert execution.poll_reason != "pushed-idle" and execution.next_poll_at < timezone.now() + timedelta(minutes=5)

    # The history catches up: it confirms, the marks go, the history's own state is shown.
    history_event(double, arn, "CallbackSucceeded", "cb-1", "approval", "Callback")
    history_event(double, arn, "StepStarted", "ship", "ship_order", "Step")
    execution = synced(execution)
    assert unsettled(execution) == []
    assert set(PushedOperation.objects.values_list("settled_by", flat=True)) == {"history"}
    assert execution.activity["kind"] == "step" and "pushed" not in execution.activity
    assert "reported, awaiting history" not in doing_now(operator_client, execution)
    # Everything it pushed is confirmed: polled as a repair sweep from now on.
    assert execution.poll_reason in ("pushed-idle", "active")
    execution = synced(execution)
    assert execution.poll_reason == "pushed-idle"
    assert execution.next_poll_at > timezone.now() + timedelta(seconds=850)


def test_an_end_is_shown_at_once_and_syncs_of_older_histories_and_listings_do_not_take_it_back(double, client):
    arn = double.add("Orders", "order-2", status="RUNNING")
    history_event(double, arn, "StepStarted", "ship", "ship_order", "Step")
    (execution,) = listed(double, "Orders")
    execution = synced(execution)
    push(client, operation_event(arn, "ship", "SUCCEEDED", (1, 9), name="ship_order"))
    push(client, invocation_event(arn, "end", "SUCCEEDED"))
    execution.refresh_from_db()
    assert (execution.status, execution.pushed_status, execution.activity) == ("SUCCEEDED", "SUCCEEDED", None)
    assert execution.ended_at is not None

    # The history has no end yet, and the list still says RUNNING: neither takes the end back.
    for _ in range(2):
        execution = synced(execution)
        function_list_sync(function=MonitoredFunction.objects.get(name="Orders"))
        execution.refresh_from_db()
        assert (execution.status, execution.pushed_status, execution.history_complete) == (
            "SUCCEEDED",
            "SUCCEEDED",
            False,
        )
        assert execution.next_poll_at is not None  # fetched again until the history has its end

    # The history's end arrives: it wins (its own end time), and the execution is done.
    history_event(double, arn, "StepSucceeded", "ship", "ship_order", "Step")
    double.executions[arn].event("ExecutionSucceeded", time.time())
    double.executions[arn].status, double.executions[arn].end = "SUCCEEDED", time.time()
    execution = synced(execution)
    assert (execution.status, execution.pushed_status, execution.history_complete) == ("SUCCEEDED", "", True)
    assert execution.next_poll_at is None and unsettled(execution) == []


def test_the_history_wins_over_a_pushed_end_it_contradicts(double, client):
    arn = double.add("Orders", "order-3", status="RUNNING")
    (execution,) = listed(double, "Orders")
    execution = synced(execution)
    push(client, invocation_event(arn, "end", "SUCCEEDED"))
    double.executions[arn].event("ExecutionFailed", time.time(), ExecutionFailedDetails={})
    execution = synced(execution)
    assert (execution.status, execution.pushed_status) == ("FAILED", "")


def test_a_pushed_end_the_service_denies_a_minute_later_is_taken_back(double, client):
    """A wrong report (the history has no end a grace period later, GetDurableExecution says RUNNING): the
    service wins. Within the grace period the pushed end stays, whatever the service says then."""
    arn = double.add("Orders", "order-4", status="RUNNING")
    (execution,) = listed(double, "Orders")
    execution = synced(execution)
    push(client, invocation_event(arn, "end", "SUCCEEDED"))
    assert synced(execution).status == "SUCCEEDED"
    Execution.objects.filter(pk=execution.pk).update(pushed_status_at=timezone.now() - timedelta(seconds=90))
    execution = synced(execution)
    assert (execution.status, execution.pushed_status, execution.ended_at) == ("RUNNING", "", None)


def test_an_eventbridge_stop_is_shown_at_once_and_not_regressed(double, client):
    arn = double.add("Orders", "order-5", status="RUNNING")
    (execution,) = listed(double, "Orders")
    execution = synced(execution)
    post_json(client, EVENTBRIDGE_URL, status_change(arn, "STOPPED", ended=time.time()))
    execution.refresh_from_db()
    assert (execution.status, execution.pushed_status, execution.poll_reason) == ("STOPPED", "STOPPED", "pushed")
    assert synced(execution).status == "STOPPED"
    double.executions[arn].event("ExecutionStopped", time.time())
    execution = synced(execution)
    assert (execution.status, execution.pushed_status, execution.history_complete) == ("STOPPED", "", True)


def test_a_new_execution_announced_by_a_push_is_filled_in_by_its_first_history_fetch(double, client):
    monitored_functions_seed(names=["Orders"])
    arn = double.add("Orders", "order-6", status="RUNNING")
    history_event(double, arn, "StepStarted", "load", "load_order", "Step")
    push(client, snapshot_event(arn, [], started_at=timezone.now()), operation_event(arn, "load", "STARTED", (1, 1)))
    execution = Execution.objects.get(arn=arn)
    assert execution.poll_priority == NEW and execution.history_synced_at is None
    execution = synced(execution)
    assert execution.input == {} and execution.last_event_id == 2 and execution.history_complete is False
    assert unsettled(execution) == []  # the history shows the started step


def test_a_report_the_history_never_shows_goes_stale_and_the_history_wins(double, client):
    arn = double.add("Orders", "order-7", status="RUNNING")
    (execution,) = listed(double, "Orders")
    execution = synced(execution)
    push(client, operation_event(arn, "ghost", "STARTED", (1, 1), observed_at=timezone.now() - timedelta(minutes=5)))
    history_event(double, arn, "WaitStarted", "nap", "nap", "Wait", Duration=60)
    execution = synced(execution)
    assert unsettled(execution) == []
    assert PushedOperation.objects.get(operation_id="ghost").settled_by == "stale"
    assert execution.activity["kind"] == "wait" and "pushed" not in execution.activity


def test_pushing_executions_are_polled_as_a_repair_sweep_others_keep_their_schedule(double, client):
    quiet = double.add("Orders", "quiet", status="RUNNING")
    pushing = double.add("Orders", "pushing", status="RUNNING")
    for arn in (quiet, pushing):
        history_event(double, arn, "CallbackStarted", "cb", "approval", "Callback", Timeout=3600)
        history_event(double, arn, "InvocationCompleted", "", "", "", RequestId="r")
    executions = {e.arn: synced(e) for e in listed(double, "Orders")}
    push(client, operation_event(pushing, "cb", "STARTED", (0, 1), op_type="CALLBACK", name="approval"))
    for arn in (quiet, pushing):
        executions[arn] = synced(executions[arn])
    now = timezone.now()
    assert executions[quiet].next_poll_at < now + timedelta(seconds=400)  # today's backoff (cap 300 s)
    assert executions[pushing].poll_reason == "pushed-idle"
    assert executions[pushing].next_poll_at > now + timedelta(seconds=850)


def test_a_function_whose_eventbridge_events_flow_is_listed_every_interval_only(double, client, settings):
    settings.SYNC_LIST_INTERVAL_SECONDS = 300
    double.add("Orders", "listed-1", status="RUNNING")
    calls = lambda: double.calls.count("ListDurableExecutionsByFunction")  # noqa: E731
    monitored_functions_seed(names=["Orders"])
    functions_sync()
    functions_sync()
    assert calls() == 2  # no EventBridge events: every cycle, as before

    arn = double.add("Orders", "announced", status="RUNNING")
    post_json(client, EVENTBRIDGE_URL, status_change(arn, "RUNNING"))
    assert Execution.objects.filter(arn=arn).exists()  # known at once, without a listing
    listed_at = MonitoredFunction.objects.get(name="Orders").listed_at
    functions_sync()
    assert calls() == 2
    function = MonitoredFunction.objects.get(name="Orders")
    assert function.listed_at == listed_at
    assert function.last_sync_succeeded_at > function.listed_at  # the cycle is as fresh as a listing
    # Once the interval has passed since the last listing, one listing (the repair sweep).
    MonitoredFunction.objects.filter(pk=function.pk).update(listed_at=timezone.now() - timedelta(seconds=301))
    functions_sync()
    assert calls() == 3
    functions_sync()
    assert calls() == 3
    # When the events stop coming, every cycle again.
    MonitoredFunction.objects.filter(pk=function.pk).update(eventbridge_at=timezone.now() - timedelta(seconds=301))
    functions_sync()
    assert calls() == 4


def test_the_repair_interval_stretches_with_the_number_of_pushing_executions(double, client):
    """Running pushing executions share a third of the API budget for their repair polls
    (scheduler.pushed_idle_seconds): the count is taken once a minute for every process."""
    from django.core.cache import cache

    from executions.sync.planning import PUSHING_COUNT_KEY, pushing_executions

    arn = double.add("Orders", "one-of-many", status="RUNNING")
    (execution,) = listed(double, "Orders")
    push(client, snapshot_event(arn, []))
    cache.delete(PUSHING_COUNT_KEY)
    assert pushing_executions() == 1
    cache.set(PUSHING_COUNT_KEY, 3_000_000)  # at 500 calls/s, a third of the budget sweeps them every 18,000 s
    execution = synced(synced(execution))
    assert execution.poll_reason == "pushed-idle"
    assert abs((execution.next_poll_at - timezone.now()).total_seconds() - 18_000) < 60
