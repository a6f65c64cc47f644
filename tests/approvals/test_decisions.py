"""Approve/reject against the real workflow (DynamoDB Local, emulator, gateway): outcomes, roles, audit."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from approvals.models import Decision
from tests.orders import execution_wait, history, order_get

pytestmark = pytest.mark.django_db


def _events(lambda_client, arn, kind):
    return [e for e in history(lambda_client, arn) if e["EventType"] == kind]


def test_approve_resumes_execution_and_order_ends_approved(
    approver_client, approver, pending_order, lambda_client, dynamodb_client, aws
):
    order = pending_order()
    from executions.sync import functions_sync

    functions_sync(function_name="OrderApproval")  # the poller already knows the suspended execution
    response = approver_client.post(
        reverse("approvals:approve", args=[order["orderId"]]), {"comment": "fine by me"}, follow=True
    )
    assert response.status_code == 200
    assert "Approved order" in response.content.decode()
    execution = execution_wait(lambda_client, order["executionArn"])
    assert execution["Status"] == "SUCCEEDED"
    result = json.loads(execution["Result"])
    assert result["outcome"] == "approved"
    assert result["decidedBy"] == "approver"
    assert result["comment"] == "fine by me"
    stored = order_get(dynamodb_client, aws.table, order["orderId"])
    assert stored["status"] == "approved"
    assert stored["decidedBy"] == "approver"
    decision = Decision.objects.get(order_id=order["orderId"])
    assert (decision.outcome, decision.decision, decision.user, decision.comment) == (
        "succeeded",
        "approve",
        approver,
        "fine by me",
    )
    assert decision.execution_arn == order["executionArn"]
    assert decision.order_created_at is not None and decision.time_to_decision.total_seconds() >= 0
    # The poller is told to read the resumed execution first in its next cycle.
    from executions.models import Execution

    synced = Execution.objects.get(arn=order["executionArn"])
    assert synced.poll_reason == "answered" and synced.poll_backoff_seconds == 0


def test_reject_with_reason_puts_reason_in_callback_result(
    approver_client, pending_order, lambda_client, dynamodb_client, aws
):
    order = pending_order()
    response = approver_client.post(reverse("approvals:reject", args=[order["orderId"]]), {"reason": "over budget"})
    assert response.status_code == 302
    execution = execution_wait(lambda_client, order["executionArn"])
    result = json.loads(execution["Result"])
    assert result["outcome"] == "rejected" and result["comment"] == "over budget"
    events = lambda_client.get_durable_execution_history(
        DurableExecutionArn=order["executionArn"], IncludeExecutionData=True
    )["Events"]
    succeeded = [e for e in events if e["EventType"] == "CallbackSucceeded"]
    assert len(succeeded) == 1
    payload = json.loads(succeeded[0]["CallbackSucceededDetails"]["Result"]["Payload"])
    assert payload["approved"] is False and payload["comment"] == "over budget"
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "rejected"


def test_reject_without_reason_is_a_form_error_and_sends_nothing(
    approver_client, pending_order, lambda_client, dynamodb_client, aws
):
    order = pending_order()
    url = reverse("approvals:reject", args=[order["orderId"]])
    response = approver_client.post(url, {"reason": "   "})
    assert response.status_code == 400
    assert "A reason is required to reject an order." in response.content.decode()
    htmx = approver_client.post(url, {"reason": ""}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200
    assert "A reason is required" in htmx.content.decode() and "<tr" in htmx.content.decode()
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "pending_approval"
    assert not _events(lambda_client, order["executionArn"], "CallbackSucceeded")
    assert not Decision.objects.filter(order_id=order["orderId"]).exists()


def test_htmx_decision_replaces_row_and_updates_badge(approver_client, pending_order, lambda_client):
    order = pending_order()
    response = approver_client.post(
        reverse("approvals:approve", args=[order["orderId"]]), {}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith("<tr") and f'id="order-{order["orderId"]}"' in body
    assert "Approved" in body
    assert 'id="pending-badge"' in body and 'hx-swap-oob="true"' in body
    assert json.loads(response["HX-Trigger"]) == {"approvals:decided": {}}
    execution_wait(lambda_client, order["executionArn"])


def test_second_decision_is_told_already_decided(
    approver_client, client, second_approver, pending_order, lambda_client
):
    order = pending_order()
    approver_client.post(reverse("approvals:approve", args=[order["orderId"]]), {})
    client.force_login(second_approver)
    response = client.post(reverse("approvals:reject", args=[order["orderId"]]), {"reason": "no"}, follow=True)
    text = response.content.decode()
    assert response.status_code == 200
    assert "Already decided by approver at" in text or "no longer pending" in text
    assert len(_events(lambda_client, order["executionArn"], "CallbackSucceeded")) == 1
    loser = Decision.objects.get(order_id=order["orderId"], username="approver2")
    assert loser.outcome == "already_decided"


# --- roles ---------------------------------------------------------------------------------


def test_operator_cannot_decide(operator_client, pending_order, dynamodb_client, aws):
    order = pending_order()
    response = operator_client.post(reverse("approvals:approve", args=[order["orderId"]]), {})
    assert response.status_code == 403
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "pending_approval"
    # ... but can read the inbox, without decision buttons
    page = operator_client.get(reverse("approvals:inbox"))
    assert page.status_code == 200
    assert "Confirm approval" not in page.content.decode()


@pytest.mark.parametrize("identity", ["username", "email"])
def test_requester_cannot_decide_own_order_admins_included(
    identity, client, admin_user, pending_order, dynamodb_client, aws, lambda_client
):
    admin_user.email = "boss@example.com"
    admin_user.save()
    requested_by = admin_user.username if identity == "username" else "Boss@Example.com"
    order = pending_order(requestedBy=requested_by)
    client.force_login(admin_user)
    response = client.post(reverse("approvals:approve", args=[order["orderId"]]), {})
    assert response.status_code == 403
    assert "Four-eyes" in response.content.decode()
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "pending_approval"
    assert not _events(lambda_client, order["executionArn"], "CallbackSucceeded")
    assert Decision.objects.get(order_id=order["orderId"]).outcome == "forbidden"
    detail = client.get(reverse("approvals:order", args=[order["orderId"]])).content.decode()
    assert "another approver must decide it" in detail and "Approve order" not in detail


def test_anonymous_is_sent_to_login(client, aws):
    for url in (reverse("approvals:inbox"), reverse("approvals:decisions"), "/approvals/some-id/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.post("/approvals/some-id/approve", {})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_csrf_is_enforced(approver, pending_order, dynamodb_client, aws):
    from django.test import Client

    order = pending_order()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(approver)
    response = csrf_client.post(reverse("approvals:approve", args=[order["orderId"]]), {})
    assert response.status_code == 403
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "pending_approval"


def test_decide_requires_post(approver_client, aws):
    assert approver_client.get("/approvals/some-id/approve").status_code == 405


def test_unknown_order_is_404(approver_client, aws):
    assert approver_client.get("/approvals/does-not-exist/").status_code == 404
    assert approver_client.post("/approvals/does-not-exist/approve", {}).status_code == 404


def test_no_js_decision_redirects_back_with_message_and_only_to_safe_urls(
    approver_client, pending_order, lambda_client
):
    first, second = pending_order(), pending_order()
    inbox = approver_client.get(reverse("approvals:inbox"), {"q": "northwind", "sort": "amount"})
    assert 'name="next" value="/approvals/?q=northwind&amp;sort=amount"' in inbox.content.decode()
    back = "/approvals/?q=northwind&sort=amount"
    response = approver_client.post(reverse("approvals:approve", args=[first["orderId"]]), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    followed = approver_client.get(back)
    assert f"Approved order {first['orderId'][:8]}" in followed.content.decode()
    evil = approver_client.post(
        reverse("approvals:approve", args=[second["orderId"]]), {"next": "https://evil.example/"}
    )
    assert evil["Location"] == reverse("approvals:inbox")
    for order in (first, second):
        execution_wait(lambda_client, order["executionArn"])


@pytest.mark.django_db
@pytest.mark.parametrize("length", [129, 5000])
@pytest.mark.parametrize("action", ["approvals:approve", "approvals:reject"])
def test_an_order_id_over_128_characters_is_a_400_and_touches_nothing(approver_client, aws, length, action):
    response = approver_client.post(reverse(action, args=["x" * length]), {"comment": "ok", "reason": "no"})
    assert response.status_code == 400
    assert Decision.objects.count() == 0
