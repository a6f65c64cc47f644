"""Delivery through a real SMTP server and a real HTTP server: content, signature, retries, claims and digests."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from devstack.services import free_port
from notifications.delivery import (
    Draft,
    dedupe_key,
    notification_claim,
    notifications_create,
    notifications_deliver,
)
from notifications.models import Channel, Kind, Mode, Notification, Status, TrackedOrder
from notifications.preferences import preference_set, unsubscribe_read

pytestmark = pytest.mark.django_db

SECRET = "webhook-secret-for-tests"
CALLBACK_ID = "cb-SECRET-0123456789abcdef"


@pytest.fixture(autouse=True)
def notify_settings(settings):
    settings.CONSOLE_BASE_URL = "https://console.example.test"
    settings.NOTIFY_FROM = "durable-console@example.test"
    settings.NOTIFY_WEBHOOK_SECRET = SECRET
    settings.NOTIFY_MAX_ATTEMPTS = 5
    settings.NOTIFY_RETRY_BASE_SECONDS = 30
    settings.NOTIFY_DIGEST_MINUTES = 15
    settings.NOTIFY_CLAIM_LEASE_SECONDS = 120
    return settings


def order_context(order_id="o-1001", **extra) -> dict:
    deadline = (timezone.now() + timedelta(hours=20)).isoformat()
    return {
        "order_id": order_id,
        "customer": "Acme <script>alert(1)</script> & Sons",
        "amount": "1234.5",
        "items": [{"sku": "SKU-1", "description": "Widget <b>bold</b>", "quantity": 3, "unitPrice": "10"}],
        "items_count": 1,
        "requested_by": "requester@example.com",
        "deadline": deadline,
        **extra,
    }


def execution_context(pk=7, name="exec-1", status="RUNNING", reasons=("waiting for a callback past its deadline",)):
    return {
        "execution_pk": pk,
        "execution_arn": f"arn:aws:lambda:us-east-1:123456789012:function:OrderApproval/durable-execution/{name}/x",
        "name": name,
        "function": "OrderApproval",
        "status": status,
        "reasons": list(reasons),
    }


def draft(kind=Kind.ORDER_PENDING, subject="o-1001", recipient="approver@example.com", channel=Channel.EMAIL, **kw):
    return Draft(
        kind=kind,
        subject=subject,
        recipient=recipient,
        channel=channel,
        user_id=kw.get("user_id"),
        mode=kw.get("mode", Mode.IMMEDIATE),
        context=kw.get("context", order_context(subject)),
    )


def parts(message) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


# --- creating rows ---------------------------------------------------------------------------------------


def test_dedupe_key_is_sha256_of_the_four_and_a_draft_is_one_row():
    key = dedupe_key("order_pending", "o-1", "a@example.com", "email")
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert key != dedupe_key("order_pending", "o-1", "a@example.com", "webhook")
    assert notifications_create(drafts=[draft(), draft()]) == 1
    assert notifications_create(drafts=[draft(), draft(subject="o-1002")]) == 1
    assert Notification.objects.count() == 2


# --- email --------------------------------------------------------------------------------------------------


def test_email_has_text_and_html_parts_the_link_escaped_html_an_unsubscribe_link_and_no_callback_id(
    smtp_sink, approver
):
    approver.email = "approver@example.com"
    approver.save()
    context = order_context(callback_id=CALLBACK_ID)  # even if a context carried one, no message shows it
    notifications_create(drafts=[draft(user_id=approver.pk, context=context)])

    counts = notifications_deliver()

    assert counts["sent"] == 1
    (message,) = smtp_sink.wait_for(1)
    assert smtp_sink.to("approver@example.com")
    assert message["From"] == "durable-console@example.test"
    assert message["Subject"].startswith("Approval needed: order o-1001")
    row = Notification.objects.get()
    assert message["Message-ID"] == f"<{row.dedupe_key[:32]}@example.test>"
    assert row.status == Status.SENT and row.attempts == 1 and row.sent_at and row.error == ""

    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    text, html = body["text/plain"], body["text/html"]
    link = "https://console.example.test/approvals/o-1001/"
    assert link in text and f'href="{link}"' in html
    assert "Acme <script>alert(1)</script> & Sons" in text  # the text part is plain text
    assert "Acme &lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons" in html
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "requester@example.com" in text and "SKU-1" in text and "1,234.50" in text
    raw = message.as_string()
    assert CALLBACK_ID not in raw and "callback_id" not in raw

    header = message["List-Unsubscribe"].strip()  # long: folded onto a second line
    unsubscribe = re.fullmatch(r"<(https://console\.example\.test/account/notifications/unsubscribe/([^/]+)/)>", header)
    assert unsubscribe, header
    assert unsubscribe.group(1) in text and unsubscribe.group(1) in html
    assert unsubscribe_read(unsubscribe.group(2)) == (approver.pk, Kind.ORDER_PENDING, Channel.EMAIL)
    with pytest.raises(signing.BadSignature):
        unsubscribe_read(unsubscribe.group(2)[:-2] + "xx")


@pytest.mark.parametrize(
    ("kind", "context", "expected"),
    [
        (Kind.ORDER_REMINDER, order_context(fraction=0.5), "50% of its approval window has passed"),
        (Kind.ORDER_ESCALATION, order_context(fraction=0.9), "No approver has decided after 90%"),
        (Kind.ORDER_OUTCOME, order_context(outcome="rejected", reason="Over <budget>"), "Reason: Over <budget>"),
        (Kind.ORDER_DIGEST, {"orders": [order_context("o-1"), order_context("o-2")], "count": 2}, "2 new orders"),
        (Kind.EXECUTION_ATTENTION, execution_context(status="FAILED", reasons=["FAILED"]), "Execution exec-1 failed"),
    ],
)
def test_every_kind_renders_text_and_html(smtp_sink, kind, context, expected):
    notifications_create(drafts=[draft(kind=kind, context=context)])
    assert notifications_deliver()["sent"] == 1
    (message,) = smtp_sink.wait_for(1)
    body = parts(message)
    assert expected in body["text/plain"]
    assert "<html" in body["text/html"] and "None" not in body["text/plain"]
    assert "List-Unsubscribe" not in message  # no user behind the address: nothing to unsubscribe from
    if kind == Kind.EXECUTION_ATTENTION:
        assert "https://console.example.test/executions/7/" in body["text/plain"]
    if kind == Kind.ORDER_OUTCOME:
        assert "Over &lt;budget&gt;" in body["text/html"]


# --- webhooks ------------------------------------------------------------------------------------------------


def test_webhook_body_fields_and_a_signature_that_verifies(http_receiver):
    context = order_context(fraction=0.5, callback_id=CALLBACK_ID)
    notifications_create(
        drafts=[draft(kind=Kind.ORDER_REMINDER, recipient=http_receiver.url, channel="webhook", context=context)]
    )

    assert notifications_deliver()["sent"] == 1

    (request,) = http_receiver.wait_for(1)
    assert request.method == "POST" and request.path == "/hook"
    assert request.headers["content-type"].startswith("application/json")
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["x-durable-console-signature"], expected)
    body = json.loads(request.body)
    row = Notification.objects.get()
    assert body["id"] == row.dedupe_key == request.headers["x-durable-console-delivery"]
    assert body["kind"] == "order_reminder"
    assert body["order_id"] == "o-1001"
    assert body["url"] == "https://console.example.test/approvals/o-1001/"
    assert body["deadline"] == context["deadline"]
    assert body["reason"] == "50% of the approval window has passed"
    assert body["subject"].startswith("Reminder: order o-1001")
    assert body["text"].startswith("Reminder: order o-1001") and body["url"] in body["text"]
    assert CALLBACK_ID.encode() not in request.body and SECRET.encode() not in request.body


def test_webhook_execution_fields(http_receiver):
    context = execution_context()
    notifications_create(
        drafts=[
            draft(
                kind=Kind.EXECUTION_ATTENTION,
                subject="x",
                recipient=http_receiver.url,
                channel="webhook",
                context=context,
            )
        ]
    )
    notifications_deliver()
    body = json.loads(http_receiver.wait_for(1)[0].body)
    assert body["execution_arn"] == context["execution_arn"]
    assert body["reason"] == "waiting for a callback past its deadline"
    assert body["url"] == "https://console.example.test/executions/7/"


def test_webhook_text_escapes_slack_formatting_and_the_fields_stay_raw(http_receiver):
    customer = "<!channel> <https://evil|Approve here> & co"
    context = order_context(customer=customer)
    notifications_create(drafts=[draft(recipient=http_receiver.url, channel="webhook", context=context)])
    assert notifications_deliver()["sent"] == 1

    body = json.loads(http_receiver.wait_for(1)[0].body)
    # Slack reads <...> in `text` as a mention or a link and &...; as an entity: the name is shown as written.
    assert "<" not in body["text"] and ">" not in body["text"]
    assert "&lt;!channel&gt; &lt;https://evil|Approve here&gt; &amp; co" in body["text"]
    assert "https://console.example.test/approvals/o-1001/" in body["text"]  # the link itself still works
    assert customer in body["subject"]  # structured fields: raw text (JSON escapes what it must)


def test_webhook_answering_500_is_retried_with_backoff_then_sent(http_receiver):
    http_receiver.fail_first = 1
    notifications_create(drafts=[draft(recipient=http_receiver.url, channel="webhook")])
    start = timezone.now()

    assert notifications_deliver(now=start)["retry"] == 1
    row = Notification.objects.get()
    assert row.status == Status.PENDING and row.attempts == 1
    assert "HTTP 500" in row.error and http_receiver.url not in row.error
    wait = (row.next_attempt_at - start).total_seconds()
    assert 30 <= wait <= 30 * 1.25

    assert notifications_deliver(now=start + timedelta(seconds=10))["sent"] == 0  # not due yet
    assert notifications_deliver(now=row.next_attempt_at)["sent"] == 1
    first, second = http_receiver.wait_for(2)
    assert first.body == second.body  # the same notification, recognisable by its id
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 2 and row.error == ""
    assert notifications_deliver(now=row.next_attempt_at + timedelta(hours=1)) == dict.fromkeys(
        ("sent", "retry", "failed", "skipped", "digests", "digested", "abandoned"), 0
    )
    assert len(http_receiver.requests) == 2


# --- failure, claims --------------------------------------------------------------------------------------------


def test_smtp_down_is_retried_with_backoff_then_failed_with_its_error(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    settings.EMAIL_HOST_PASSWORD = "smtp-password-never-shown"
    settings.NOTIFY_MAX_ATTEMPTS = 4
    notifications_create(drafts=[draft()])
    now = timezone.now()
    waits = []
    for attempt in range(1, 5):
        counts = notifications_deliver(now=now)
        row = Notification.objects.get()
        assert row.attempts == attempt
        if attempt < 4:
            assert counts["retry"] == 1 and row.status == Status.PENDING
            waits.append((row.next_attempt_at - now).total_seconds())
            assert notifications_deliver(now=now)["retry"] == 0  # not due again before its backoff
            now = row.next_attempt_at
        else:
            assert counts["failed"] == 1
    for index, wait in enumerate(waits):
        assert 30 * 2**index <= wait <= 30 * 2**index * 1.25, waits
    assert row.status == Status.FAILED
    assert "ConnectionRefusedError" in row.error and len(row.error) <= 500
    assert "smtp-password-never-shown" not in row.error
    assert notifications_deliver(now=now + timedelta(days=1))["failed"] == 0  # failed stays failed
    assert Notification.objects.filter(status=Status.FAILED).count() == 1


def test_a_claimed_row_is_not_claimed_twice_and_is_sent_by_the_next_run_after_its_lease(smtp_sink):
    notifications_create(drafts=[draft()])
    now = timezone.now()
    row = Notification.objects.get()
    claimed = notification_claim(pk=row.pk, now=now)  # a worker claims it, then dies before sending
    assert claimed is not None and claimed.status == Status.SENDING
    assert notification_claim(pk=row.pk, now=now) is None
    assert notifications_deliver(now=now + timedelta(seconds=119))["sent"] == 0
    assert smtp_sink.messages == []

    assert notifications_deliver(now=now + timedelta(seconds=121))["sent"] == 1
    (message,) = smtp_sink.wait_for(1)
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 2
    assert message["Message-ID"] == f"<{row.dedupe_key[:32]}@example.test>"


def test_the_last_attempt_left_sending_past_its_lease_is_failed_not_resent(smtp_sink, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    notifications_create(drafts=[draft()])
    now = timezone.now()
    assert notification_claim(pk=Notification.objects.get().pk, now=now)
    assert notifications_deliver(now=now + timedelta(seconds=121))["abandoned"] == 1
    row = Notification.objects.get()
    assert row.status == Status.FAILED and "unknown" in row.error
    assert smtp_sink.messages == []


def test_an_order_decided_before_sending_is_skipped(smtp_sink):
    notifications_create(
        drafts=[
            draft(kind=Kind.ORDER_REMINDER, subject="o-1@0.5", context=order_context("o-1", fraction=0.5)),
            draft(kind=Kind.ORDER_REMINDER, subject="o-2@0.5", context=order_context("o-2", fraction=0.5)),
            draft(
                kind=Kind.ORDER_ESCALATION, subject="o-3", context=order_context("o-3", deadline="2001-01-01T00:00Z")
            ),
        ]
    )
    TrackedOrder.objects.create(order_id="o-1", open=False, outcome="approved")
    TrackedOrder.objects.create(order_id="o-2", open=True)

    counts = notifications_deliver()

    assert counts["sent"] == 1 and counts["skipped"] == 2
    (message,) = smtp_sink.wait_for(1)
    assert "o-2" in message["Subject"]
    skipped = Notification.objects.filter(status=Status.SKIPPED)
    assert {n.subject for n in skipped} == {"o-1@0.5", "o-3"}


def test_a_kind_turned_off_after_the_row_was_written_is_skipped(smtp_sink, approver):
    notifications_create(drafts=[draft(user_id=approver.pk)])
    preference_set(user=approver, kind=Kind.ORDER_PENDING, enabled=False)
    assert notifications_deliver()["skipped"] == 1
    assert smtp_sink.messages == []


# --- digests -------------------------------------------------------------------------------------------------------


def operator_draft(name: str, pk: int, user_id=None) -> Draft:
    return Draft(
        kind=Kind.EXECUTION_ATTENTION,
        subject=f"{name}:stuck",
        recipient="operator@example.com",
        channel=Channel.EMAIL,
        user_id=user_id,
        mode=Mode.DIGEST,
        context=execution_context(pk=pk, name=name),
    )


def test_digest_rows_make_one_email_listing_them_all_and_none_within_the_digest_period(smtp_sink, operator):
    now = timezone.now()
    notifications_create(drafts=[operator_draft(f"exec-{i}", i, operator.pk) for i in range(1, 4)])

    counts = notifications_deliver(now=now)

    assert counts["digests"] == 1 and counts["digested"] == 3 and counts["sent"] == 1
    (message,) = smtp_sink.wait_for(1)
    assert message["Subject"] == "Digest: 3 executions need attention"
    text = parts(message)["text/plain"]
    for i in range(1, 4):
        assert f"Execution exec-{i} needs attention" in text
        assert f"https://console.example.test/executions/{i}/" in text
    digest = Notification.objects.get(subject__startswith="digest:")
    assert digest.kind == Kind.EXECUTION_ATTENTION and digest.status == Status.SENT
    assert digest.subject.startswith("digest:operator@example.com:")
    items = Notification.objects.filter(mode=Mode.DIGEST)
    assert {(i.status, i.digest_id) for i in items} == {(Status.DIGESTED, digest.pk)}
    assert all(i.sent_at == now for i in items)
    assert "List-Unsubscribe" in message

    # Something new 5 minutes later waits for the digest period; the one after lists only it.
    notifications_create(drafts=[operator_draft("exec-4", 4, operator.pk)])
    assert notifications_deliver(now=now + timedelta(minutes=5))["digests"] == 0
    assert notifications_deliver(now=now + timedelta(minutes=14, seconds=59))["digests"] == 0
    assert len(smtp_sink.messages) == 1
    counts = notifications_deliver(now=now + timedelta(minutes=15))
    assert counts["digests"] == 1 and counts["digested"] == 1
    second = smtp_sink.wait_for(2)[1]
    assert second["Subject"] == "Digest: 1 execution needs attention"
    assert "exec-4" in parts(second)["text/plain"] and "exec-1" not in parts(second)["text/plain"]


def test_digests_do_not_mix_kinds(smtp_sink, operator):
    reminder = Draft(
        kind=Kind.ORDER_REMINDER,
        subject="o-7@0.5",
        recipient="operator@example.com",
        channel=Channel.EMAIL,
        user_id=operator.pk,
        mode=Mode.DIGEST,
        context=order_context("o-7", fraction=0.5),
    )
    notifications_create(drafts=[operator_draft("exec-1", 1, operator.pk), reminder])
    assert notifications_deliver()["digests"] == 2
    subjects = sorted(m["Subject"] for m in smtp_sink.wait_for(2))
    assert subjects == ["Digest: 1 execution needs attention", "Digest: 1 notification (reminder: order still pending)"]
    digests = Notification.objects.filter(subject__startswith="digest:")
    assert {(d.kind, d.items.get().kind) for d in digests} == {
        (Kind.EXECUTION_ATTENTION, Kind.EXECUTION_ATTENTION),
        (Kind.ORDER_REMINDER, Kind.ORDER_REMINDER),
    }


def test_digest_built_twice_in_one_period_is_one_row(smtp_sink):
    now = timezone.now()
    notifications_create(drafts=[operator_draft("exec-1", 1)])
    from notifications.delivery import digests_build

    assert digests_build(now=now) == (1, 1)
    notifications_create(drafts=[operator_draft("exec-2", 2)])
    assert digests_build(now=now) == (0, 0)  # within the period: waits
    assert Notification.objects.filter(subject__startswith="digest:").count() == 1


# --- tasks -----------------------------------------------------------------------------------------------------------


def test_the_tasks_are_registered_with_time_limits_and_deliver(smtp_sink):
    from dashboard.celery import app
    from notifications import tasks

    assert {"notifications.check", "notifications.deliver"} <= set(app.tasks)
    assert tasks.deliver.soft_time_limit < tasks.deliver.time_limit
    assert tasks.check.soft_time_limit < tasks.check.time_limit
    notifications_create(drafts=[draft()])
    assert tasks.deliver.apply().get()["sent"] == 1
    smtp_sink.wait_for(1)
