"""All orders (/approvals/orders/): every status, server-side filters, signed cursor pages; short order ids."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from approvals import selectors_orders
from tests.approvals.conftest import order_item

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "/approvals/orders/"


def _ids(response) -> list[str]:
    return re.findall(r'href="/approvals/([0-9a-zA-Z-]{20,})/" title', response.content.decode())


@pytest.fixture
def mixed(private_table):
    """Nine orders in four statuses, one an hour apart (index 0 oldest)."""
    statuses = ["pending_approval", "approved", "rejected", "expired"]
    items = [
        order_item(
            created=T0 + timedelta(hours=n),
            order_id=f"{n:08x}-aaaa-4000-8000-{n:012x}",
            status=statuses[n % 4],
            customer=["Northwind Traders", "Contoso", "Fabrikam"][n % 3],
            requested_by=["carol@example.com", "dave@example.com"][n % 2],
            amount=f"{100 * (n + 1)}.00",
        )
        for n in range(9)
    ]
    private_table(items)
    return [item["orderId"]["S"] for item in items]


def test_every_status_newest_first_and_paged_without_gaps(mixed, approver_client, settings, monkeypatch):
    settings.APPROVALS_PAGE_SIZE = 4
    monkeypatch.setattr(selectors_orders, "READ_LIMIT", 2)  # many Query pages per status: the merge is exercised
    seen, url = [], URL
    for _ in range(5):
        response = approver_client.get(url)
        assert response.status_code == 200
        seen += _ids(response)
        match = re.search(r'rel="next" href="([^"]+)"', response.content.decode())
        if not match:
            break
        url = URL + match.group(1).replace("&amp;", "&")
    assert seen == list(reversed(mixed))  # every order once, newest first across statuses


def test_filters_run_on_the_server(mixed, operator_client):
    def ids(**params):
        response = operator_client.get(URL, params)
        assert response.status_code == 200
        return _ids(response)

    assert ids(status="approved") == [mixed[5], mixed[1]]
    assert ids(customer="northwind") == [mixed[n] for n in (6, 3, 0)]  # case-insensitive contains
    assert ids(requester="DAVE") == [mixed[n] for n in (7, 5, 3, 1)]
    assert ids(amount_min="300", amount_max="500") == [mixed[n] for n in (4, 3, 2)]
    assert ids(date_from="2026-03-01", date_to="2026-03-01") == list(reversed(mixed))
    assert ids(date_from="2026-03-02") == []
    assert ids(status="rejected", customer="fabrikam") == [mixed[2]]
    assert "No order matches these filters." in operator_client.get(URL, {"customer": "nobody"}).content.decode()


def test_bad_filters_and_cursors_are_clear_errors(mixed, approver_client):
    response = approver_client.get(URL, {"amount_min": "500", "amount_max": "10"})
    assert response.status_code == 400 and "The maximum is below the minimum." in response.content.decode()
    response = approver_client.get(URL, {"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert response.status_code == 400 and "The end date is before the start date." in response.content.decode()
    assert approver_client.get(URL, {"status": "nonsense"}).status_code == 400
    assert approver_client.get(URL, {"amount_min": "abc"}).status_code == 400
    assert approver_client.get(URL, {"cursor": "forged"}).status_code == 400
    assert approver_client.get(URL, {"customer": "x" * 1000}).status_code == 400
    assert approver_client.get(URL, {"customer": "<script>'\"%00"}).status_code == 200


def test_login_required(client, mixed):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_short_id_route(private_table, approver_client):
    unique = "abcdef01-1111-4000-8000-000000000001"
    twins = ["12345678-2222-4000-8000-000000000002", "12345678-3333-4000-8000-000000000003"]
    private_table(
        [
            order_item(created=T0, order_id=unique, status="approved"),
            order_item(created=T0 + timedelta(minutes=1), order_id=twins[0]),
            order_item(created=T0 + timedelta(minutes=2), order_id=twins[1], status="rejected"),
        ]
    )
    response = approver_client.get(reverse("approvals:order", args=["abcdef01"]))
    assert response.status_code == 302 and response["Location"] == reverse("approvals:order", args=[unique])
    assert approver_client.get(response["Location"]).status_code == 200  # the full id: the order page
    assert approver_client.get("/approvals/ABCDEF01/").status_code == 302  # the inbox's ids are lowercase
    choice = approver_client.get("/approvals/12345678/")
    body = choice.content.decode()
    assert choice.status_code == 200 and "2 orders start with" in body
    assert all(reverse("approvals:order", args=[twin]) in body for twin in twins)
    assert approver_client.get("/approvals/12345678-3/").status_code == 302
    for missing in ("deadbeef", "abc", "not-hex!", "z" * 200):
        assert approver_client.get(f"/approvals/{missing}/").status_code == 404, missing
