"""One activity trail per order: the order page and the execution page load the same merged list of decision
attempts, admin actions and notifications, in time order, with outcomes that cannot contradict the order's state.

The first test runs the real OrderApproval workflow on the local stack (emulator, gateway, DynamoDB Local) and
decides through the pages; the others write rows straight to the database."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals.models import Decision
from executions.models import Execution, Operation, OperatorAction
from notifications.models import Notification
from tests.executions.page_factories import execution_make
from tests.executions.sync_support import execution_synced
from tests.orders import order_for_execution, order_start

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _items(html: str) -> list[tuple[str, str]]:
    """(kind, title) of each item of a rendered trail, in order."""
    return re.findall(r'<li class="act act-(\w+)" data-kind="\w+">.*?<b>([^<]+)</b>', html, re.S)


def _notification(order_id: str, *, at, kind="order_pending", status="sent", **fields) -> Notification:
    return Notification.objects.create(
        kind=kind,
        subject=f"{kind}:{order_id}",
        recipient="approvers@example.com",
        channel="email",
        dedupe_key=f"{kind}-{order_id}-{at.timestamp()}"[:64],
        context={"order_id": order_id, **fields},
        status=status,
        created_at=at,
        sent_at=at if status == "sent" else None,
    )


@pytest.mark.slow
def test_the_order_and_its_execution_show_the_same_trail_in_time_order(
    aws, settings, lambda_client, dynamodb_client, admin_client_, client, approver, operator
):
    settings.DURABLE_API_MAX_RPS = 500
    settings.READ_ONLY = False
    arn = order_start(lambda_client, customerName="Trail Co", amount=321)
    order = order_for_execution(dynamodb_client, aws.table, arn)
    order_id = order["orderId"]

    def callback_open(e):
        return Operation.objects.filter(execution=e, op_type="callback", ended_at=None).exists()

    execution = execution_synced("OrderApproval", arn, until=callback_open)
    callback = Operation.objects.get(execution=execution, op_type="callback", ended_at=None)
    # 1. an admin tries to fail the callback before its deadline without the extra confirmation: refused, audited
    admin_client_.post(
        f"/executions/{execution.pk}/callbacks/{callback.operation_id}/fail", {"reason": "too early", "confirm": "yes"}
    )
    assert OperatorAction.objects.get().outcome == "rejected"
    # 2. the approvers were told about the order
    _notification(order_id, at=timezone.now())
    # 3. an approver approves it through the page
    client.force_login(approver)
    response = client.post(reverse("approvals:approve", args=[order_id]), {"comment": "fine by me"})
    assert response.status_code == 302
    execution = execution_synced("OrderApproval", arn, until=lambda e: e.status == "SUCCEEDED" and e.history_complete)

    client.force_login(operator)
    from_order = client.get(f"/activity/order/{order_id}/?execution={execution.pk}", **HTMX).content.decode()
    from_execution = client.get(f"/activity/execution/{execution.pk}/", **HTMX).content.decode()
    expected = [
        ("admin", "Fail callback on approval"),
        ("notification", "New pending order"),
        ("decision", "Approve attempt"),
        ("outcome", "Order approved"),
    ]
    assert _items(from_order) == expected
    assert _items(from_execution) == expected
    assert "took effect: order approved" in from_order and "took effect: order approved" in from_execution
    # the audit record of the admin action is linked
    audit = OperatorAction.objects.get()
    assert f"/executions/actions/?execution={execution.pk}#action-{audit.pk}" in from_execution

    # both pages load it with htmx, with a plain link for browsers without JavaScript
    order_page = client.get(reverse("approvals:order", args=[order_id])).content.decode()
    assert f'hx-get="/activity/order/{order_id}/?execution={execution.pk}"' in order_page
    assert f'<a href="/activity/order/{order_id}/?execution={execution.pk}">' in order_page
    execution_page = client.get(f"/executions/{execution.pk}/").content.decode()
    assert f'hx-get="/activity/execution/{execution.pk}/"' in execution_page
    # without htmx it is a page of its own
    page = client.get(f"/activity/order/{order_id}/").content.decode()
    assert "<nav" in page and _items(page) == expected  # the execution found from the decision audit


def test_a_decision_still_sending_does_not_contradict_the_order(operator_client):
    now = timezone.now()
    execution = execution_make(
        status="SUCCEEDED",
        input={"customerName": "Acme", "amount": 10, "requestedBy": "rita"},
        result={"orderId": "ord-1", "outcome": "approved", "decisionId": "d-winner"},
        ended_at=now + timedelta(seconds=5),  # the decisions below came before the end
    )
    Decision.objects.create(
        order_id="ord-1",
        execution_arn=execution.arn,
        decision="reject",
        username="bob",
        outcome="sending",
        decision_id="d-loser",
    )
    Decision.objects.create(
        order_id="ord-1",
        execution_arn=execution.arn,
        decision="approve",
        username="ann",
        outcome="sending",
        decision_id="d-winner",
    )
    html = operator_client.get("/activity/order/ord-1/", **HTMX).content.decode()
    assert "did not take effect: the order was approved" in html  # bob's reject, never "sending"
    assert "took effect: order approved" in html  # ann's, confirmed by the execution's result
    assert "being sent" not in html
    assert [kind for kind, _ in _items(html)] == ["decision", "decision", "outcome"]


def test_approvers_see_only_their_own_decisions_in_the_trail(client, approver, second_approver):
    execution = execution_make(status="RUNNING", input={"customerName": "Acme"}, result=None)
    Execution.objects.filter(pk=execution.pk).update(result={"orderId": "ord-2"})
    for user in (approver, second_approver):
        Decision.objects.create(
            order_id="ord-2", decision="approve", username=user.username, user=user, outcome="already_decided"
        )
    client.force_login(approver)
    html = client.get("/activity/order/ord-2/", **HTMX).content.decode()
    assert html.count("Approve attempt") == 1
    assert "not applied: another decision came first" in html


def test_the_trail_needs_a_login_and_refuses_a_huge_order_id(operator_client):
    assert Client().get("/activity/order/x/").status_code == 302
    assert operator_client.get("/activity/order/" + "x" * 200 + "/").status_code == 404
    assert operator_client.get("/activity/execution/999999/").status_code == 404
    assert operator_client.post("/activity/order/x/").status_code == 405
