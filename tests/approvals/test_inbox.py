"""The inbox: GSI Query paging with a signed cursor, filters, countdown colours, escaping, badge, 503."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from approvals import orders_table
from approvals.countdown import order_countdown
from approvals.order_records import Order
from approvals.selectors import cursor_decode, cursor_encode
from core.aws import aws_clients_reset
from tests.approvals.conftest import order_item

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)


def _ids(response) -> list[str]:
    return [row.order.order_id for row in response.context["page"].rows]


def test_pagination_walks_every_pending_order_oldest_first(approver_client, private_table, settings):
    settings.APPROVALS_PAGE_SIZE = 7
    items = [order_item(created=NOW - timedelta(minutes=60 - i), order_id=f"o-{i:03d}") for i in range(17)]
    items += [order_item(created=NOW - timedelta(minutes=90), status="approved", order_id="done-1")]
    private_table(items)

    seen, url, pages = [], reverse("approvals:inbox"), 0
    while url:
        response = approver_client.get(url)
        assert response.status_code == 200
        seen += _ids(response)
        pages += 1
        cursor = response.context["page"].next_cursor
        url = f"{reverse('approvals:inbox')}?cursor={cursor}" if cursor else None
    assert pages == 3
    assert seen == [f"o-{i:03d}" for i in range(17)]  # oldest first, nothing twice, nothing decided


def test_first_page_shows_page_size_and_next_link(approver_client, private_table, settings):
    settings.APPROVALS_PAGE_SIZE = 5
    private_table([order_item(created=NOW - timedelta(minutes=i)) for i in range(6)])
    response = approver_client.get(reverse("approvals:inbox"))
    assert len(_ids(response)) == 5
    assert 'rel="next"' in response.content.decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "eyJvIjoieCIsImMiOiJ5In0:1vU7Qo:forged-signature",
        cursor_encode({"orderId": "x", "createdAt": "y"})[:-3] + "abc",
        "x" * 5000,
    ],
)
def test_forged_cursor_is_a_clear_400(approver_client, private_table, cursor):
    response = approver_client.get(reverse("approvals:inbox"), {"cursor": cursor})
    assert response.status_code == 400
    assert "This page link is not valid" in response.content.decode()


def test_cursor_round_trip_and_shape_check():
    key = {"orderId": "abc", "status": "pending_approval", "createdAt": "2026-01-01T00:00:00.000Z"}
    assert cursor_decode(cursor_encode(key)) == key
    from django.core import signing

    from approvals.selectors import _CURSOR_SALT, InvalidCursor

    with pytest.raises(InvalidCursor):  # validly signed but not a cursor
        cursor_decode(signing.dumps(["not", "a", "dict"], salt=_CURSOR_SALT))


def test_inbox_reads_with_a_query_never_a_scan(approver_client, private_table, dynamodb_client, settings):
    """The page is a Query on the status index: its consumed capacity does not grow with decided orders."""
    private_table([order_item(created=NOW - timedelta(minutes=i)) for i in range(3)])
    small = orders_table.orders_page(limit=50).consumed_capacity
    private_table([order_item(created=NOW - timedelta(hours=2), status="approved") for _ in range(300)])
    large = orders_table.orders_page(limit=50).consumed_capacity
    assert small == large > 0


def _order(**fields) -> Order:
    defaults = dict(
        order_id="o",
        status="pending_approval",
        customer_name="c",
        amount=None,
        items=[],
        requested_by="r",
        created_at=NOW - timedelta(seconds=1000),
        created_at_raw="",
        execution_arn="",
        approval_deadline=None,
        approval_timeout_seconds=1000,
        has_callback=True,
        claimed_by="",
        claimed_at=None,
        claim_decision="",
        decided_by="",
        decided_at=None,
        decision_comment="",
        attributes={},
    )
    return Order(**{**defaults, **fields})


@pytest.mark.parametrize(
    ("seconds_left", "state"),
    [
        (900, "ok"),
        (260, "ok"),
        (240, "amber"),
        (101, "amber"),
        (99, "red"),
        (1, "red"),
        (0, "expired"),
        (-50, "expired"),
    ],
)
def test_countdown_colours(seconds_left, state):
    order = _order(approval_deadline=NOW + timedelta(seconds=seconds_left))
    assert order_countdown(order, now=NOW).state == state


def test_countdown_without_deadline_is_unknown():
    assert order_countdown(_order(), now=NOW).state == "unknown"


def test_filter_by_customer_or_requester_and_sort(approver_client, private_table):
    private_table(
        [
            order_item(
                created=NOW - timedelta(minutes=30),
                customer="Acme",
                amount="10.00",
                requested_by="zoe",
                order_id="a",
                timeout=7200,
            ),
            order_item(
                created=NOW - timedelta(minutes=20),
                customer="Globex",
                amount="900.00",
                requested_by="ann",
                order_id="b",
                timeout=1500,
            ),
            order_item(
                created=NOW - timedelta(minutes=10),
                customer="Initech",
                amount="55.50",
                requested_by="acme-bot",
                order_id="c",
                timeout=3600,
            ),
        ]
    )
    inbox = reverse("approvals:inbox")
    assert _ids(approver_client.get(inbox)) == ["a", "b", "c"]
    assert _ids(approver_client.get(inbox, {"q": "ACME"})) == ["a", "c"]  # customer or requester
    assert _ids(approver_client.get(inbox, {"q": "ann"})) == ["b"]
    assert _ids(approver_client.get(inbox, {"sort": "amount"})) == ["b", "c", "a"]
    assert _ids(approver_client.get(inbox, {"sort": "amount_asc"})) == ["a", "c", "b"]
    assert _ids(approver_client.get(inbox, {"sort": "deadline"})) == ["b", "c", "a"]
    empty = approver_client.get(inbox, {"q": "nobody"})
    assert "No pending order matches these filters" in empty.content.decode()


def test_columns_countdown_and_own_orders(client, approver, private_table):
    approver.email = "approver@example.com"
    approver.save()
    private_table(
        [
            order_item(created=NOW - timedelta(seconds=3500), timeout=3600, order_id="red-one"),
            order_item(created=NOW - timedelta(seconds=3000), timeout=3600, order_id="amber-one"),
            order_item(created=NOW - timedelta(seconds=4000), timeout=3600, order_id="gone-one"),
            order_item(
                created=NOW - timedelta(seconds=60), timeout=3600, order_id="mine", requested_by="APPROVER@example.com"
            ),
        ]
    )
    client.force_login(approver)
    body = client.get(reverse("approvals:inbox")).content.decode()
    for header in ("Order", "Customer · items", "Amount", "Requested by", "Age", "Time left"):
        assert f"<th>{header}</th>" in body or f'<th class="num">{header}</th>' in body
    assert 'id="order-red-one" class="inbox-row deadline-red"' in body
    assert 'id="order-amber-one" class="inbox-row deadline-amber"' in body
    assert 'id="order-gone-one" class="inbox-row deadline-expired"' in body
    assert "Window over" in body
    mine = body.split('id="order-mine"')[1].split("</tr>")[0]
    assert "needs another approver" in mine and "Confirm approval" not in mine


def test_html_in_customer_name_and_comment_is_escaped(approver_client, pending_order, lambda_client):
    from tests.orders import execution_wait

    script = "<script>alert('x')</script>"
    order = pending_order(customerName=f"Evil {script} Corp")
    inbox = approver_client.get(reverse("approvals:inbox")).content.decode()
    assert script not in inbox and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in inbox
    approver_client.post(reverse("approvals:reject", args=[order["orderId"]]), {"reason": f"no {script}"})
    execution_wait(lambda_client, order["executionArn"])
    for url in (reverse("approvals:order", args=[order["orderId"]]), reverse("approvals:decisions")):
        body = approver_client.get(url).content.decode()
        assert script not in body
        assert "&lt;script&gt;" in body


def test_badge_counts_pending_and_keeps_polling(approver_client, private_table):
    private_table([order_item(created=NOW - timedelta(minutes=i)) for i in range(4)])
    body = approver_client.get(reverse("approvals:badge")).content.decode()
    assert body.startswith('<span id="pending-badge" class="badge"') and ">4</span>" in body
    assert 'hx-get="/approvals/badge"' in body and "every 10s" in body and "load" not in body


def test_badge_zero_and_anonymous(client, approver, private_table):
    assert client.get(reverse("approvals:badge")).content.decode().endswith("></span>\n")
    client.force_login(approver)
    body = client.get(reverse("approvals:badge")).content.decode()
    assert 'class="badge zero"' in body and ">0</span>" in body


def test_pending_count_selector(private_table):
    from approvals.selectors import orders_pending_count

    private_table(
        [order_item(created=NOW - timedelta(minutes=i)) for i in range(3)]
        + [order_item(created=NOW, status="rejected")]
    )
    assert orders_pending_count() == 3


@pytest.fixture
def dynamodb_down(aws, settings):
    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.AWS_MAX_ATTEMPTS = 1
    aws_clients_reset()
    yield
    aws_clients_reset()


def test_dynamodb_down_is_a_clear_503(approver_client, dynamodb_down, settings):
    response = approver_client.get(reverse("approvals:inbox"))
    assert response.status_code == 503
    body = response.content.decode()
    assert settings.ORDERS_TABLE in body and "http://127.0.0.1:9" in body
    assert "Traceback" not in body
    detail = approver_client.get("/approvals/some-order/")
    assert detail.status_code == 503
    poll = approver_client.get(reverse("approvals:inbox"), headers={"HX-Request": "true", "HX-Target": "inbox-table"})
    assert poll.status_code == 200 and "Orders table unreachable" in poll.content.decode()
    assert 'id="inbox-table"' in poll.content.decode()  # keeps polling, recovers on its own


def test_dynamodb_down_badge_and_count(approver_client, dynamodb_down):
    from approvals.selectors import orders_pending_count

    assert orders_pending_count() is None
    body = approver_client.get(reverse("approvals:badge")).content.decode()
    assert "unknown" in body and "DynamoDB is unreachable" in body


def test_htmx_poll_returns_only_the_table(approver_client, private_table):
    private_table([order_item(created=NOW)])
    headers = {"HX-Request": "true", "HX-Target": "inbox-table"}
    response = approver_client.get(reverse("approvals:inbox"), headers=headers)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="inbox-table"') and "<html" not in body


def test_order_detail_shows_every_attribute_and_execution(approver_client, pending_order):
    from executions.models import Execution

    order = pending_order()
    url = reverse("approvals:order", args=[order["orderId"]])
    body = approver_client.get(url).content.decode()
    for attribute in (
        "orderId",
        "customerName",
        "amount",
        "items",
        "requestedBy",
        "status",
        "createdAt",
        "executionArn",
        "approvalDeadline",
        "approvalTimeoutSeconds",
    ):
        assert f'<dt class="mono">{attribute}</dt>' in body
    assert "callbackId" not in body and order["callbackId"] not in body
    assert f'data-copy="{order["executionArn"]}"' in body  # not synced yet: ARN with copy button
    execution = Execution.objects.create(arn=order["executionArn"], status="RUNNING")
    body = approver_client.get(url).content.decode()
    assert f'href="/executions/{execution.pk}/"' in body


def test_operator_sees_inbox_without_buttons_and_no_role_is_403(
    operator_client, client, django_user_model, private_table
):
    private_table([order_item(created=NOW)])
    body = operator_client.get(reverse("approvals:inbox")).content.decode()
    assert "View only" in body
    nobody = django_user_model.objects.create_user(username="nobody", password="x")
    client.force_login(nobody)
    assert client.get(reverse("approvals:inbox")).status_code == 403
