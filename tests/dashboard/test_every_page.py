"""Every page of the console, as each role sees it, at 1440 px and on a 390 px phone: it does not scroll sideways,
axe-core finds no serious or critical violation, and a screenshot is kept to be looked at
(test-artifacts/screenshots/every-page/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from tests.approvals.conftest import order_item, private_table  # noqa: F401  (the fixture)
from tests.browser_support import WIDTHS, assert_no_axe_serious, assert_no_horizontal_scroll
from tests.executions.page_factories import (
    callback_make,
    events_make,
    execution_make,
    function_make,
    invocation_make,
    operation_make,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(private_table):  # noqa: F811
    """Orders in DynamoDB and executions in every state the pages show."""
    now = datetime.now(UTC)
    private_table(
        [
            order_item(created=now - timedelta(minutes=20 * n), customer=f"Contoso {n}", amount=f"{120 + n}.50")
            for n in range(3)
        ]
        + [order_item(created=now - timedelta(days=1), customer="Fabrikam", status="approved")]
    )
    function_make()
    running = execution_make(name="order-running", input={"customerName": "Contoso 0", "amount": 120.5})
    callback = callback_make(running, name="approval")
    invocation_make(running, start_offset=0, seconds=2)
    events_make(running, 12)
    failed = execution_make(
        name="order-failed", status="FAILED", error_type="InvalidOrderError", error_message="amount must be positive"
    )
    operation_make(failed, name="validate_order", op_type="step", status="FAILED", error_type="InvalidOrderError")
    execution_make(name="order-done", status="SUCCEEDED", result={"orderId": "o-1", "outcome": "approved"})
    return {"running": running, "callback": callback, "failed": failed}


def pages_for(role: str, world: dict) -> list[tuple[str, str]]:
    running, failed, callback = world["running"], world["failed"], world["callback"]
    approver = [
        ("inbox", reverse("approvals:inbox")),
        ("decisions", reverse("approvals:decisions")),
        ("orders", reverse("approvals:orders")),
        ("search", reverse("search") + "?q=Contoso"),
        ("account", reverse("account")),
        ("notification-preferences", reverse("notifications:preferences")),
        ("not-found", "/no-such-page/"),
    ]
    operator = [
        ("overview", reverse("overview")),
        ("executions", reverse("executions:list")),
        ("attention", reverse("executions:attention")),
        ("failures", reverse("executions:failures") + "?since=all"),
        ("timeouts", reverse("executions:timeouts")),
        ("actions", reverse("executions:actions")),
        ("execution-running", reverse("executions:detail", args=[running.pk])),
        ("execution-failed", reverse("executions:detail", args=[failed.pk])),
        ("operation", reverse("executions:operation", args=[running.pk, callback.operation_id])),
        ("search", reverse("search") + "?q=order"),
        ("account", reverse("account")),
    ]
    admin = [
        *operator,
        ("notifications", reverse("notifications:list")),
        ("decisions", reverse("approvals:decisions")),
        ("orders", reverse("approvals:orders")),
        (
            "confirm-fail-callback",
            reverse("executions:confirm", args=[running.pk, "fail_callback"]) + f"?op={callback.operation_id}",
        ),
        ("confirm-stop", reverse("executions:confirm", args=[running.pk, "stop"])),
        ("action-get", reverse("executions:stop", args=[running.pk])),  # a GET on an action: the 405 page
    ]
    return {"approver": approver, "operator": operator, "admin": admin}[role]


@pytest.mark.parametrize("role", ["approver", "operator", "admin"])
def test_every_page_fits_a_phone_and_passes_axe(
    role, world, browser_login, live_server, screenshot_dir, approver, operator, admin_user
):
    user = {"approver": approver, "operator": operator, "admin": admin_user}[role]
    folder = screenshot_dir / "every-page"
    folder.mkdir(exist_ok=True)
    for width_name, viewport in WIDTHS.items():
        page = browser_login(user, viewport=viewport)
        for name, path in pages_for(role, world):
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            label = f"{role} {name} at {viewport[0]} px"
            assert_no_horizontal_scroll(page, label)
            assert_no_axe_serious(page, label)
            page.screenshot(path=str(folder / f"{role}-{name}-{width_name}.png"), full_page=True)
