"""Headless Chromium, approvers on a phone and on a keyboard: approve from the 390 px inbox, no sideways scrolling on
the inbox, an order or the decision log, keyboard-only approval, exclusive decision boxes closing on Escape,
axe-core, and screenshots of each page at 1440 and 390 px."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from approvals.models import Decision
from tests.approvals.conftest import order_item
from tests.approvals.test_browser import DEMO_IDS, _demo_orders
from tests.browser_support import WIDTHS, assert_no_horizontal_scroll, axe_report, axe_serious, screenshot_both
from tests.orders import execution_wait

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(autouse=True)
def roles_present(transactional_db):
    """Transactional tests flush the database, data-migrated groups included: put the roles back."""
    from django.contrib.auth.models import Group

    from core.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


def _decisions(approver, now):
    for index, (outcome, decision, comment) in enumerate(
        [
            ("succeeded", "approve", "Within budget for Q3; vendor already on the approved list, see ticket FIN-20931"),
            ("succeeded", "reject", "Duplicate of last week's order"),
            ("already_decided", "approve", ""),
            ("failed", "reject", "Vendor not approved"),
        ]
    ):
        Decision.objects.create(
            order_id=DEMO_IDS[index],
            execution_arn="arn:local:x",
            decision=decision,
            comment=comment,
            user=approver,
            username="approver",
            outcome=outcome,
            error="Lambda endpoint unreachable: ReadTimeoutError on /2025-12-01/durable-execution-callbacks"
            if outcome == "failed"
            else "",
            customer_name=["Northwind Traders", "Globex Corporation", "Initech", "Vandelay Industries"][index],
            amount=[1249.90, 312.45, 79.99, 870][index],
            requested_by="carol@example.com",
            order_created_at=now - timedelta(hours=index + 1),
        )


def test_phone_sized_inbox_approves_an_order(
    browser_login, live_server, approver, pending_order, lambda_client, settings, screenshot_dir
):
    settings.APPROVALS_PAGE_SIZE = 1000  # the session's table also holds other tests' orders
    order = pending_order(customerName="Phone Approve Ltd")
    page = browser_login(approver, viewport=WIDTHS["phone"])
    page.goto(f"{live_server.url}/approvals/")
    row = page.locator(f"#order-{order['orderId']}")
    row.wait_for()
    assert_no_horizontal_scroll(page, "inbox at 390 px")
    # one card per order: customer, amount with its currency, time left; Approve / Reject across the card
    assert "Phone Approve Ltd" in row.inner_text() and "USD" in row.inner_text()
    approve = row.locator("summary", has_text="Approve")
    card, button = row.bounding_box(), approve.bounding_box()
    assert card["width"] <= 390 and button["width"] > card["width"] * 0.4 and button["height"] >= 30
    row.locator("details.lines summary").click()
    expect(row.locator(".lines-list")).to_contain_text("14in laptop")
    approve.click()
    row.locator("textarea[name=comment]").fill("from my phone")
    assert_no_horizontal_scroll(page, "inbox at 390 px, approve box open")
    page.screenshot(path=str(screenshot_dir / "approvals-phone-approve-open.png"), full_page=False)
    row.locator("button", has_text="Confirm approval").click()
    outcome = page.locator(f"#order-{order['orderId']}.outcome-row")
    outcome.wait_for(timeout=15000)
    assert "Approved" in outcome.inner_text()
    assert execution_wait(lambda_client, order["executionArn"])["Status"] == "SUCCEEDED"
    assert Decision.objects.get(order_id=order["orderId"]).comment == "from my phone"


def test_bulk_approve_from_the_phone_sized_inbox(
    browser_login, live_server, approver, pending_order, lambda_client, settings, screenshot_dir
):
    settings.APPROVALS_PAGE_SIZE = 1000
    settings.APPROVALS_REFRESH_SECONDS = 600
    orders = [pending_order(customerName=f"Bulk Phone {index}") for index in range(2)]
    own = pending_order(customerName="Bulk Phone Mine", requestedBy="approver")
    page = browser_login(approver, viewport=WIDTHS["phone"])
    page.goto(f"{live_server.url}/approvals/")
    bar = page.locator("#bulk-form")
    page.locator(f"#order-{orders[0]['orderId']}").wait_for()
    expect(bar).to_be_hidden()  # on a phone the bar appears once an order is ticked
    assert page.locator(f"#order-{own['orderId']} td.pick input").count() == 0  # four-eyes: not even offered
    for order in orders:
        page.locator(f"#order-{order['orderId']} td.pick input").check()
    expect(bar).to_be_visible()
    expect(bar.locator("[data-selected-count]")).to_have_text("2 selected")
    bar.locator("input[name=comment]").fill("both fine")
    assert_no_horizontal_scroll(page, "inbox at 390 px, bulk bar shown")
    page.screenshot(path=str(screenshot_dir / "approvals-phone-bulk-bar.png"))
    bar.locator("button", has_text="Approve selected").click()
    outcomes = page.locator("#bulk-outcomes")
    expect(outcomes).to_contain_text("Bulk approval: 2 of 2 approved", timeout=20000)
    page.screenshot(path=str(screenshot_dir / "approvals-phone-bulk-outcomes.png"), full_page=True)
    for order in orders:
        assert execution_wait(lambda_client, order["executionArn"])["Status"] == "SUCCEEDED"
        assert Decision.objects.get(order_id=order["orderId"]).comment == "both fine"
    expect(page.locator(f"#order-{orders[0]['orderId']}")).to_have_count(0)  # the list reloaded without them


def test_keyboard_only_approve_with_shortcuts(
    browser_login, live_server, approver, pending_order, lambda_client, settings, screenshot_dir
):
    settings.APPROVALS_PAGE_SIZE = 1000
    settings.APPROVALS_REFRESH_SECONDS = 600
    pending_order(customerName="Keyboard Other")  # a row above it, for k and o at the end
    order = pending_order(customerName="Keyboard Co")
    page = browser_login(approver)
    page.goto(f"{live_server.url}/approvals/")
    row = page.locator(f"#order-{order['orderId']}")
    row.wait_for()

    # typing in a field never fires a shortcut
    page.locator("#id_q").focus()
    page.keyboard.type("jk")
    assert page.locator("tr.inbox-row.selected").count() == 0
    page.locator("#id_q").fill("")
    page.locator("#id_q").blur()

    page.keyboard.press("?")
    expect(page.locator("#shortcuts-dialog")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "approvals-shortcuts-dialog.png"))
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-dialog")).to_be_hidden()

    page.keyboard.press("k")  # nothing selected yet: k selects the last row, the newest order
    expect(row).to_have_class(lambda_class("selected"))
    assert page.evaluate("() => document.activeElement.id") == f"order-{order['orderId']}"
    page.keyboard.press("j")  # already the last: stays
    expect(row).to_have_class(lambda_class("selected"))
    assert row.get_attribute("aria-current") == "true"
    page.keyboard.press("x")  # ticks it for bulk approval, and again unticks it
    expect(row.locator("td.pick input")).to_be_checked()
    expect(page.locator("[data-selected-count]")).to_have_text("1 selected")
    page.keyboard.press("x")
    expect(row.locator("td.pick input")).not_to_be_checked()
    page.keyboard.press("a")
    comment = row.locator("details.approve-popover textarea")
    expect(comment).to_be_focused()
    page.keyboard.type("keyboard only")
    page.screenshot(path=str(screenshot_dir / "approvals-keyboard-approve.png"))
    page.keyboard.press("Control+Enter")
    outcome = page.locator(f"#order-{order['orderId']}.outcome-row")
    outcome.wait_for(timeout=15000)
    assert "Approved" in outcome.inner_text()
    # the focus stays on the decided row (not thrown back to the page), so j/k go on from there
    expect(outcome).to_be_focused()
    assert execution_wait(lambda_client, order["executionArn"])["Status"] == "SUCCEEDED"
    assert Decision.objects.get(order_id=order["orderId"]).comment == "keyboard only"
    # k goes on from the decided row to the one above it; o opens that order
    page.keyboard.press("k")
    above = page.locator("#inbox-table tr.selected")
    path = above.get_attribute("data-path")
    assert path and above.get_attribute("id") != f"order-{order['orderId']}"
    page.keyboard.press("o")
    page.wait_for_url(f"{live_server.url}{path}")


def lambda_class(name: str):
    import re

    return re.compile(rf"(^|\s){name}(\s|$)")


def test_decision_boxes_are_exclusive_stay_in_their_row_and_close_on_escape(
    browser_login, live_server, approver, private_table, settings
):
    settings.APPROVALS_REFRESH_SECONDS = 600
    now = datetime.now(UTC)
    private_table([order_item(created=now - timedelta(minutes=10 - i), order_id=f"pop-{i}") for i in range(3)])
    page = browser_login(approver)
    page.goto(f"{live_server.url}/approvals/")
    first, second = page.locator("#order-pop-0"), page.locator("#order-pop-1")
    first.locator("summary", has_text="Approve").click()
    first.locator("summary", has_text="Reject").click()
    assert page.locator("details.decide[open]").count() == 1
    assert first.locator("details.reject-popover").get_attribute("open") is not None
    # the open box pushes the next row down instead of covering it
    box, below = first.locator("details.reject-popover form").bounding_box(), second.bounding_box()
    assert box["y"] + box["height"] <= below["y"] + 1
    second.locator("summary", has_text="Approve").click()
    assert page.locator("details.decide[open]").count() == 1
    assert second.locator("details.approve-popover").get_attribute("open") is not None
    second.locator("details.approve-popover textarea").focus()
    page.keyboard.press("Escape")
    assert page.locator("details.decide[open]").count() == 0
    expect(second.locator("details.approve-popover summary")).to_be_focused()


def test_pages_at_both_widths_no_sideways_scroll_axe_and_screenshots(
    browser_login, approver, admin_user, private_table, live_server, screenshot_dir, settings
):
    settings.APPROVALS_REFRESH_SECONDS = 600
    now = datetime.now(UTC)
    items = _demo_orders(now)
    decided = order_item(created=now - timedelta(hours=2), order_id="decided-order-0001", status="approved")
    decided.update(decidedBy={"S": "approver2"}, decidedAt={"S": "2026-01-01T10:00:00.000Z"})
    private_table([*items, decided])
    _decisions(approver, now)
    page = browser_login(admin_user)
    pages = {
        "approvals-inbox": f"{live_server.url}/approvals/",
        "approvals-inbox-filtered": f"{live_server.url}/approvals/?amount_min=300&due=24h",
        "approvals-order": f"{live_server.url}/approvals/{DEMO_IDS[1]}/",
        "approvals-order-decided": f"{live_server.url}/approvals/decided-order-0001/",
        "approvals-decisions": f"{live_server.url}/approvals/decisions/",
    }
    problems = []
    for name, url in pages.items():
        screenshot_both(page, url, screenshot_dir, name)  # asserts no sideways scroll at 390 px
        for width, height in (WIDTHS["phone"], WIDTHS["desktop"]):
            page.set_viewport_size({"width": width, "height": height})
            violations = axe_serious(page)
            if violations:
                problems.append(f"{name} at {width}px:\n{axe_report(violations)}")
    assert not problems, "\n".join(problems)
    # a decided order does not count down
    page.goto(pages["approvals-order-decided"])
    expect(page.locator(".decision-card")).not_to_contain_text("Time left to decide")
    assert page.locator("[data-deadline]").count() == 0
