"""`/search?q=`: orders (DynamoDB Local) and executions (the Django copy), one result opens it, several are grouped."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals import selectors_orders
from dashboard import search
from executions.models import Execution
from tests.approvals.conftest import order_item, private_table  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "/search"
ORDER_A = "3f2a9c1e-0000-4000-8000-00000000000a"
ORDER_B = "7b11d0c4-0000-4000-8000-00000000000b"
ORDER_C = "7b11e5aa-0000-4000-8000-00000000000c"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:OrderApproval:$LATEST/durable-execution/{name}/{run}"


@pytest.fixture
def orders(private_table):  # noqa: F811
    private_table(
        [
            order_item(created=T0, order_id=ORDER_A, customer="Northwind Traders", requested_by="carol@example.com"),
            order_item(created=T0 + timedelta(minutes=1), order_id=ORDER_B, customer="Contoso", status="approved",
                       requested_by="dave@example.com"),
            order_item(created=T0 + timedelta(minutes=2), order_id=ORDER_C, customer="Contoso Pharma",
                       status="expired", requested_by="erin@example.com"),
        ]
    )  # fmt: skip


def execution(name: str, run: str, **fields) -> Execution:
    return Execution.objects.create(
        arn=ARN.format(name=name, run=run),
        name=name,
        function_name=fields.pop("function_name", "OrderApproval"),
        status=fields.pop("status", "SUCCEEDED"),
        started_at=fields.pop("started_at", timezone.now()),
        **fields,
    )


def test_short_and_full_order_id_open_the_order(orders, approver_client):
    for query in ("3f2a9c1e", "3F2A9C1E", ORDER_A, f"  {ORDER_A.upper()} "):
        response = approver_client.get(URL, {"q": query})
        assert response.status_code == 302, query
        assert response["Location"] == reverse("approvals:order", args=[ORDER_A])


def test_customer_and_requester(orders, approver_client):
    response = approver_client.get(URL, {"q": "contoso"})  # two orders: listed, grouped, newest first
    body = response.content.decode()
    assert response.status_code == 200 and 'id="orders-heading"' in body and 'id="executions-heading"' not in body
    assert body.index(ORDER_C[:8]) < body.index(ORDER_B[:8]) and ORDER_A[:8] not in body
    response = approver_client.get(URL, {"q": "Northwind"})
    assert response.status_code == 302 and response["Location"].endswith(f"/{ORDER_A}/")
    response = approver_client.get(URL, {"q": "erin@"})
    assert response.status_code == 302 and response["Location"].endswith(f"/{ORDER_C}/")
    response = approver_client.get(URL, {"q": "@example.com"})
    assert response.status_code == 200 and all(o[:8] in response.content.decode() for o in (ORDER_A, ORDER_B, ORDER_C))


def test_execution_name_and_arn_fragment(orders, operator_client):
    one = execution("nightly-export-1", "aaaa1111")
    execution("nightly-export-2", "bbbb2222")
    response = operator_client.get(URL, {"q": "nightly-export-1"})
    assert response.status_code == 302 and response["Location"] == reverse("executions:detail", args=[one.pk])
    response = operator_client.get(URL, {"q": "aaaa1111"})  # a fragment of the ARN
    assert response.status_code == 302 and response["Location"] == reverse("executions:detail", args=[one.pk])
    response = operator_client.get(URL, {"q": one.arn})
    assert response.status_code == 302
    response = operator_client.get(URL, {"q": "nightly-export"})  # several: listed in the Executions group
    body = response.content.decode()
    assert response.status_code == 200 and 'id="executions-heading"' in body
    assert "nightly-export-1" in body and "nightly-export-2" in body and 'id="orders-heading"' not in body


def test_an_order_and_its_execution_open_the_order(orders, operator_client):
    execution("run-of-a", "cccc3333", order_id=ORDER_A, customer_name="Northwind Traders", order_outcome="")
    for query in ("3f2a9c1e", "northwind"):
        response = operator_client.get(URL, {"q": query})
        assert response.status_code == 302 and response["Location"].endswith(f"/{ORDER_A}/"), query
    response = operator_client.get(URL, {"q": "3f2a9c1e", "list": "1"})  # the grouped list on demand
    body = response.content.decode()
    assert 'id="orders-heading"' in body and 'id="executions-heading"' in body and "run-of-a" in body


def test_mixed_results_are_grouped(orders, admin_client_):
    execution("contoso-batch", "dddd4444")
    body = admin_client_.get(URL, {"q": "contoso"}).content.decode()
    assert body.index('id="orders-heading"') < body.index('id="executions-heading"')
    assert "contoso-batch" in body and ORDER_B[:8] in body and ORDER_C[:8] in body


def test_roles_see_what_they_may_read(orders, approver_client):
    from django.test import Client

    execution("only-for-operators", "eeee5555")
    body = approver_client.get(URL, {"q": "only-for-operators"}).content.decode()
    assert "Nothing matches" in body and "only-for-operators</a>" not in body and "execution</strong> name" not in body
    response = Client().get(URL, {"q": "contoso"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_older_orders_are_found_through_the_executions_copy(orders, operator_client, monkeypatch):
    monkeypatch.setattr(selectors_orders, "READ_LIMIT", 1)
    monkeypatch.setattr(search, "SEARCH_ORDER_QUERIES", 1)  # the bounded read sees the newest order only
    execution("run-of-a", "ffff6666", order_id=ORDER_A, customer_name="Northwind Traders")
    response = operator_client.get(URL, {"q": "northwind"})
    assert response.status_code == 302 and response["Location"].endswith(f"/{ORDER_A}/")


def test_bad_input_is_clear_and_never_500(orders, operator_client):
    response = operator_client.get(URL)
    assert response.status_code == 200 and "Nothing matches" not in response.content.decode()
    response = operator_client.get(URL, {"q": "   "})
    assert response.status_code == 200
    response = operator_client.get(URL, {"q": "x" * 1000})
    body = response.content.decode()
    assert response.status_code == 400 and "at most 200 characters (this one has 1000)" in body
    for odd in ("%", "_", "'; DROP TABLE x;--", "<script>alert(1)</script>", "\x00\x01abc", "Ω≈ç√ 🙂", "\\", "*?[]"):
        response = operator_client.get(URL, {"q": odd})
        assert response.status_code == 200, odd
        body = response.content.decode()
        assert "Nothing matches" in body and "<script>alert(1)</script>" not in body
        assert "an <strong>order id</strong>" in body  # what can be searched


def test_orders_table_down_still_lists_executions(orders, operator_client, monkeypatch):
    from approvals import orders_table

    def down(**kwargs):
        raise orders_table.OrdersTableUnavailable("connection refused")

    execution("contoso-batch", "gggg7777")
    monkeypatch.setattr(orders_table, "orders_index_page", down)
    monkeypatch.setattr(orders_table, "order_get", down)
    response = operator_client.get(URL, {"q": "contoso"})
    body = response.content.decode()
    assert response.status_code == 200 and "Orders could not be searched" in body and "contoso-batch" in body


def test_the_slashed_url_redirects_and_queries_are_bounded(orders, operator_client, django_assert_max_num_queries):
    for n in range(30):
        execution(f"bulk-{n}", f"hhhh{n:04d}", order_id=f"{n:08x}-1111-4000-8000-000000000000", customer_name="Bulk")
    with django_assert_max_num_queries(12):
        response = operator_client.get(URL, {"q": "bulk-"})
    body = response.content.decode()
    assert response.status_code == 200 and len(re.findall(r'href="/executions/\d+/"', body)) == search.GROUP_SIZE
    assert "All matching executions" in body
    moved = operator_client.get("/search/", {"q": "x"})
    assert (moved.status_code, moved["Location"]) == (301, "/search?q=x")
