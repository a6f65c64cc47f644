"""Push, then poll, with real workflows: the session stack's functions run with the push plugin
(functions/console_push) and its gateway sends EventBridge-shaped status events, both to `push_receiver`
(a real HTTP server). Each test replays what its execution reported into the console's real ingest endpoints,
then syncs the history, and checks that the stored state is the one polling alone stores.
"""

from __future__ import annotations

import json
import random

import pytest
from django.urls import reverse
from django.utils import timezone

from executions import durable_api
from executions.models import Execution, Invocation, Operation, PushedOperation
from executions.sync import functions_sync, monitored_functions_seed
from tests.conftest import wait_until
from tests.executions.sync_support import (
    callback_id_wait,
    stored_history,
    workflow_run,
    workflow_start,
)
from tests.localstack import TEST_INGEST_TOKEN
from tests.orders import execution_wait, order_for_execution, order_start

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

AUTH = {"HTTP_AUTHORIZATION": f"Bearer {TEST_INGEST_TOKEN}"}


@pytest.fixture(autouse=True)
def console(settings, aws):
    settings.DURABLE_API_MAX_RPS = 500
    settings.INGEST_TOKEN = TEST_INGEST_TOKEN


def reports(push_receiver, arn: str) -> list[list[dict]]:
    """The plugin's batches, reduced to this execution's events, in the order they arrived."""
    batches = []
    for request in push_receiver.received("/ingest/operations"):
        events = [event for event in json.loads(request.body)["events"] if event.get("execution_arn") == arn]
        if events:
            batches.append(events)
    return batches


def status_events(push_receiver, arn: str) -> list[dict]:
    events = [json.loads(request.body) for request in push_receiver.received("/ingest/eventbridge")]
    return [event for event in events if event["detail"]["durableExecutionArn"] == arn]


def ended_reported(push_receiver, arn: str) -> bool:
    return any(
        event["kind"] == "invocation" and event["phase"] == "end" and event["status"] in ("SUCCEEDED", "FAILED")
        for batch in reports(push_receiver, arn)
        for event in batch
    )


def ingest(client, batches: list[list[dict]]) -> None:
    for events in batches:
        body = {"schema": 1, "sent_at": timezone.now().isoformat(), "events": events}
        response = client.post("/ingest/operations", data=json.dumps(body), content_type="application/json", **AUTH)
        assert response.status_code == 200, response.content


def ingest_status(client, events: list[dict]) -> None:
    for event in events:
        response = client.post("/ingest/eventbridge", data=json.dumps(event), content_type="application/json", **AUTH)
        assert response.status_code == 200, response.content


def stored_state(execution: Execution) -> dict:
    """What the console stores and shows of an execution, without the push bookkeeping."""
    execution.refresh_from_db()
    operations = Operation.objects.filter(execution=execution).order_by("operation_id")
    return {
        "events": stored_history(execution),
        "operations": [
            (
                op.operation_id,
                op.parent_operation_id,
                op.name,
                op.op_type,
                op.sub_type,
                op.status,
                op.attempts,
                op.error_type,
            )
            for op in operations
        ],
        "invocations": Invocation.objects.filter(execution=execution).count(),
        "execution": {
            field: getattr(execution, field)
            for field in (
                "status",
                "result",
                "error_type",
                "error_message",
                "activity",
                "attention_reasons",
                "has_failures",
                "needs_attention",
                "last_event_id",
                "history_complete",
            )
        },
    }


def synced_from_history(function_name: str, arn: str) -> Execution:
    functions_sync(function_name=function_name)
    execution = Execution.objects.get(arn=arn)
    assert execution.history_complete, execution.poll_reason
    return execution


def poll_only_state(function_name: str, arn: str) -> dict:
    """The same execution stored again by polling alone, from nothing."""
    Execution.objects.filter(arn=arn).delete()
    return stored_state(synced_from_history(function_name, arn))


def assert_reports_match_history(execution: Execution) -> None:
    """Every operation the function reported is in the history with the reported final status, and nothing
    reported is left waiting for the history."""
    history = {op.operation_id: op for op in Operation.objects.filter(execution=execution)}
    pushed = list(PushedOperation.objects.filter(execution=execution))
    assert pushed
    for report in pushed:
        assert report.operation_id in history, report.operation_id
        assert report.status == history[report.operation_id].status.upper(), report.operation_id
        assert report.settled_at is not None, report.operation_id


WORKFLOWS = [
    pytest.param("SyncRetries", {"fail_until": 1}, id="step-retries"),
    pytest.param("SyncRetries", {"fail_until": 9}, id="step-fails"),
    pytest.param("SyncWaits", {"first": 1, "second": 1}, id="waits"),
    pytest.param("SyncConcurrency", {}, id="context-map-parallel"),
    pytest.param("SyncInvoke", {}, id="chained-invoke"),
]


