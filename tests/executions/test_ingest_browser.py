"""The detail page of an execution with pushed states the history does not show yet, in headless Chromium
(screenshots under test-artifacts/screenshots/): the push indicator, "doing now", "Waiting on" and the timeline
mark them; once the history shows them, the marks are gone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from executions.models import Execution, Operation
from executions.push.ingest import operations_push_ingest
from executions.push.settle import pushes_settle
from executions.sync.planning import execution_assess_apply
from tests.executions.page_factories import (
    callback_make,
    execution_make,
    function_make,
    invocation_make,
    operation_make,
)
from tests.executions.push_support import batch, execution_arn, operation_event, snapshot_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(autouse=True)
def roles_present(transactional_db):
    """Transactional tests flush the database, data-migrated groups included: put the roles back."""
    from django.contrib.auth.models import Group

    from core.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


def order_execution() -> Execution:
    """An order approval as the history last showed it: order created, waiting on the approval callback."""
    function = function_make("OrderApproval")
    execution = execution_make(
        function=function,
        arn=execution_arn("OrderApproval", "order-7f3a"),
        name="order-7f3a",
        started_ago=timedelta(minutes=42),
        last_event_at=timezone.now() - timedelta(minutes=40),
        poll_backoff_seconds=160,
        next_poll_at=timezone.now() + timedelta(seconds=140),
        input={"orderId": "7f3a", "amount": 129.5},
    )
    start = execution.started_at
    operation_make(
        execution, operation_id="create", name="create_order", started_at=start + timedelta(seconds=1),
        ended_at=start + timedelta(seconds=2), attempts=1, first_event_id=2,
    )  # fmt: skip
    callback_make(
        execution, operation_id="approval", opened_ago=timedelta(minutes=40), timeout=timedelta(hours=24),
        first_event_id=4,
    )  # fmt: skip
    invocation_make(execution, start_offset=0.5, seconds=2.5)
    execution_assess_apply(execution, now=timezone.now())
    execution.save()
    return execution


def test_pushed_but_unconfirmed_operations_are_marked_on_the_detail_page(
    browser_login, operator, live_server, screenshot_dir
):
    execution = order_execution()
    arn, now = execution.arn, timezone.now()
    # The approver answered in another tool; the next invocation reports it, then starts charging the card.
    operations_push_ingest(
        batch=batch(
            snapshot_event(arn, [("create", 1, 9), ("approval", 0, 9)]),
            operation_event(
                arn, "approval", "SUCCEEDED", (0, 9), op_type="CALLBACK", sub_type="Callback", name="approval",
                hook="invocation_start", observed_at=now - timedelta(seconds=4),
            ),
            operation_event(
                arn, "charge", "STARTED", (1, 1), name="charge_card", hook="operation_start",
                observed_at=now - timedelta(seconds=3),
            ),
        ),
        now=now - timedelta(seconds=3),
    )  # fmt: skip

    page = browser_login(operator)
    page.goto(f"{live_server.url}/executions/{execution.pk}/")
    expect(page.locator(".doing-now")).to_contain_text("running step charge_card")
    expect(page.locator(".doing-now .pushed-badge")).to_have_text("reported, awaiting history")
    expect(page.locator(".push-line")).to_contain_text("reporting")
    expect(page.locator(".push-line")).to_contain_text("2 reported changes awaiting history")
    expect(page.locator("#waiting")).to_contain_text("Running step charge_card")
    expect(page.locator("#waiting")).not_to_contain_text("approval")  # answered: no longer waited on
    reported = page.locator("#timeline .tl-row.tl-reported")
    expect(reported).to_have_count(2)
    expect(reported.nth(1)).to_contain_text("charge_card")
    expect(page.locator("#timeline .tl-legend")).to_contain_text("reported, awaiting history")
    page.screenshot(path=str(screenshot_dir / "execution-detail-pushed.png"), full_page=True)
    page.locator("#timeline").screenshot(path=str(screenshot_dir / "timeline-pushed.png"))
    page.locator(".detail-top").screenshot(path=str(screenshot_dir / "execution-summary-pushed.png"))
    page.goto(f"{live_server.url}/executions/")
    expect(page.locator("td.doing")).to_contain_text("running step charge_card")
    expect(page.locator("td.doing .pushed-badge")).to_have_text("reported, awaiting history")
    page.screenshot(path=str(screenshot_dir / "executions-list-pushed.png"))
    page.goto(f"{live_server.url}/executions/{execution.pk}/")

    # The history shows both: the marks disappear, the history's own state is shown.
    Operation.objects.filter(execution=execution, operation_id="approval").update(
        status="SUCCEEDED", ended_at=now - timedelta(seconds=5)
    )
    operation_make(
        execution, operation_id="charge", name="charge_card", status="STARTED", started_at=now - timedelta(seconds=3),
        ended_at=None, attempts=1, first_event_id=7,
    )  # fmt: skip
    execution.refresh_from_db()
    pushes_settle(execution=execution, now=timezone.now())
    execution_assess_apply(execution, now=timezone.now())
    execution.save()
    page.reload()
    expect(page.locator(".doing-now")).to_contain_text("running step charge_card")
    expect(page.locator(".pushed-badge")).to_have_count(0)
    expect(page.locator("#timeline .tl-row.tl-reported")).to_have_count(0)
    expect(page.locator(".push-line")).not_to_contain_text("awaiting history")


def test_a_non_pushing_execution_says_how_often_it_is_polled(browser_login, operator, live_server, screenshot_dir):
    execution = order_execution()
    page = browser_login(operator)
    page.goto(f"{live_server.url}/executions/{execution.pk}/")
    expect(page.locator(".push-line")).to_contain_text("not reporting")
    expect(page.locator(".push-line")).to_contain_text("polled every 2 m 40 s")
    page.locator(".detail-top").screenshot(path=str(screenshot_dir / "execution-summary-not-pushing.png"))
