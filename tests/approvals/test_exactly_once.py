"""Exactly one decision per order: races, closed callbacks, transient failures, crashed claims."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from botocore.stub import Stubber
from django.test import Client
from django.urls import reverse

from approvals import orders_table, reconcile, services
from approvals.models import Decision
from core.aws import aws_client, aws_clients_reset, aws_interactive
from tests.orders import execution_wait, history, order_get


def _callback_events(lambda_client, arn):
    return [
        e
        for e in history(lambda_client, arn)
        if e["EventType"].startswith("Callback") and e["EventType"] != "CallbackStarted"
    ]


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_decisions_send_exactly_one_callback(
    pending_order, lambda_client, dynamodb_client, aws, django_user_model, settings, monkeypatch
):
    """20 threads, 20 users, 20 test clients posting approve/reject at the same instant through the views.

    The test database of `make test` is SQLite in memory with a shared cache, where concurrent writers fail
    with "table is locked" instead of waiting (file SQLite and PostgreSQL wait). So on SQLite only, the
    audit writes are serialised (still real writes), the cache and the sessions are process-local; the race itself --
    the DynamoDB claim and the callback -- is untouched. Under `make test-production` nothing is serialised.
    """
    from django.contrib.auth.models import Group
    from django.db import connection

    if connection.vendor == "sqlite":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"  # sessions are written every request
        audit_lock = threading.Lock()
        real_audit, real_complete = services.decision_audit, Decision.complete

        def serialised_audit(**kwargs):
            with audit_lock:
                return real_audit(**kwargs)

        def serialised_complete(self, **kwargs):
            with audit_lock:
                return real_complete(self, **kwargs)

        monkeypatch.setattr(services, "decision_audit", serialised_audit)
        monkeypatch.setattr(Decision, "complete", serialised_complete)

    approvers, _ = Group.objects.get_or_create(name="Approvers")  # transactional tests flush data migrations
    users = []
    for index in range(20):
        user = django_user_model.objects.create_user(username=f"racer{index}", password="x")
        user.groups.add(approvers)
        users.append(user)
    order = pending_order()
    clients = []
    for user in users:  # sessions are created up front: only the decisions race
        client = Client()
        client.force_login(user)
        clients.append(client)
    barrier = threading.Barrier(20, timeout=30)
    responses: dict[int, object] = {}

    def decide(index: int):
        approve = index % 2 == 0
        url = reverse("approvals:approve" if approve else "approvals:reject", args=[order["orderId"]])
        barrier.wait()
        responses[index] = clients[index].post(
            url, {"comment": "race", "reason": "race"}, headers={"HX-Request": "true"}
        )

    threads = [threading.Thread(target=decide, args=(i,), daemon=True) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(responses) == 20
    assert all(r.status_code == 200 for r in responses.values()), [r.status_code for r in responses.values()]
    execution = execution_wait(lambda_client, order["executionArn"])
    assert execution["Status"] == "SUCCEEDED"
    assert len(_callback_events(lambda_client, order["executionArn"])) == 1
    outcomes = list(Decision.objects.filter(order_id=order["orderId"]).values_list("outcome", flat=True))
    assert len(outcomes) == 20
    assert outcomes.count("succeeded") == 1
    assert outcomes.count("already_decided") == 19
    winner = Decision.objects.get(order_id=order["orderId"], outcome="succeeded")
    result = json.loads(execution["Result"])
    assert result["decidedBy"] == winner.username
    assert result["outcome"] == ("approved" if winner.decision == "approve" else "rejected")
    losers = [r.content.decode() for r in responses.values() if "Already decided" in r.content.decode()]
    assert len(losers) == 19
    assert all(f"Already decided by {winner.username} at" in text for text in losers)
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == result["outcome"]


@pytest.mark.django_db
def test_expired_order_tells_window_is_over(approver_client, pending_order, lambda_client, dynamodb_client, aws):
    order = pending_order(approvalTimeoutSeconds=2)
    execution_wait(lambda_client, order["executionArn"])
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "expired"
    response = approver_client.post(reverse("approvals:approve", args=[order["orderId"]]), {}, follow=True)
    assert "The approval window for this order is over" in response.content.decode()
    assert Decision.objects.get(order_id=order["orderId"]).outcome == "closed"
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "expired"


@pytest.mark.django_db
def test_callback_closed_while_still_pending_is_not_left_deciding(
    approver, pending_order, lambda_client, dynamodb_client, aws
):
    """The gap between the callback timing out and the workflow writing `expired`: the claim wins,
    the emulator answers 404 (closed), the history says timed out -> order expired, audit row."""
    order = pending_order(approvalTimeoutSeconds=2)
    execution_wait(lambda_client, order["executionArn"])
    dynamodb_client.update_item(
        TableName=aws.table,
        Key={"orderId": {"S": order["orderId"]}},
        UpdateExpression="SET #s = :p",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": "pending_approval"}},
    )
    result = services.order_decide(order_id=order["orderId"], user=approver, approve=True)
    assert result.outcome == "closed"
    assert "approval window for this order is over" in result.message
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "expired"
    assert Decision.objects.get(order_id=order["orderId"]).error.startswith("callback closed (timed_out)")


@pytest.mark.django_db
def test_aws_callback_timeout_exception_is_closed(approver, pending_order, dynamodb_client, aws, fast_retries):
    """AWS answers CallbackTimeoutException (400), which the emulator cannot produce: Stubber for that shape,
    and for the history read that follows."""
    order = pending_order()
    with aws_interactive():  # a decision's calls: one client, one attempt each, short timeouts
        client = aws_client("lambda")
    with Stubber(client) as stub:
        stub.add_client_error(
            "send_durable_execution_callback_success", "CallbackTimeoutException", "Callback timed out", 400
        )
        started = {
            "EventType": "CallbackStarted",
            "EventId": 5,
            "Id": "cb1",
            "Name": "approval",
            "EventTimestamp": datetime.now(UTC),
            "CallbackStartedDetails": {"CallbackId": order["callbackId"]},
        }
        timed_out = {
            "EventType": "CallbackTimedOut",
            "EventId": 6,
            "Id": "cb1",
            "Name": "approval",
            "EventTimestamp": datetime.now(UTC),
            "CallbackTimedOutDetails": {"Error": {}},
        }
        stub.add_response("get_durable_execution_history", {"Events": [started, timed_out]})
        result = services.order_decide(order_id=order["orderId"], user=approver, approve=True)
    assert result.outcome == "closed"
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "expired"


@pytest.mark.django_db
def test_throttling_is_retried_with_backoff(approver, pending_order, dynamodb_client, lambda_client, aws, fast_retries):
    """TooManyRequestsException twice, then success (throttling cannot be provoked on the emulator: Stubber)."""
    order = pending_order()
    with aws_interactive():
        client = aws_client("lambda")
    with Stubber(client) as stub:
        for _ in range(2):
            stub.add_client_error(
                "send_durable_execution_callback_success", "TooManyRequestsException", "Rate exceeded", 429
            )
        stub.add_response("send_durable_execution_callback_success", {})
        result = services.order_decide(order_id=order["orderId"], user=approver, approve=True)
        stub.assert_no_pending_responses()
    assert result.outcome == "succeeded"
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "approved"


@pytest.mark.django_db
def test_endpoint_down_releases_claim_with_clear_error(
    approver, pending_order, dynamodb_client, aws, settings, fast_retries, caplog
):
    order = pending_order()
    settings.LAMBDA_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.AWS_MAX_ATTEMPTS = 1
    aws_clients_reset()
    result = services.order_decide(order_id=order["orderId"], user=approver, approve=True)
    assert result.outcome == "failed"
    assert "could not be sent" in result.message and "3 attempts" in result.message
    stored = order_get(dynamodb_client, aws.table, order["orderId"])
    assert stored["status"] == "pending_approval"
    assert "claimedBy" not in stored and "claimToken" not in stored
    decision = Decision.objects.get(order_id=order["orderId"])
    assert decision.outcome == "failed" and "unreachable" in decision.error
    # The callback id travels in the URL botocore reports; it must not leak anywhere.
    callback_id = order["callbackId"]
    assert callback_id not in decision.error and callback_id not in result.message
    assert callback_id not in caplog.text
    assert callback_id not in stored.get("lastDecisionError", "")


@pytest.mark.django_db
def test_callback_id_never_reaches_the_browser(approver_client, pending_order, aws):
    order = pending_order()
    for url in (reverse("approvals:inbox"), reverse("approvals:order", args=[order["orderId"]])):
        body = approver_client.get(url).content.decode()
        assert order["orderId"][:8] in body
        assert order["callbackId"] not in body
        assert "callbackId" not in body


# --- claims left in `deciding` by a crash ------------------------------------------------------------


def _claim(order: dict, *, by: str = "approver", minutes_ago: int = 10) -> str:
    claimed_at = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")
    claim = orders_table.order_claim(
        order_id=order["orderId"],
        token="tok-" + order["orderId"],
        claimed_by=by,
        decision="approve",
        comment="crashed",
        claimed_at=claimed_at,
        not_by=[by],
    )
    return claim.token


@pytest.mark.django_db
def test_stale_claim_with_open_callback_is_released(approver, pending_order, dynamodb_client, aws, lambda_client):
    order = pending_order()
    _claim(order)
    counts = reconcile.claims_release_stale(older_than_seconds=60)
    assert counts["released"] >= 1
    stored = order_get(dynamodb_client, aws.table, order["orderId"])
    assert stored["status"] == "pending_approval" and "claimedBy" not in stored
    audit = Decision.objects.get(order_id=order["orderId"])
    assert (audit.outcome, audit.user, audit.decision) == ("released", approver, "approve")
    assert not _callback_events(lambda_client, order["executionArn"])
    # ... and it can be decided normally afterwards
    assert services.order_decide(order_id=order["orderId"], user=approver, approve=True).outcome == "succeeded"


@pytest.mark.django_db
def test_stale_claim_whose_callback_was_delivered_is_finalised(
    approver, pending_order, dynamodb_client, aws, lambda_client
):
    order = pending_order()
    token = _claim(order)
    # The crash happened after the callback was sent: the workflow resumes and writes `approved` itself,
    # so freeze the order in `deciding` by sending the callback for an execution whose order we re-claim.
    lambda_client.send_durable_execution_callback_success(
        CallbackId=order["callbackId"],
        Result=json.dumps(
            {"approved": True, "decidedBy": "approver", "comment": "crashed", "decidedAt": "x", "decisionId": token}
        ),
    )
    execution_wait(lambda_client, order["executionArn"])
    dynamodb_client.update_item(  # the state a crash leaves if the workflow had not yet run its step
        TableName=aws.table,
        Key={"orderId": {"S": order["orderId"]}},
        UpdateExpression="SET #s = :d",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":d": {"S": "deciding"}},
    )
    counts = reconcile.claims_release_stale(older_than_seconds=60)
    assert counts["recovered"] >= 1
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "approved"
    assert Decision.objects.get(order_id=order["orderId"]).outcome == "recovered"


@pytest.mark.django_db
def test_fresh_claim_is_left_alone(pending_order, dynamodb_client, aws):
    order = pending_order()
    _claim(order, minutes_ago=0)
    counts = reconcile.claims_release_stale(older_than_seconds=300)
    assert counts["skipped"] >= 1
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "deciding"
    assert not Decision.objects.filter(order_id=order["orderId"]).exists()


@pytest.mark.django_db
def test_release_task_is_registered_in_beat(settings, aws):
    from approvals.tasks import release_stale_claims

    entry = settings.CELERY_BEAT_SCHEDULE["approvals.release_stale_claims"]
    assert entry["task"] == release_stale_claims.name == "approvals.release_stale_claims"
    assert entry["options"]["expires"] == entry["schedule"]
    assert isinstance(release_stale_claims.apply().get(), dict)