@pytest.mark.parametrize(("function_name", "payload"), WORKFLOWS)
def test_every_operation_kind_ends_with_the_same_stored_state_with_push_as_without(
    client, push_receiver, lambda_client, function_name, payload
):
    monitored_functions_seed(names=[function_name])
    arn = workflow_run(lambda_client, function_name, payload)
    wait_until(lambda: ended_reported(push_receiver, arn), message="the end reported")

    calls = durable_api.api_calls_made()
    ingest(client, reports(push_receiver, arn))
    execution = Execution.objects.get(arn=arn)  # made from the reports: the lister has not seen it
    assert durable_api.api_calls_made() == calls
    assert execution.pushed_at is not None
    assert execution.next_poll_at <= timezone.now()  # at the head of the poll queue

    pushed = stored_state(synced_from_history(function_name, arn))
    assert_reports_match_history(Execution.objects.get(arn=arn))
    assert pushed == poll_only_state(function_name, arn)


def pushed_states(arn: str) -> list[tuple]:
    return sorted(PushedOperation.objects.filter(execution__arn=arn).values_list("operation_id", "status", "attempt"))


def test_duplicates_and_reordering_are_harmless(client, push_receiver, lambda_client):
    monitored_functions_seed(names=["SyncConcurrency"])
    arn = workflow_run(lambda_client, "SyncConcurrency", {})
    wait_until(lambda: ended_reported(push_receiver, arn), message="the end reported")
    batches = reports(push_receiver, arn)
    ingest(client, batches)
    in_order = sorted(
        PushedOperation.objects.filter(execution__arn=arn).values_list("operation_id", "status", "attempt")
    )

    Execution.objects.filter(arn=arn).delete()
    events = [event for batch in batches for event in batch]
    shuffled = events * 2
    random.Random(7).shuffle(shuffled)
    ingest(client, [shuffled[i : i + 7] for i in range(0, len(shuffled), 7)])
    ingest(client, list(reversed(batches)))
    replayed = sorted(
        PushedOperation.objects.filter(execution__arn=arn).values_list("operation_id", "status", "attempt")
    )
    assert replayed == in_order

    pushed = stored_state(synced_from_history("SyncConcurrency", arn))
    assert pushed == poll_only_state("SyncConcurrency", arn)


def held(lambda_client, arn: str) -> tuple[Execution, str]:
    """A SyncHold execution suspended on its callback, as polling stored it; its callback id."""
    callback_id = callback_id_wait(lambda_client, arn)
    wait_until(lambda: (synced_once("SyncHold", arn).activity or {}).get("kind") == "callback", message="held")
    return Execution.objects.get(arn=arn), callback_id


def synced_once(function_name: str, arn: str) -> Execution:
    functions_sync(function_name=function_name)
    return Execution.objects.get(arn=arn)


def test_a_callback_answered_outside_the_console_is_shown_at_once_and_one_fetch_confirms_it(
    client, push_receiver, lambda_client
):
    monitored_functions_seed(names=["SyncHold"])
    arn = workflow_start(lambda_client, "SyncHold", {"timeout": 600})
    execution, callback_id = held(lambda_client, arn)
    ingest(client, reports(push_receiver, arn))

    lambda_client.send_durable_execution_callback_success(CallbackId=callback_id, Result=b'{"ok": true}')
    wait_until(lambda: ended_reported(push_receiver, arn), message="the resumed invocation reported")
    calls = durable_api.api_calls_made()
    ingest(client, reports(push_receiver, arn))
    execution.refresh_from_db()
    assert durable_api.api_calls_made() == calls  # shown from the reports alone
    assert execution.pushed_status == "SUCCEEDED" and execution.activity is None
    assert execution.poll_reason == "pushed" and execution.next_poll_at <= timezone.now()
    callback = PushedOperation.objects.get(execution=execution, op_type="callback")
    assert (callback.status, callback.settled_at) == ("SUCCEEDED", None)  # reported, awaiting the history

    execution_wait(lambda_client, arn)
    calls = durable_api.api_calls_made()
    pushed = stored_state(synced_from_history("SyncHold", arn))
    assert durable_api.api_calls_made() - calls <= 2  # the fetch that confirms it (and its last page)
    assert pushed["execution"]["status"] == "SUCCEEDED"
    assert_reports_match_history(Execution.objects.get(arn=arn))
    assert pushed == poll_only_state("SyncHold", arn)


