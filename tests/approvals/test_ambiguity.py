"""Decisions when the network lies: the gateway's fault mode delays, drops or fails the response *after* the
callback reached the emulator, through the real workflow. One attempt is one attempt (botocore retries off), the
history decides whose decision was delivered (decisionId), and the audit row is written before the send."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from botocore.stub import Stubber
from django.urls import reverse

from approvals import reconcile, services
from approvals.models import Decision
from core.aws import aws_client, aws_interactive
from tests.orders import execution_wait, history, order_get

SEND = "SendDurableExecutionCallbackSuccess"
HISTORY = "GetDurableExecutionHistory"


def _faults_call(url: str, method: str, body: dict | None = None) -> None:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


@pytest.fixture
def gateway_faults(aws):
    """Arm one of the gateway's network faults (functions/gateway/faults.py); everything is disarmed after."""
    url = f"{aws.gateway_url}/_gateway/faults"
    yield lambda **body: _faults_call(url, "POST", body)
    _faults_call(url, "DELETE")


@pytest.fixture
def short_timeouts(settings, fast_retries):
    settings.AWS_INTERACTIVE_TIMEOUT_SECONDS = 2  # read timeout 1.2 s: a 4 s delay is a timeout
    return settings


def _succeeded_events(lambda_client, arn):
    return [e for e in history(lambda_client, arn) if e["EventType"] == "CallbackSucceeded"]


def _delivered_once(lambda_client, dynamodb_client, aws, order, user_decision):
    execution = execution_wait(lambda_client, order["executionArn"])
    assert execution["Status"] == "SUCCEEDED"
    assert len(_succeeded_events(lambda_client, order["executionArn"])) == 1
    rows = list(Decision.objects.filter(order_id=order["orderId"]))
    assert [row.outcome for row in rows] == ["succeeded"], [(r.outcome, r.error) for r in rows]
    result = json.loads(execution["Result"])
    assert result["decisionId"] == rows[0].decision_id and rows[0].decision_id
    assert result["outcome"] == user_decision
    stored = order_get(dynamodb_client, aws.table, order["orderId"])
    assert stored["status"] == user_decision and stored["decisionId"] == rows[0].decision_id
    return rows[0]


@pytest.mark.django_db
@pytest.mark.parametrize("fault", ["delay", "drop", "error"])
def test_delivered_then_the_response_is_lost_is_succeeded_once(
    fault, approver, pending_order, lambda_client, dynamodb_client, aws, gateway_faults, short_timeouts
):
    """delay: read timeout after delivery; drop: connection closed after delivery; error: 500 after delivery.
    With botocore's retries on, its second attempt is answered "closed" and the approver was told "answered
    outside the dashboard"; without the history check the decision was reported failed and released."""
    order = pending_order()
    gateway_faults(after=fault, operation=SEND, delaySeconds=4)
    result = services.order_decide(order_id=order["orderId"], user=approver, approve=True, comment="ok")
    assert result.outcome == "succeeded", result.message
    assert result.message.startswith("Approved order")
    _delivered_once(lambda_client, dynamodb_client, aws, order, "approved")


@pytest.mark.django_db
def test_the_decision_is_audited_sending_before_the_callback_leaves(
    approver, pending_order, aws, monkeypatch, fast_retries
):
    order = pending_order()
    seen = []
    from executions import services as executions

    real = executions.callback_succeed

    def watching(**kwargs):
        seen.append(list(Decision.objects.filter(order_id=order["orderId"]).values_list("outcome", "decision_id")))
        return real(**kwargs)

    monkeypatch.setattr(executions, "callback_succeed", watching)  # observes only: the real send goes out
    result = services.order_decide(order_id=order["orderId"], user=approver, approve=False, comment="no")
    assert result.outcome == "succeeded"
    assert seen == [[("sending", result.decision.decision_id)]]
    assert Decision.objects.get(order_id=order["orderId"]).outcome == "succeeded"


@pytest.mark.django_db
def test_history_unreadable_keeps_the_claim_and_the_reconciler_resolves_it(
    approver, approver_client, pending_order, lambda_client, dynamodb_client, aws, gateway_faults, short_timeouts
):
    """The response is dropped and the history cannot be read: the approver is told "sent, not yet confirmed",
    the order stays claimed (the order page says so), the row stays `sending`; the reconciler completes it."""
    order = pending_order()
    gateway_faults(after="drop", operation=SEND)
    gateway_faults(after="error", operation=HISTORY, count=1)
    started = time.monotonic()
    result = services.order_decide(order_id=order["orderId"], user=approver, approve=True)
    assert time.monotonic() - started < 15
    assert result.outcome == "sending"
    assert result.message == "Sent, not yet confirmed: it will be resolved automatically."
    assert Decision.objects.get(order_id=order["orderId"]).outcome == "sending"
    stored = order_get(dynamodb_client, aws.table, order["orderId"])
    assert stored["status"] in ("deciding", "approved")  # the workflow, resumed, may write approved first
    if stored["status"] == "deciding":
        page = approver_client.get(reverse("approvals:order", args=[order["orderId"]])).content.decode()
        assert "Sent, not yet confirmed: it will be resolved automatically." in page
    execution_wait(lambda_client, order["executionArn"])
    counts = reconcile.claims_release_stale(older_than_seconds=0)
    sending = reconcile.decisions_sending_resolve(older_than_seconds=0)
    assert counts["recovered"] + sending["succeeded"] == 1, (counts, sending)
    _delivered_once(lambda_client, dynamodb_client, aws, order, "approved")


