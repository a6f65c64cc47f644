"""Headless Chromium: search from the top bar, the grouped results, All orders and the executions list's order
columns at 1440 and 390 px (no sideways scrolling, no serious axe-core violation; screenshots looked at)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from executions.models import Execution
from tests.approvals.conftest import order_item, private_table  # noqa: F401  (the fixture)
from tests.browser_support import axe_report, axe_serious, screenshot_both

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

NOW = datetime.now(UTC).replace(microsecond=0)
ARN = "arn:aws:lambda:eu-west-1:123456789012:function:OrderApproval:$LATEST/durable-execution/{name}/{run}"
PEOPLE = [
    ("Northwind Traders", "carol@example.com", "1249.90", "pending_approval"),
    ("Contoso Ltd", "dave@example.com", "312.45", "approved"),
    ("Contoso Pharmaceuticals Europe GmbH", "erin.very-long-address@subsidiary.example.com", "18990.00", "expired"),
    ("Fabrikam", "carol@example.com", "79.99", "rejected"),
    ("Contoso Ltd", "frank@example.com", "870.00", "failed"),
    ("Initech", "dave@example.com", "45.00", "invalid"),
]


@pytest.fixture(autouse=True)
def roles_present(transactional_db):
    from django.contrib.auth.models import Group

    from core.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


@pytest.fixture
def world(private_table):  # noqa: F811
    ids = [f"{n + 1:x}{'0c3e5a7'}-{n:04x}-4a2b-9c1d-{n:012x}" for n in range(len(PEOPLE))]
    private_table(
        [
            order_item(
                created=NOW - timedelta(hours=n * 5), order_id=ids[n], customer=customer, requested_by=requester,
                amount=amount, status=status,
            )
            for n, (customer, requester, amount, status) in enumerate(PEOPLE)
        ]
    )  # fmt: skip
    outcomes = {"approved": "approved", "expired": "expired", "rejected": "rejected", "failed": "failed"}
    for n, (customer, _, _, status) in enumerate(PEOPLE):
        Execution.objects.create(
            arn=ARN.format(name=f"order-{n}", run=f"{n:08x}-run"),
            name=f"{ids[n][:8]}-approval-run",
            function_name="OrderApproval",
            status={"pending_approval": "RUNNING", "invalid": "FAILED"}.get(status, "SUCCEEDED"),
            error_type="InvalidOrderError" if status == "invalid" else "",
            started_at=timezone.now() - timedelta(hours=n * 5),
            order_id=ids[n],
            customer_name=customer,
            order_outcome=outcomes.get(status, "invalid" if status == "invalid" else ""),
        )
    Execution.objects.create(
        arn=ARN.format(name="nightly-report", run="ffff0000").replace("OrderApproval", "NightlyReport"),
        name="nightly-report-2026-12-06",
        function_name="NightlyReport",
        status="SUCCEEDED",
        started_at=timezone.now() - timedelta(hours=2),
    )
    return ids


def _check(page, label):
    violations = axe_serious(page)
    assert not violations, f"{label}\n" + axe_report(violations)


def test_search_orders_and_executions_lists(browser_login, live_server, operator, world, screenshot_dir, settings):
    settings.ORDER_APPROVAL_FUNCTION = "OrderApproval"
    page = browser_login(operator)
    base = live_server.url

    # The top bar's box: "/" focuses it; a short order id opens the order.
    page.goto(f"{base}/executions/")
    page.keyboard.press("/")
    page.keyboard.type(world[0][:8])
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/approvals/{world[0]}/")

    # An ARN fragment opens the execution.
    page.goto(f"{base}/search?q=ffff0000")
    assert "/executions/" in page.url and "nightly-report-2026-12-06" in page.content()

    # Several results, grouped.
    for name, url in (
        ("search-several", f"{base}/search?q=contoso"),
        ("search-none", f"{base}/search?q=no-such-thing"),
        ("orders-all", f"{base}/approvals/orders/"),
        ("orders-filtered", f"{base}/approvals/orders/?customer=contoso&amount_min=100"),
        ("executions-list-orders", f"{base}/executions/"),
    ):
        screenshot_both(page, url, screenshot_dir, name)
        _check(page, name)  # at 1440 px (screenshot_both ends there)
    page.goto(f"{base}/search?q=contoso")
    body = page.content()
    assert "Orders" in body and "Executions" in body and "Contoso Pharmaceuticals Europe GmbH" in body


def test_approver_sees_orders_only(browser_login, live_server, approver, world, private_table, screenshot_dir):  # noqa: F811
    twins = ["abcd1234-0000-4a2b-9c1d-000000000001", "abcd1234-0000-4a2b-9c1d-000000000002"]
    private_table(
        [
            order_item(created=NOW - timedelta(minutes=n + 1), order_id=twin, customer="Twin Holdings", amount="10")
            for n, twin in enumerate(twins)
        ]
    )
    page = browser_login(approver, viewport=(390, 844))
    screenshot_both(page, f"{live_server.url}/approvals/abcd1234/", screenshot_dir, "order-short-id-choice")
    assert "2 orders start with" in page.content() and all(twin in page.content() for twin in twins)
    _check(page, "short id choice")
    page.goto(f"{live_server.url}/search?q=contoso")
    assert 'id="executions-heading"' not in page.content() and 'id="orders-heading"' in page.content()
    screenshot_both(page, f"{live_server.url}/search?q=carol", screenshot_dir, "search-approver")
    _check(page, "search as approver")
