"""Deciding fast: server-side inbox filters with cursor paging, bulk approval, Approve & next, order lines, and no
countdown on a decided order. Real local stack (DynamoDB Local, the emulator, the gateway, the real workflow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from approvals.models import Decision
from tests.approvals.conftest import order_item
from tests.orders import execution_wait, order_get

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)


def _ids(response) -> list[str]:
    return [row.order.order_id for row in response.context["page"].rows]


def _walk(client, params: dict) -> tuple[list[str], int]:
    """Every order id the inbox lists for these filters, following its cursor; and how many pages it took."""
    seen, pages, cursor = [], 0, None
    while True:
        response = client.get(reverse("approvals:inbox"), {**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        seen += _ids(response)
        pages += 1
        cursor = response.context["page"].next_cursor
        if not cursor:
            return seen, pages


# --- filters, on the server, over every pending order -------------------------------------------------------


def test_amount_range_filter_searches_every_page_and_pages_with_the_cursor(approver_client, private_table, settings):
    settings.APPROVALS_PAGE_SIZE = 4
    items = [
        order_item(created=NOW - timedelta(minutes=60 - i), order_id=f"o-{i:02d}", amount=f"{i * 100}.00")
        for i in range(20)
    ]
    private_table(items)
    # 500..1200 inclusive: eight orders spread over five index pages, listed four at a time
    seen, pages = _walk(approver_client, {"amount_min": "500", "amount_max": "1200"})
    assert seen == [f"o-{i:02d}" for i in range(5, 13)]
    assert pages == 3  # two full pages, then one that finds no more (a full page cannot know it was the last)
    # the filters are kept in the pager's link
    response = approver_client.get(reverse("approvals:inbox"), {"amount_min": "500", "amount_max": "1200"})
    next_link = response.content.decode().split('rel="next" href="')[1].split('"')[0]
    assert "amount_min=500" in next_link and "amount_max=1200" in next_link
    # a match on the last index page is found from the first page (not only "this page")
    assert _ids(approver_client.get(reverse("approvals:inbox"), {"amount_min": "1900"})) == ["o-19"]


def test_deadline_window_filter(approver_client, private_table, settings):
    settings.APPROVALS_PAGE_SIZE = 2
    private_table(
        [
            order_item(created=NOW - timedelta(minutes=50), timeout=3600, order_id="due-10m"),
            order_item(created=NOW - timedelta(minutes=40), timeout=24 * 3600, order_id="due-23h"),
            order_item(created=NOW - timedelta(minutes=30), timeout=2 * 3600, order_id="due-90m"),
            order_item(created=NOW - timedelta(minutes=20), timeout=600, order_id="expired"),
            order_item(created=NOW - timedelta(minutes=10), timeout=1800, order_id="due-20m"),
        ]
    )
    assert _walk(approver_client, {"due": "1h"})[0] == ["due-10m", "due-20m"]
    assert _walk(approver_client, {"due": "4h"})[0] == ["due-10m", "due-90m", "due-20m"]
    assert _walk(approver_client, {"due": "24h", "amount_max": "50"})[0] == []


def test_customer_filter_is_server_side_and_bad_filters_are_explained(approver_client, private_table, settings):
    settings.APPROVALS_PAGE_SIZE = 2
    private_table(
        [order_item(created=NOW - timedelta(minutes=30 - i), order_id=f"x-{i}", customer="Contoso") for i in range(5)]
        + [order_item(created=NOW - timedelta(minutes=1), order_id="needle", customer="Needle & Co")]
    )
    assert _ids(approver_client.get(reverse("approvals:inbox"), {"q": "needle"})) == ["needle"]
    response = approver_client.get(reverse("approvals:inbox"), {"amount_min": "900", "amount_max": "10"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "The minimum amount is above the maximum amount." in body and "These filters were ignored." in body
    assert _ids(response) == ["x-0", "x-1"]  # unfiltered, first page


# --- decided orders no longer count down ---------------------------------------------------------------------


def test_decided_order_shows_no_countdown(approver_client, private_table):
    item = order_item(created=NOW - timedelta(minutes=5), timeout=3600, order_id="done-order", status="approved")
    item.update(decidedBy={"S": "approver2"}, decidedAt={"S": "2026-01-01T10:00:00.000Z"})
    private_table([item, order_item(created=NOW - timedelta(minutes=5), timeout=3600, order_id="open-order")])
    body = approver_client.get(reverse("approvals:order", args=["done-order"])).content.decode()
    assert "Time left to decide" not in body and "data-deadline" not in body
    assert "it can no longer be decided" in body
    pending = approver_client.get(reverse("approvals:order", args=["open-order"])).content.decode()
    assert "Time left to decide" in pending and "data-deadline" in pending
    # the decision form comes before the attribute dump
    assert pending.index("Approve order") < pending.index("All attributes")


def test_order_lines_load_on_demand(approver_client, private_table):
    private_table([order_item(created=NOW - timedelta(minutes=5), order_id="with-lines")])
    url = reverse("approvals:lines", args=["with-lines"])
    response = approver_client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "SKU-1" in response.content.decode()
    assert approver_client.get(url).url == reverse("approvals:order", args=["with-lines"])  # without htmx: the page
    assert approver_client.get(reverse("approvals:lines", args=["nope"]), HTTP_HX_REQUEST="true").status_code == 404


# --- bulk approval ---------------------------------------------------------------------------------------------


def test_bulk_approve_refuses_the_approvers_own_row_and_decides_the_others_exactly_once(
    approver_client, approver, pending_order, lambda_client, dynamodb_client, aws
):
    first = pending_order(customerName="Bulk One")
    second = pending_order(customerName="Bulk Two")
    own = pending_order(customerName="Bulk Mine", requestedBy="approver")
    ids = [first["orderId"], own["orderId"], second["orderId"], first["orderId"]]  # first twice: decided once

    response = approver_client.post(reverse("approvals:bulk_approve"), {"order": ids, "comment": "batch ok"})
    assert response.status_code == 200
    outcomes = {outcome.order_id: outcome for outcome in response.context["outcomes"]}
    assert list(outcomes) == [first["orderId"], own["orderId"], second["orderId"]]
    assert outcomes[first["orderId"]].delivered and outcomes[second["orderId"]].delivered
    assert outcomes[own["orderId"]].outcome == "forbidden" and "four-eyes" in outcomes[own["orderId"]].message
    body = response.content.decode()
    assert "Bulk approval: 2 of 3 approved" in body

    for order in (first, second):
        assert execution_wait(lambda_client, order["executionArn"])["Status"] == "SUCCEEDED"
        stored = order_get(dynamodb_client, aws.table, order["orderId"])
        assert (stored["status"], stored["decidedBy"], stored["decisionComment"]) == (
            "approved",
            "approver",
            "batch ok",
        )
        decisions = Decision.objects.filter(order_id=order["orderId"])
        assert [(d.outcome, d.decision, d.comment) for d in decisions] == [("succeeded", "approve", "batch ok")]
    assert order_get(dynamodb_client, aws.table, own["orderId"])["status"] == "pending_approval"
    assert [d.outcome for d in Decision.objects.filter(order_id=own["orderId"])] == ["forbidden"]

    # the same bulk again (a double submit): nothing is sent twice
    again = approver_client.post(reverse("approvals:bulk_approve"), {"order": ids, "comment": "batch ok"})
    repeated = {outcome.order_id: outcome.outcome for outcome in again.context["outcomes"]}
    assert repeated == {
        first["orderId"]: "already_decided",
        own["orderId"]: "forbidden",
        second["orderId"]: "already_decided",
    }
    for order in (first, second):
        assert Decision.objects.filter(order_id=order["orderId"], outcome="succeeded").count() == 1


def test_bulk_approve_over_htmx_answers_the_outcomes_fragment(approver_client, pending_order):
    order = pending_order(customerName="Bulk Htmx")
    response = approver_client.post(
        reverse("approvals:bulk_approve"), {"order": [order["orderId"]]}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<section id="bulk-outcomes"') and "Bulk approval: 1 of 1 approved" in body
    assert "approvals:bulk" in response["HX-Trigger"] and "approvals:decided" in response["HX-Trigger"]


def test_bulk_approve_input_roles_and_method(approver_client, operator, aws, settings):
    from django.test import Client

    operator_client = Client()
    operator_client.force_login(operator)
    url = reverse("approvals:bulk_approve")
    empty = approver_client.post(url, {"comment": "x"}, follow=True)
    assert "Select at least one order to approve." in empty.content.decode()
    too_many = approver_client.post(url, {"order": [f"o-{i}" for i in range(21)]}, follow=True)
    assert "Approve at most 20 orders at once (you selected 21)." in too_many.content.decode()
    assert Decision.objects.count() == 0
    assert operator_client.post(url, {"order": ["o-1"]}).status_code == 403
    assert approver_client.get(url).status_code == 405
    settings.READ_ONLY = True
    frozen = approver_client.post(url, {"order": ["o-1"]}, follow=True)
    assert "read-only mode" in frozen.content.decode() and Decision.objects.count() == 0


def test_bulk_approve_reports_an_unknown_order_and_goes_on(approver_client, pending_order, lambda_client):
    order = pending_order(customerName="Bulk Known")
    response = approver_client.post(reverse("approvals:bulk_approve"), {"order": ["no-such-order", order["orderId"]]})
    outcomes = [(o.order_id, o.outcome) for o in response.context["outcomes"]]
    assert outcomes == [("no-such-order", "not_found"), (order["orderId"], "succeeded")]
    assert execution_wait(lambda_client, order["executionArn"])["Status"] == "SUCCEEDED"


# --- Approve & next ---------------------------------------------------------------------------------------------


def test_approve_and_next_opens_the_next_order_and_stays_exactly_once(
    approver_client, pending_order, lambda_client, dynamodb_client, aws
):
    current = pending_order(customerName="Next One")
    own = pending_order(customerName="Next Mine", requestedBy="approver")  # skipped: four-eyes
    following = pending_order(customerName="Next Two")
    url = reverse("approvals:approve", args=[current["orderId"]])
    order_path = reverse("approvals:order", args=[current["orderId"]])

    response = approver_client.post(url, {"comment": "", "then": "next", "next": order_path})
    assert response.status_code == 302
    assert response.url == reverse("approvals:order", args=[following["orderId"]])
    assert execution_wait(lambda_client, current["executionArn"])["Status"] == "SUCCEEDED"
    assert order_get(dynamodb_client, aws.table, own["orderId"])["status"] == "pending_approval"

    # a second press (double submit) decides nothing and does not move on
    again = approver_client.post(url, {"comment": "", "then": "next", "next": order_path})
    assert again.url == order_path
    outcomes = list(Decision.objects.filter(order_id=current["orderId"]).values_list("outcome", flat=True))
    assert sorted(outcomes) == ["already_decided", "succeeded"]

    # the last order waiting: back to the inbox, saying so
    last = approver_client.post(
        reverse("approvals:approve", args=[following["orderId"]]), {"then": "next"}, follow=True
    )
    assert last.redirect_chain[-1][0] == reverse("approvals:inbox")
    assert "No other order is waiting for your decision." in last.content.decode()