@pytest.mark.django_db
def test_callback_answered_outside_the_dashboard_is_closed(
    approver, pending_order, lambda_client, dynamodb_client, aws, fast_retries
):
    """The service answers closed and the history shows a result without our decisionId: closed, not ours."""
    order = pending_order()
    lambda_client.send_durable_execution_callback_success(
        CallbackId=order["callbackId"], Result=json.dumps({"approved": False, "decidedBy": "a script"})
    )
    execution_wait(lambda_client, order["executionArn"])
    dynamodb_client.update_item(  # the moment before the workflow wrote its own outcome
        TableName=aws.table,
        Key={"orderId": {"S": order["orderId"]}},
        UpdateExpression="SET #s = :p",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": "pending_approval"}},
    )
    result = services.order_decide(order_id=order["orderId"], user=approver, approve=True)
    assert result.outcome == "closed"
    assert "answered outside the dashboard" in result.message
    assert Decision.objects.get(order_id=order["orderId"]).outcome == "closed"


@pytest.mark.django_db
def test_a_404_from_the_history_read_never_closes_the_order(approver, pending_order, dynamodb_client, aws):
    """A proxy answering 404 to the history read (no real service does that to a live execution: Stubber).
    Before, every order someone tried to decide was closed; now the claim is kept for the reconciler."""
    order = pending_order()
    with aws_interactive():
        client = aws_client("lambda")
    with Stubber(client) as stub:
        stub.add_client_error("send_durable_execution_callback_success", "CallbackTimeoutException", "closed", 400)
        stub.add_client_error("get_durable_execution_history", "ResourceNotFoundException", "Not Found", 404)
        result = services.order_decide(order_id=order["orderId"], user=approver, approve=True)
    assert result.outcome == "sending"
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "deciding"
    assert Decision.objects.get(order_id=order["orderId"]).outcome == "sending"


@pytest.mark.django_db
def test_budget_exhausted_is_a_clear_message_with_the_claim_released(
    approver_client, pending_order, dynamodb_client, aws, monkeypatch
):
    """The rate governor raises BudgetExhausted when the shared API budget is used up; provoking that for real
    would starve every other test of the session, so the governor's answer is stood in for."""
    from executions import durable_api
    from executions.services import BudgetExhausted

    def exhausted():
        raise BudgetExhausted("no Lambda API slot free within 30s")

    monkeypatch.setattr(durable_api, "governor_acquire", exhausted)
    order = pending_order()
    response = approver_client.post(reverse("approvals:approve", args=[order["orderId"]]), {}, follow=True)
    assert response.status_code == 200
    assert "The shared Lambda API budget is used up right now" in response.content.decode()
    stored = order_get(dynamodb_client, aws.table, order["orderId"])
    assert stored["status"] == "pending_approval" and "claimToken" not in stored
    assert Decision.objects.get(order_id=order["orderId"]).outcome == "failed"


@pytest.mark.django_db
def test_a_hung_lambda_answers_within_the_decision_budget(
    approver_client, pending_order, dynamodb_client, aws, gateway_faults, settings, fast_retries
):
    """Send and history reads held 20 s by the gateway: the approver is answered within DECISION_TIMEOUT_SECONDS,
    told it is sent but not confirmed; the claim is kept (the order page shows the pending resolution)."""
    order = pending_order()
    gateway_faults(after="delay", operation=SEND, delaySeconds=20)
    gateway_faults(after="delay", operation=HISTORY, delaySeconds=20, count=5)
    started = time.monotonic()
    response = approver_client.post(reverse("approvals:approve", args=[order["orderId"]]), follow=True)
    assert time.monotonic() - started < settings.DECISION_TIMEOUT_SECONDS
    assert response.status_code == 200
    assert "Sent, not yet confirmed: it will be resolved automatically." in response.content.decode()
    assert Decision.objects.get(order_id=order["orderId"]).outcome == "sending"
    if order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "deciding":
        page = approver_client.get(reverse("approvals:order", args=[order["orderId"]])).content.decode()
        assert "Sent, not yet confirmed" in page
