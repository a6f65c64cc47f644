"""Approvals under a hung DynamoDB, the freeze switch, four-eyes across Unicode and renames, private claim notes."""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager

import pytest
from django.test import Client
from django.urls import reverse

from approvals import orders_table, reconcile, services
from approvals.models import Decision
from approvals.orders_table import OrderAlreadyDecided
from tests.orders import execution_wait, order_get


@contextmanager
def _stopped(process):
    """A hung service (SIGSTOP), not a refused connection; always resumed."""
    os.killpg(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(process.pid, signal.SIGCONT)


@pytest.mark.django_db
def test_a_hung_dynamodb_gets_the_503_page_within_the_interactive_budget(
    approver_client, pending_order, dynamodb_client, aws
):
    order = pending_order()
    approver_client.get(reverse("approvals:inbox"))  # warm connections: the hang is on a live socket
    with _stopped(aws.processes["dynamodb"]):
        for method, url in (
            ("get", reverse("approvals:inbox")),
            ("get", reverse("approvals:order", args=[order["orderId"]])),
            ("post", reverse("approvals:approve", args=[order["orderId"]])),
        ):
            started = time.monotonic()
            response = getattr(approver_client, method)(url)
            elapsed = time.monotonic() - started
            assert response.status_code == 503, (url, response.status_code)
            assert "DynamoDB" in response.content.decode()
            assert elapsed < 5, (url, elapsed)
    # nothing was lost, everything recovers
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "pending_approval"
    assert not Decision.objects.filter(order_id=order["orderId"]).exists()
    assert approver_client.get(reverse("approvals:inbox")).status_code == 200
    response = approver_client.post(reverse("approvals:approve", args=[order["orderId"]]), follow=True)
    assert "Approved order" in response.content.decode()


@pytest.mark.django_db
def test_read_only_blocks_decisions_and_the_reconciler(approver_client, pending_order, dynamodb_client, aws, settings):
    order = pending_order()
    orders_table.order_claim(
        order_id=order["orderId"], token="tok-ro", claimed_by="someone", decision="approve", comment="",
        claimed_at="2020-01-01T00:00:00.000Z", not_by=["someone"],
    )  # fmt: skip
    other = pending_order()
    settings.READ_ONLY = True
    page = approver_client.get(reverse("approvals:order", args=[other["orderId"]])).content.decode()
    assert "read-only mode" in page and "Approve order" not in page
    response = approver_client.post(reverse("approvals:approve", args=[other["orderId"]]), follow=True)
    assert "read-only mode" in response.content.decode()
    assert order_get(dynamodb_client, aws.table, other["orderId"])["status"] == "pending_approval"
    assert reconcile.claims_release_stale(older_than_seconds=0)["read_only"] == 1
    from approvals.tasks import release_stale_claims

    assert release_stale_claims.apply().get() == {"skipped_read_only": 1}
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "deciding"  # left alone
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_other_approvers_do_not_see_a_claim_comment(approver_client, second_approver, operator, pending_order, aws):
    order = pending_order()
    orders_table.order_claim(
        order_id=order["orderId"], token="tok-c", claimed_by=second_approver.username, decision="reject",
        comment="private note: supplier is under review", claimed_at="2030-01-01T00:00:00.000Z", not_by=["x"],
    )  # fmt: skip
    url = reverse("approvals:order", args=[order["orderId"]])
    assert "supplier is under review" not in approver_client.get(url).content.decode()
    operator_client = Client()
    operator_client.force_login(operator)
    assert "supplier is under review" in operator_client.get(url).content.decode()  # operators read everything


@pytest.mark.django_db
def test_four_eyes_in_the_claim_condition_folds_unicode_and_case(pending_order, aws):
    """The DynamoDB condition itself (the Python check is bypassed by calling the gateway directly)."""
    order = pending_order(requestedBy="\uff23AROL@Example.com")
    with pytest.raises(OrderAlreadyDecided):
        orders_table.order_claim(
            order_id=order["orderId"], token="t1", claimed_by="carol", decision="approve", comment="",
            claimed_at="2030-01-01T00:00:00.000Z", not_by=["carol", "carol@example.com"],
        )  # fmt: skip


@pytest.mark.django_db
def test_renaming_oneself_does_not_escape_four_eyes(pending_order, django_user_model, aws):
    from django.contrib.auth.models import Group

    carol = django_user_model.objects.create_user(username="carol", email="carol@example.com", password="x")
    carol.groups.add(Group.objects.get(name="Approvers"))
    order = pending_order(requestedBy="carol@example.com")
    carol.username, carol.email = "carol.new", "c.new@example.com"
    carol.save()
    with pytest.raises(services.FourEyesViolation):
        services.order_decide(order_id=order["orderId"], user=carol, approve=True)
    assert Decision.objects.get(order_id=order["orderId"]).outcome == "forbidden"


@pytest.mark.django_db
def test_dynamodb_failing_after_the_send_still_records_the_decision_delivered(
    approver_client, pending_order, lambda_client, dynamodb_client, aws, monkeypatch, settings, fast_retries
):
    """The callback is delivered, then DynamoDB hangs (SIGSTOP) before the order is finished: the audit row is
    `succeeded`, the approver is told the decision was delivered, no 500. Once DynamoDB is back, the reconciler
    finishes the order from the claim token and the history, without a second audit row."""
    from django.contrib.messages import get_messages

    from approvals.tasks import release_stale_claims
    from executions import services as executions

    settings.AWS_INTERACTIVE_TIMEOUT_SECONDS = 2  # the hung DynamoDB is a timeout after 1.2 s
    settings.APPROVALS_CLAIM_STALE_SECONDS = 0
    dynamodb = aws.processes["dynamodb"]
    order = pending_order()
    real = executions.callback_succeed
    stopped = []

    def then_dynamodb_hangs(**kwargs):
        real(**kwargs)  # the real send: the workflow gets the decision
        os.killpg(dynamodb.pid, signal.SIGSTOP)
        stopped.append(True)

    monkeypatch.setattr(executions, "callback_succeed", then_dynamodb_hangs)
    try:
        started = time.monotonic()
        response = approver_client.post(reverse("approvals:approve", args=[order["orderId"]]), {"comment": "ok"})
        elapsed = time.monotonic() - started
        assert stopped, "the callback was not sent"
        assert response.status_code == 302, response.status_code
        told = [str(message) for message in get_messages(response.wsgi_request)]
        assert told == [f"Approved order {order['orderId'][:8]}; the workflow resumes."], told
        assert elapsed < settings.DECISION_TIMEOUT_SECONDS
        rows = list(Decision.objects.filter(order_id=order["orderId"]))
        assert [row.outcome for row in rows] == ["succeeded"], [(row.outcome, row.error) for row in rows]
        token = rows[0].decision_id
    finally:
        os.killpg(dynamodb.pid, signal.SIGCONT)
    # The order was left claimed (the finish timed out); the workflow's own write was held by the hang too and
    # lands once DynamoDB is back. Undo it, so that the reconciler's repair is what is checked.
    execution_wait(lambda_client, order["executionArn"])
    dynamodb_client.update_item(
        TableName=aws.table,
        Key={"orderId": {"S": order["orderId"]}},
        UpdateExpression="SET #s = :d REMOVE decidedBy, decidedAt, decisionId",
        ConditionExpression="claimToken = :t",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":d": {"S": "deciding"}, ":t": {"S": token}},
    )
    # (The table is shared by the session's tests: other tests' claims may be released by the same run, so what
    # is checked is this order's state and audit.)
    counts = release_stale_claims.apply().get()
    assert counts["recovered"] >= 1, counts
    stored = order_get(dynamodb_client, aws.table, order["orderId"])
    assert stored["status"] == "approved" and stored["decidedBy"] == "approver", stored
    rows = list(Decision.objects.filter(order_id=order["orderId"]))
    assert [(row.outcome, row.decision_id) for row in rows] == [("succeeded", token)], [
        (row.outcome, row.error) for row in rows
    ]
    assert approver_client.get(reverse("approvals:order", args=[order["orderId"]])).status_code == 200
