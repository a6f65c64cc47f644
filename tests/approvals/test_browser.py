"""Headless Chromium: approve from the inbox (htmx row swap + badge), and screenshots of every page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from approvals.models import Decision
from core.aws import aws_clients_reset
from tests.approvals.conftest import order_item
from tests.orders import execution_wait, order_get

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(autouse=True)
def roles_present(transactional_db):
    """Transactional tests flush the database, data-migrated groups included: put the roles back."""
    from django.contrib.auth.models import Group

    from core.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


def test_click_approve_in_inbox_replaces_the_row(
    browser_login, live_server, approver, pending_order, lambda_client, dynamodb_client, aws, settings, screenshot_dir
):
    settings.APPROVALS_PAGE_SIZE = 1000  # the session's table also holds other tests' orders
    order = pending_order(customerName="Browser Test Ltd")
    page = browser_login(approver)
    page.goto(f"{live_server.url}/approvals/")
    row = page.locator(f"#order-{order['orderId']}")
    row.wait_for()
    assert "Browser Test Ltd" in row.inner_text()
    badge_before = int(page.locator("#pending-badge").inner_text() or 0)

    row.locator("summary", has_text="Approve").click()
    row.locator("textarea[name=comment]").fill("ship it")
    row.locator("button", has_text="Confirm approval").click()

    outcome = page.locator(f"#order-{order['orderId']}.outcome-row")
    outcome.wait_for(timeout=15000)
    assert "Approved" in outcome.inner_text()
    assert "the workflow resumes" in outcome.inner_text()
    page.wait_for_function(
        f"parseInt(document.querySelector('#pending-badge').textContent) === {badge_before - 1}", timeout=10000
    )
    page.screenshot(path=str(screenshot_dir / "approvals-inbox-after-approve.png"), full_page=True)

    execution = execution_wait(lambda_client, order["executionArn"])
    assert execution["Status"] == "SUCCEEDED"
    assert order_get(dynamodb_client, aws.table, order["orderId"])["status"] == "approved"
    decision = Decision.objects.get(order_id=order["orderId"])
    assert (decision.outcome, decision.comment) == ("succeeded", "ship it")


DEMO_IDS = [
    "3f9c2a71-8d4e-4b1a-9e2f-6c1d7a5b0e93",
    "a12e7c40-5b9d-4e3f-8a61-2d7c9f0b4e18",
    "7bd04e2c-1f6a-4c8e-b3d9-58e2a1c7f604",
    "c5e81f3a-9d27-4b6c-a0e4-3f7b2d9c1a85",
    "19a6d3b8-4e7f-4a2c-9b1e-7d0c5f8e2a36",
    "e47b2c9d-3a1f-4d8e-b6c2-0f9a7e1d5b42",
    "58c3f1e7-2b9a-4e6d-8c4f-1a7e3d9b0c25",
    "b2d9e4a1-7c3f-4b8e-a5d1-9e6c0f2b7a13",
]


def _demo_orders(now: datetime) -> list[dict]:
    specs = [
        ("Northwind Traders", "1249.90", "carol@example.com", 23 * 3600, 24 * 3600),
        ("Contoso Pharmaceuticals", "18400.00", "dave@example.com", 3 * 3600, 4 * 3600),
        ("Globex Corporation", "312.45", "erin@example.com", 20 * 60, 60 * 60),
        ("Initech", "79.99", "approver", 50 * 60, 60 * 60),
        ("Umbrella Supplies", "5600.00", "frank@example.com", 17 * 60, 2 * 3600),
        ("Stark Industries", "99000.00", "grace@example.com", 4 * 60, 60 * 60),
        ("Wayne Enterprises", "450.00", "heidi@example.com", 0, 30 * 60),
        ("Acme <b>Corp</b>", "1200.00", "ivan@example.com", 6 * 3600, 24 * 3600),
    ]
    items = []
    for index, (customer, amount, requester, left, timeout) in enumerate(specs):
        created = now - timedelta(seconds=timeout - left if left else timeout + 120)
        items.append(
            order_item(
                created=created,
                timeout=timeout,
                customer=customer,
                amount=amount,
                requested_by=requester,
                order_id=DEMO_IDS[index],
            )
        )
    return items


def test_screenshots(browser_login, approver, admin_user, private_table, live_server, screenshot_dir, settings):
    now = datetime.now(UTC)
    private_table(_demo_orders(now))
    for index, (outcome, decision, comment) in enumerate(
        [
            ("succeeded", "approve", "Within budget"),
            ("succeeded", "reject", "Duplicate of last week's order"),
            ("already_decided", "approve", ""),
            ("closed", "approve", ""),
            ("failed", "reject", "Vendor not approved"),
        ]
    ):
        Decision.objects.create(
            order_id=f"9{index}a1b2c3-0000-4000-8000-00000000000{index}",
            execution_arn="arn:local:x",
            decision=decision,
            comment=comment,
            user=approver,
            username="approver",
            outcome=outcome,
            error="Lambda endpoint unreachable" if outcome == "failed" else "",
            customer_name=["Northwind", "Globex", "Initech", "Hooli", "Vandelay"][index],
            amount=[1249.90, 312.45, 79.99, 5000, 870][index],
            requested_by="carol@example.com",
            order_created_at=now - timedelta(hours=index + 1, minutes=7 * index),
        )
    page = browser_login(approver, viewport=(1440, 860))
    page.goto(f"{live_server.url}/approvals/")
    page.locator("#inbox-table tbody tr").first.wait_for()
    page.wait_for_function("document.querySelector('#pending-badge').textContent.trim() !== ''")
    page.screenshot(path=str(screenshot_dir / "approvals-inbox.png"), full_page=True)
    page.locator(f"#order-{DEMO_IDS[2]} summary", has_text="Reject").click()
    page.screenshot(path=str(screenshot_dir / "approvals-inbox-reject-popover.png"), full_page=True)

    page.goto(f"{live_server.url}/approvals/{DEMO_IDS[1]}/")
    page.screenshot(path=str(screenshot_dir / "approvals-order-detail.png"), full_page=True)

    admin_page = browser_login(admin_user, viewport=(1440, 700))
    admin_page.goto(f"{live_server.url}/approvals/decisions/")
    admin_page.screenshot(path=str(screenshot_dir / "approvals-decisions.png"), full_page=True)

    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.AWS_MAX_ATTEMPTS = 1
    aws_clients_reset()
    response = page.goto(f"{live_server.url}/approvals/")
    assert response.status == 503
    page.screenshot(path=str(screenshot_dir / "approvals-unavailable.png"), full_page=True)


def test_countdown_ticks_and_turns_expired_without_reload(
    browser_login, approver, private_table, live_server, settings
):
    settings.APPROVALS_REFRESH_SECONDS = 600  # no table refresh during the test: only the page's own clock
    page = browser_login(approver)
    now = datetime.now(UTC)
    private_table([order_item(created=now - timedelta(seconds=91), timeout=100, order_id="ticking-order")])
    page.goto(f"{live_server.url}/approvals/")
    deadline = page.locator("#order-ticking-order .deadline")
    assert deadline.inner_text() != "expired"  # rendered with seconds left (red: under 10 % of the window)
    assert "red" in deadline.get_attribute("class")
    # (a locator assertion, not wait_for_function: the Content-Security-Policy forbids the eval that uses)
    expect(deadline).to_have_text("expired", timeout=20000)
    assert "expired" in deadline.get_attribute("class")
    assert "deadline-expired" in page.locator("#order-ticking-order").get_attribute("class")


@pytest.mark.django_db(transaction=True)
def test_order_page_shows_a_pending_resolution(browser_login, approver, private_table, live_server, screenshot_dir):
    """An order left `deciding` (an unconfirmed send): the page says it will be resolved, without the claim's note."""
    now = datetime.now(UTC)
    item = order_item(created=now - timedelta(minutes=5), timeout=3600, order_id="unconfirmed-order")
    item.update(
        status={"S": "deciding"},
        claimedBy={"S": "approver2"},
        claimDecision={"S": "approve"},
        claimComment={"S": "private note"},
        claimedAt={"S": (now - timedelta(seconds=20)).isoformat().replace("+00:00", "Z")},
        claimToken={"S": "tok"},
    )
    private_table([item])
    page = browser_login(approver)
    page.goto(f"{live_server.url}/approvals/unconfirmed-order/")
    expect(page.locator(".decision-card")).to_contain_text(
        "Sent, not yet confirmed: it will be resolved automatically."
    )
    assert "private note" not in page.content()
    page.screenshot(path=str(screenshot_dir / "approvals-order-unconfirmed.png"), full_page=True)
