"""The notifications check against the real workflow (DynamoDB Local, the emulator, the gateway), a real SMTP
server and a real HTTP receiver: what is sent, to whom, once.

Each test first runs one check with no user and no webhook (`quiet`) and marks every order other tests left in the
session's table as known (tracked if pending, its outcome told), so only this test's orders are new and only their
outcomes are sent; messages are then told apart by their order id or recipient.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from approvals.services import order_decide
from core.roles import ADMINS, APPROVERS, OPERATORS
from core.time import timestamp_parse
from notifications.delivery import dedupe_key, notifications_deliver
from notifications.models import Kind, Notification, Status, TrackedOrder
from notifications.preferences import preference_set
from notifications.scheduler import notifications_check
from tests.conftest import wait_until
from tests.orders import execution_wait, order_for_execution, order_get, order_start

pytestmark = pytest.mark.django_db


def cycle(now=None) -> dict:
    """One beat: the check, then delivery (what the task "notifications.check" does)."""
    found = notifications_check(now=now)
    notifications_deliver()
    return found


@pytest.fixture
def quiet(aws, settings, dynamodb_client):
    settings.NOTIFY_WEBHOOK_URLS = []
    notifications_check()
    Notification.objects.all().delete()
    _leftovers_known(dynamodb_client, aws.table)
    return aws


def _leftovers_known(client, table: str) -> None:
    """The orders other tests left in the session's table are none of this test's business: each is tracked and
    its outcome marked told (a skipped row), so neither its announcement (a leftover whose callback comes late) nor
    its outcome (one decided or expired while this test runs, or found by the outcome lookback) is sent."""
    ids, pending = [], []
    pages = client.get_paginator("scan").paginate(
        TableName=table, ProjectionExpression="orderId, #s", ExpressionAttributeNames={"#s": "status"}
    )
    for page in pages:
        for item in page.get("Items", []):
            ids.append(item["orderId"]["S"])
            if item.get("status", {}).get("S") in ("pending_approval", "deciding"):
                pending.append(item["orderId"]["S"])
    known = set(TrackedOrder.objects.filter(order_id__in=pending).values_list("order_id", flat=True))
    TrackedOrder.objects.bulk_create([TrackedOrder(order_id=order_id) for order_id in pending if order_id not in known])
    Notification.objects.bulk_create(
        [
            Notification(
                kind=Kind.ORDER_OUTCOME,
                subject=order_id,
                recipient="leftover",
                channel="email",
                dedupe_key=dedupe_key(Kind.ORDER_OUTCOME, order_id, "leftover", "email"),
                status=Status.SKIPPED,
            )
            for order_id in ids
        ],
        ignore_conflicts=True,
    )


@pytest.fixture
def people(quiet, django_user_model):
    """Users with email addresses in each role; carol is an approver who also requests orders."""
    from django.contrib.auth.models import Group

    def make(username, role):
        user = django_user_model.objects.create_user(
            username=username, email=f"{username}@example.com", password="pw-" + username
        )
        user.groups.add(Group.objects.get(name=role))
        return user

    return {
        "ann": make("ann", APPROVERS),
        "carol": make("carol", APPROVERS),
        "otto": make("otto", OPERATORS),
        "ada": make("ada", ADMINS),
    }


@pytest.fixture
def start_order(quiet, lambda_client, dynamodb_client):
    """Start the real OrderApproval workflow; return its item (with the callback id) once the callback is stored."""

    def start(**overrides) -> dict:
        arn = order_start(lambda_client, **overrides)
        return order_for_execution(dynamodb_client, quiet.table, arn)

    return start


def requester() -> str:
    return f"req-{uuid.uuid4().hex[:10]}@example.com"


def about(messages, order_id: str) -> list:
    return [m for m in messages if order_id in m.as_string()]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def hooks_about(receiver, key: str, value: str) -> list[dict]:
    bodies = [json.loads(r.body) for r in receiver.requests]
    return [b for b in bodies if b.get(key) == value]


def test_new_order_emails_the_approvers_but_not_its_requester(people, start_order, smtp_sink, http_receiver, settings):
    settings.NOTIFY_WEBHOOK_URLS = [http_receiver.url]
    order = start_order(requestedBy="carol@example.com")
    order_id, callback_id = order["orderId"], order["callbackId"]

    found = cycle()
    assert found["orders_new"] == 1
    mine = about(smtp_sink.wait_for(1), order_id)
    assert [m["To"] for m in mine] == ["ann@example.com"]  # not carol (four-eyes), not the operator or the admin
    body = text_of(mine[0])
    assert f"{django_settings.CONSOLE_BASE_URL}/approvals/{order_id}/" in body
    assert order["customerName"] in body and "carol@example.com" in body
    assert "LAP-14" in body  # the items
    hooks = hooks_about(http_receiver, "order_id", order_id)
    assert [h["kind"] for h in hooks] == [Kind.ORDER_PENDING]
    assert TrackedOrder.objects.get(order_id=order_id).open

    # Nothing carries the callback id.
    assert all(callback_id not in m.as_string() for m in smtp_sink.messages)
    assert all(callback_id.encode() not in r.body for r in http_receiver.requests)
    assert all(callback_id not in json.dumps(n.context) for n in Notification.objects.all())

    # The next checks send nothing again.
    sent, hooked = len(smtp_sink.messages), len(http_receiver.requests)
    for _ in range(2):
        found = cycle()
        assert found["orders_new"] == 0 and found["created"] == 0
    time.sleep(0.3)
    assert len(smtp_sink.messages) == sent and len(http_receiver.requests) == hooked


def test_short_window_reminds_and_escalates_once_each_and_nothing_after_the_decision(
    people, quiet, dynamodb_client, smtp_sink, http_receiver, settings
):
    settings.NOTIFY_WEBHOOK_URLS = [http_receiver.url]
    # A 120 s window: the reminder at 12 s, the escalation at 18 s, a second reminder at 60 s.
    settings.NOTIFY_REMINDER_AT = [0.1, 0.5]
    settings.NOTIFY_ESCALATE_AT = 0.15
    out = io.StringIO()
    call_command("seed_orders", "--count", "1", "--timeout", "120", "--seed", "12", stdout=out)
    order = order_for_execution(dynamodb_client, quiet.table, out.getvalue().split()[0])
    order_id, callback_id = order["orderId"], order["callbackId"]
    created = timestamp_parse(order["createdAt"])
    assert order["approvalTimeoutSeconds"] == 120

    assert cycle()["orders_new"] == 1
    # The beat, every second, until the escalation's moment has passed.
    while timezone.now() < created + timedelta(seconds=19):
        cycle()
        time.sleep(1)
    cycle()

    def kinds(address):
        return [n.kind for n in Notification.objects.filter(recipient=address, context__order_id=order_id)]

    assert sorted(kinds("ann@example.com")) == [Kind.ORDER_PENDING, Kind.ORDER_REMINDER]
    assert sorted(kinds("carol@example.com")) == [Kind.ORDER_PENDING, Kind.ORDER_REMINDER]
    assert kinds("ada@example.com") == [Kind.ORDER_ESCALATION]
    assert kinds("otto@example.com") == []
    mails = about(smtp_sink.wait_for(5), order_id)
    assert sorted(m["To"] for m in mails) == sorted(
        ["ann@example.com", "carol@example.com", "ann@example.com", "carol@example.com", "ada@example.com"]
    )
    reminder = Notification.objects.get(recipient="ann@example.com", kind=Kind.ORDER_REMINDER)
    assert reminder.subject == f"{order_id}@0.1" and reminder.status == Status.SENT
    assert Notification.objects.get(kind=Kind.ORDER_ESCALATION, channel="email").subject == order_id
    hooks = hooks_about(http_receiver, "order_id", order_id)
    assert sorted(h["kind"] for h in hooks) == [Kind.ORDER_ESCALATION, Kind.ORDER_PENDING, Kind.ORDER_REMINDER]

    # Decided: the requester is told once, and the later reminder (at 60 s) never comes.
    result = order_decide(order_id=order_id, user=people["ann"], approve=True, comment="ok")
    assert result.delivered
    before = len(smtp_sink.messages)
    cycle()
    cycle(now=created + timedelta(seconds=70))
    cycle(now=created + timedelta(seconds=110))
    new = smtp_sink.messages[before:]
    assert [m["To"] for m in about(new, order_id)] == [order["requestedBy"]]
    assert "approved" in new[-1]["Subject"]
    assert not Notification.objects.filter(subject=f"{order_id}@0.5").exists()
    assert not TrackedOrder.objects.get(order_id=order_id).open
    assert all(callback_id not in m.as_string() for m in smtp_sink.messages)


def test_approve_and_reject_each_tell_the_requester_once(
    people, start_order, client, smtp_sink, http_receiver, settings
):
    settings.NOTIFY_WEBHOOK_URLS = [http_receiver.url]
    approved_by, rejected_by = requester(), requester()
    approved = start_order(requestedBy=approved_by)
    rejected = start_order(requestedBy=rejected_by)
    cycle()

    assert order_decide(order_id=approved["orderId"], user=people["ann"], approve=True, comment="fine").delivered
    client.force_login(people["carol"])  # the console's view, as an approver would
    response = client.post(reverse("approvals:reject", args=[rejected["orderId"]]), {"reason": "over budget"})
    assert response.status_code == 302
    for _ in range(3):
        cycle()

    approved_mail = smtp_sink.to(approved_by)
    rejected_mail = smtp_sink.to(rejected_by)
    assert len(approved_mail) == 1 and len(rejected_mail) == 1
    assert approved["orderId"] in approved_mail[0]["Subject"] and "approved" in approved_mail[0]["Subject"]
    assert "rejected" in rejected_mail[0]["Subject"]
    assert "over budget" in text_of(rejected_mail[0])
    outcome_hooks = hooks_about(http_receiver, "kind", Kind.ORDER_OUTCOME)
    for order in (approved, rejected):
        assert len([h for h in outcome_hooks if h["order_id"] == order["orderId"]]) == 1
    rows = TrackedOrder.objects.filter(order_id__in=[approved["orderId"], rejected["orderId"]])
    assert sorted((r.outcome, r.open) for r in rows) == [("approved", False), ("rejected", False)]


def test_expiry_tells_the_requester_once(people, quiet, start_order, lambda_client, dynamodb_client, smtp_sink):
    address = requester()
    order = start_order(requestedBy=address, approvalTimeoutSeconds=5)
    assert cycle()["orders_new"] == 1  # seen pending
    execution_wait(lambda_client, order["executionArn"])
    assert order_get(dynamodb_client, quiet.table, order["orderId"])["status"] == "expired"
    for _ in range(3):
        cycle()
    mail = smtp_sink.to(address)
    assert len(mail) == 1 and "expired" in mail[0]["Subject"]
    assert TrackedOrder.objects.get(order_id=order["orderId"]).outcome == "expired"


def test_a_failed_execution_reaches_the_operators_in_one_digest(
    people, quiet, lambda_client, smtp_sink, settings, http_receiver
):
    from executions.models import Execution
    from executions.sync import functions_sync

    settings.NOTIFY_WEBHOOK_URLS = [http_receiver.url]
    # An invalid order: the workflow fails (InvalidOrderError).
    arn = order_start(lambda_client, amount=-5, requestedBy=requester())
    assert execution_wait(lambda_client, arn)["Status"] == "FAILED"
    functions_sync(function_name="OrderApproval")
    execution = wait_until(lambda: Execution.objects.filter(arn=arn, status="FAILED").first(), message="synced")
    # An imported copy of a failure is never notified.
    Execution.objects.create(
        arn="arn:imported:failed", name="imported-copy", status="FAILED", imported=True, ended_at=timezone.now()
    )

    cycle()
    rows = Notification.objects.filter(kind=Kind.EXECUTION_ATTENTION, recipient="otto@example.com")
    mine = [r for r in rows if r.context.get("execution_arn") == arn]  # (the digest row has its own context)
    assert [r.subject for r in mine] == [f"{arn}:FAILED"] and mine[0].mode == "digest"
    assert not Notification.objects.filter(subject__startswith="arn:imported:").exists()
    digests = smtp_sink.to("otto@example.com")
    assert len(digests) == 1
    assert execution.name in text_of(digests[0])
    assert f"/executions/{execution.pk}/" in text_of(digests[0])
    assert [h["kind"] for h in hooks_about(http_receiver, "execution_arn", arn)] == [Kind.EXECUTION_ATTENTION]
    for address in ("ann@example.com", "carol@example.com", "ada@example.com"):
        assert not smtp_sink.to(address)

    for _ in range(2):
        assert cycle()["created"] == 0
    assert len(smtp_sink.to("otto@example.com")) == 1


def test_many_new_orders_make_one_digest_per_approver(people, start_order, smtp_sink, settings):
    settings.NOTIFY_BATCH_SIZE = 2
    orders = [start_order(requestedBy=requester()) for _ in range(3)]
    cycle()
    for address in ("ann@example.com", "carol@example.com"):
        mail = smtp_sink.to(address)
        assert len(mail) == 1, [m["Subject"] for m in mail]
        assert "3 new orders" in mail[0]["Subject"]
        assert all(o["orderId"] in text_of(mail[0]) for o in orders)
    assert not Notification.objects.filter(kind=Kind.ORDER_PENDING, channel="email").exists()


def test_after_a_digest_further_new_orders_within_the_window_are_gathered_into_one_digest(
    people, start_order, smtp_sink, settings
):
    settings.NOTIFY_BATCH_SIZE = 2
    settings.NOTIFY_BATCH_SECONDS = 600
    for _ in range(3):
        start_order(requestedBy=requester())
    cycle()
    assert [m["Subject"] for m in smtp_sink.to("ann@example.com")] == ["Approval needed: 3 new orders"]
    later = []
    for _ in range(2):  # one new order per check: neither a one-order email nor a one-order digest each
        later.append(start_order(requestedBy=requester()))
        cycle()
    assert len(smtp_sink.to("ann@example.com")) == 1
    waiting = Notification.objects.get(kind=Kind.ORDER_DIGEST, recipient="ann@example.com", status=Status.PENDING)
    assert waiting.context["count"] == 2

    notifications_deliver(now=timezone.now() + timedelta(seconds=601))  # the window of the first digest is over
    mail = smtp_sink.to("ann@example.com")
    assert len(mail) == 2 and mail[1]["Subject"] == "Approval needed: 2 new orders"
    assert all(order["orderId"] in text_of(mail[1]) for order in later)
    assert not Notification.objects.filter(kind=Kind.ORDER_PENDING, channel="email").exists()


def test_preferences_turned_off_are_honoured(people, start_order, django_user_model, smtp_sink):
    rita = django_user_model.objects.create_user(username="rita", email=requester())
    preference_set(user=rita, kind=Kind.ORDER_OUTCOME, enabled=False)
    preference_set(user=people["ann"], kind=Kind.ORDER_PENDING, enabled=False)
    order = start_order(requestedBy=rita.email)
    cycle()
    assert [m["To"] for m in about(smtp_sink.wait_for(1), order["orderId"])] == ["carol@example.com"]
    assert order_decide(order_id=order["orderId"], user=people["carol"], approve=False, comment="no").delivered
    cycle()
    cycle()
    assert not smtp_sink.to(rita.email)
    assert not Notification.objects.filter(kind=Kind.ORDER_OUTCOME, context__order_id=order["orderId"]).exists()
    assert TrackedOrder.objects.get(order_id=order["orderId"]).outcome == "rejected"


@pytest.fixture
def own_table(quiet, settings, dynamodb_client):
    """An orders table of this test's own, holding synthetic pending orders written as the workflow writes them."""
    from approvals.orders_schema import orders_table_create
    from core.aws import aws_clients_reset

    settings.ORDERS_TABLE = "Orders-" + uuid.uuid4().hex[:10]
    aws_clients_reset()
    orders_table_create()

    def put(count: int) -> None:
        created = timezone.now() - timedelta(minutes=1)
        stamp = created.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        deadline = (created + timedelta(hours=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        items = []
        for _ in range(count):
            order_id = str(uuid.uuid4())
            items.append(
                {
                    "orderId": {"S": order_id},
                    "customerName": {"S": "Contoso"},
                    "amount": {"N": "100.00"},
                    "items": {"L": [{"M": {"sku": {"S": "SKU-1"}, "quantity": {"N": "1"}}}]},
                    "requestedBy": {"S": "req@example.com"},
                    "status": {"S": "pending_approval"},
                    "createdAt": {"S": stamp},
                    "executionArn": {"S": f"arn:test:{order_id}"},
                    "callbackId": {"S": "cb-" + order_id},
                    "approvalDeadline": {"S": deadline},
                    "approvalTimeoutSeconds": {"N": "3600"},
                }
            )
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            dynamodb_client.batch_write_item(RequestItems={settings.ORDERS_TABLE: batch})

    yield put
    dynamodb_client.delete_table(TableName=settings.ORDERS_TABLE)


def test_a_check_costs_the_same_queries_for_3_or_60_pending_orders_and_calls_no_lambda_api(people, own_table, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.aws import aws_clients_reset

    settings.NOTIFY_WEBHOOK_URLS = ["http://127.0.0.1:9/hook"]
    settings.LAMBDA_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens: a Lambda call would fail the check
    aws_clients_reset()
    steady = {}
    for count in (3, 60):
        own_table(count if count == 3 else count - 3)
        notifications_check()
        with CaptureQueriesContext(connection) as queries:
            assert notifications_check()["created"] == 0
        steady[count] = len(queries)
        assert TrackedOrder.objects.filter(open=True).count() == count
    assert steady[3] == steady[60] > 0
    # Half the window later: 60 reminders due, one existence query and bulk inserts.
    later = timezone.now() + timedelta(minutes=31)
    with CaptureQueriesContext(connection) as queries:
        assert notifications_check(now=later)["order_reminder"] == 60 * 2
    assert len(queries) <= steady[60] + 12


def test_a_second_check_while_one_runs_does_nothing(quiet):
    from core.locks import cache_lock
    from notifications.scheduler import CHECK_LOCK

    with cache_lock(CHECK_LOCK, ttl=60) as held:
        assert held
        assert notifications_check() == {"skipped": 1}
    assert "skipped" not in notifications_check()


def test_dynamodb_down_still_tells_the_operators_and_decides_nothing(people, start_order, settings, smtp_sink):
    from core.aws import aws_clients_reset
    from executions.models import Execution

    order = start_order(requestedBy=requester())
    cycle()
    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens
    aws_clients_reset()
    failed = Execution.objects.create(
        arn="arn:test:failed-while-dynamodb-down", name="down", status="FAILED", ended_at=timezone.now()
    )
    found = cycle()
    assert found["orders_pending"] == 0 and found["orders_closed"] == 0
    assert TrackedOrder.objects.get(order_id=order["orderId"]).open
    assert Notification.objects.filter(subject=f"{failed.arn}:FAILED", recipient="otto@example.com").exists()
    assert len(smtp_sink.to("otto@example.com")) == 1


def test_an_order_decided_before_any_check_saw_it_still_tells_its_requester_once(people, start_order, smtp_sink):
    # Decided within one check interval of getting its callback: never tracked, found by the outcome lookback.
    address = requester()
    order = start_order(requestedBy=address)
    assert order_decide(order_id=order["orderId"], user=people["ann"], approve=False, comment="too dear").delivered
    cycle()
    assert not TrackedOrder.objects.filter(order_id=order["orderId"]).exists()
    mail = smtp_sink.to(address)
    assert len(mail) == 1 and "rejected" in mail[0]["Subject"] and "too dear" in text_of(mail[0])
    for _ in range(2):
        cycle()
    assert len(smtp_sink.to(address)) == 1
    assert Notification.objects.filter(kind=Kind.ORDER_OUTCOME, subject=order["orderId"]).count() == 1


@pytest.fixture
def throttled_get_item():
    """The check's bounded GetItem answers ProvisionedThroughputExceededException (botocore Stubber: DynamoDB Local
    never throttles); yields the order ids GetItem was called for. Queries go to DynamoDB Local as usual."""
    from contextlib import contextmanager

    from botocore.stub import Stubber

    from core.aws import aws_client, aws_interactive

    @contextmanager
    def throttled():
        with aws_interactive():
            client = aws_client("dynamodb")  # the client the check's order reads use
        assert client.meta.config.retries["total_max_attempts"] == 1 and client.meta.config.read_timeout <= 5
        calls = []

        def count(params, **kwargs):
            calls.append(params["Key"]["orderId"]["S"])

        client.meta.events.register("before-parameter-build.dynamodb.GetItem", count)
        stubber = Stubber(client)
        stubber.add_client_error("get_item", "ProvisionedThroughputExceededException", http_status_code=400)
        try:
            with stubber:
                yield calls
        finally:
            client.meta.events.unregister("before-parameter-build.dynamodb.GetItem", count)

    return throttled


def test_a_throttled_order_read_ends_the_checks_reads_and_announcements_use_the_summary(
    people, start_order, smtp_sink, settings, throttled_get_item
):
    settings.NOTIFY_OUTCOME_LOOKBACK_HOURS = 0  # decided orders are read one by one (GetItem), not found by a Query
    first, second = start_order(requestedBy=requester()), start_order(requestedBy=requester())
    ids = {first["orderId"], second["orderId"]}
    with throttled_get_item() as calls:
        found = cycle()
    assert found["orders_new"] == 2
    assert len(calls) == 1 and set(calls) <= ids  # no read after the first failure
    for order_id in ids:  # announced all the same, from the summary (the item count, not the items)
        assert sorted(m["To"] for m in about(smtp_sink.messages, order_id)) == ["ann@example.com", "carol@example.com"]
        row = Notification.objects.get(kind=Kind.ORDER_PENDING, subject=order_id, recipient="ann@example.com")
        assert (row.context["items"], row.context["items_count"]) in (([], 1), (first["items"], 1))

    for order in (first, second):
        assert order_decide(order_id=order["orderId"], user=people["ann"], approve=True, comment="ok").delivered
    with throttled_get_item() as calls:
        assert cycle()["orders_closed"] == 0  # the rows wait for the next check
    assert len(calls) == 1
    assert cycle()["orders_closed"] == 2
    for order in (first, second):
        assert len(smtp_sink.to(order["requestedBy"])) == 1


def test_an_announcement_stores_only_the_items_it_shows(people, start_order, smtp_sink):
    from notifications.messages import ITEM_LINES

    items = [{"sku": f"SKU-{n}", "description": "part", "quantity": 1, "unitPrice": 2.5} for n in range(30)]
    order = start_order(requestedBy=requester(), items=items)
    cycle()
    row = Notification.objects.get(kind=Kind.ORDER_PENDING, subject=order["orderId"], recipient="ann@example.com")
    assert len(row.context["items"]) == ITEM_LINES and row.context["items_count"] == 30
    assert "and 10 more" in text_of(about(smtp_sink.wait_for(1), order["orderId"])[0])


def test_a_throttled_outcome_query_skips_only_the_lookback(people, start_order, smtp_sink):
    # botocore Stubber: DynamoDB Local never throttles. The lookback's Query is bounded like the order reads (the
    # same one-attempt client); its failure leaves the rest of the check alone.
    from botocore.stub import Stubber

    from core.aws import aws_client, aws_interactive

    with aws_interactive():
        client = aws_client("dynamodb")
    queries = []

    def count(params, **kwargs):
        queries.append(params.get("IndexName"))

    order = start_order(requestedBy=requester())
    client.meta.events.register("before-parameter-build.dynamodb.Query", count)
    stubber = Stubber(client)
    stubber.add_client_error("query", "ProvisionedThroughputExceededException", http_status_code=400)
    try:
        with stubber:
            found = cycle()
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.Query", count)
    assert len(queries) == 1  # the first outcome status failed: no other status was queried
    assert found["orders_new"] == 1
    assert len(about(smtp_sink.wait_for(2), order["orderId"])) == 2  # ann and carol, as usual