def test_the_console_down_while_the_function_runs_loses_nothing(client, push_receiver, lambda_client):
    """Reports sent while the console is down are lost; the next invocation's snapshot reveals what changed,
    and the history fetch it triggers stores everything."""
    monitored_functions_seed(names=["SyncHold"])
    push_receiver.down = True
    try:
        arn = workflow_start(lambda_client, "SyncHold", {"timeout": 600})
        callback_id = callback_id_wait(lambda_client, arn)
        execution_at = lambda_client.get_durable_execution(DurableExecutionArn=arn)["Status"]
    finally:
        push_receiver.down = False
    assert execution_at == "RUNNING"  # the function went on while its reports were refused
    assert reports(push_receiver, arn) == []
    lambda_client.send_durable_execution_callback_success(CallbackId=callback_id, Result=b'{"ok": true}')
    execution_wait(lambda_client, arn)
    wait_until(lambda: ended_reported(push_receiver, arn), message="the end reported")

    ingest(client, reports(push_receiver, arn))
    execution = Execution.objects.get(arn=arn)
    assert execution.next_poll_at <= timezone.now()
    pushed = stored_state(synced_from_history("SyncHold", arn))
    assert pushed["execution"]["status"] == "SUCCEEDED"
    assert_reports_match_history(Execution.objects.get(arn=arn))
    assert pushed == poll_only_state("SyncHold", arn)


@pytest.mark.parametrize(
    ("function_name", "payload"),
    [
        pytest.param("SyncWaits", {"first": 1, "second": 1}, id="reports-of-the-first-invocation-lost"),
        pytest.param("SyncFlakyInvocation", {}, id="first-invocation-fails"),
    ],
)
def test_a_killed_invocation_is_repaired_by_the_next_snapshot(
    client, push_receiver, lambda_client, function_name, payload
):
    """Whatever the first invocation reported is dropped, as if it had been killed before it flushed: the later
    invocations' snapshots and reports, and the fetch they trigger, are enough."""
    monitored_functions_seed(names=[function_name])
    arn = workflow_run(lambda_client, function_name, payload)
    wait_until(lambda: ended_reported(push_receiver, arn), message="the end reported")
    batches = reports(push_receiver, arn)
    first_request = batches[0][0]["request_id"]
    later = [[event for event in batch if event["request_id"] != first_request] for batch in batches]
    ingest(client, [batch for batch in later if batch])
    pushed = stored_state(synced_from_history(function_name, arn))
    assert pushed == poll_only_state(function_name, arn)


def test_a_stop_is_shown_at_once_from_the_status_event(client, push_receiver, lambda_client):
    monitored_functions_seed(names=["SyncHold"])
    arn = workflow_start(lambda_client, "SyncHold", {"timeout": 600})
    execution, _ = held(lambda_client, arn)
    lambda_client.stop_durable_execution(DurableExecutionArn=arn)
    wait_until(lambda: any(e["detail"]["status"] == "STOPPED" for e in status_events(push_receiver, arn)))
    calls = durable_api.api_calls_made()
    ingest_status(client, status_events(push_receiver, arn))
    ingest_status(client, status_events(push_receiver, arn))  # EventBridge delivers at least once
    assert durable_api.api_calls_made() == calls
    execution.refresh_from_db()
    assert "STOPPED" in (execution.status, execution.pushed_status)
    assert execution.next_poll_at <= timezone.now()
    stored = stored_state(synced_from_history("SyncHold", arn))
    assert stored["execution"]["status"] == "STOPPED"
    assert stored == poll_only_state("SyncHold", arn)


def test_a_callback_answered_in_the_console_ends_with_the_same_stored_state(
    client, approver_client, push_receiver, lambda_client, dynamodb_client, aws
):
    """The order-approval workflow, approved on the inbox: the resumed invocation's reports show the end at once."""
    monitored_functions_seed(names=["OrderApproval"])
    order = order_for_execution(dynamodb_client, aws.table, order_start(lambda_client))
    arn = order["executionArn"]
    functions_sync(function_name="OrderApproval")
    response = approver_client.post(reverse("approvals:approve", args=[order["orderId"]]), {"comment": "ok"})
    assert response.status_code in (200, 302)
    execution_wait(lambda_client, arn)
    wait_until(lambda: ended_reported(push_receiver, arn), message="the end reported")

    ingest(client, reports(push_receiver, arn))
    execution = Execution.objects.get(arn=arn)
    assert "SUCCEEDED" in (execution.status, execution.pushed_status)
    pushed = stored_state(synced_from_history("OrderApproval", arn))
    assert pushed["execution"]["result"]["outcome"] == "approved"
    assert_reports_match_history(Execution.objects.get(arn=arn))
    assert pushed == poll_only_state("OrderApproval", arn)
