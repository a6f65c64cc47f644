"""The activity trail on the order page of a real order (local stack), loaded with htmx, at 1440 and 390 px:
no sideways scroll, no serious accessibility violation, screenshots (looked at)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from approvals.models import Decision
from core.roles import ALL_ROLES
from executions.models import Operation
from notifications.models import Notification
from tests.browser_support import axe_report, axe_serious, screenshot_both
from tests.executions.sync_support import execution_synced
from tests.orders import order_for_execution, order_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


def test_the_order_page_shows_the_trail(
    aws, settings, lambda_client, dynamodb_client, browser_login, operator, live_server, screenshot_dir
):
    settings.DURABLE_API_MAX_RPS = 500
    arn = order_start(lambda_client, customerName="Trail Browser Co")
    order = order_for_execution(dynamodb_client, aws.table, arn)
    execution = execution_synced(
        "OrderApproval", arn, until=lambda e: Operation.objects.filter(execution=e, op_type="callback").exists()
    )
    Decision.objects.create(
        order_id=order["orderId"],
        execution_arn=arn,
        decision="approve",
        username="carol@example.com",
        outcome="forbidden",
        comment="my own order",
    )
    Notification.objects.create(
        kind="order_pending",
        subject=order["orderId"],
        recipient="approvers@example.com",
        channel="email",
        dedupe_key=f"pending-{order['orderId']}"[:64],
        context={"order_id": order["orderId"]},
        status="sent",
    )
    page = browser_login(operator)
    url = f"{live_server.url}/approvals/{order['orderId']}/"
    screenshot_both(page, url, screenshot_dir, "order-activity", check=False)
    for width in (390, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        page.wait_for_selector("#activity ol.activity")
        text = page.inner_text("#activity")
        assert "Approve attempt" in text and "refused: requesters cannot decide their own order" in text
        assert "New pending order" in text
        box = page.locator("#activity").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width  # the trail itself fits the screen
        violations = axe_serious(page)
        assert not violations, axe_report(violations)
    page.locator("#activity").screenshot(path=str(screenshot_dir / "order-activity-trail.png"))
    assert execution.pk
