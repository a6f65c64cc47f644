"""The execution pages after the time sweep, in headless Chromium at 1440 px and 390 px: instants written one way
with their zone, copy buttons beside names, ARNs and operation ids, no sideways scroll (screenshots kept)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser_support import screenshot_both
from tests.executions.page_factories import (
    callback_make,
    events_make,
    execution_make,
    function_make,
    invocation_make,
    operation_make,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(autouse=True)
def roles_present(transactional_db):
    from django.contrib.auth.models import Group

    from core.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


def test_execution_pages_write_time_one_way(browser_login, operator, live_server, screenshot_dir):
    function = function_make("OrderApproval")
    now = timezone.now()
    execution = execution_make(
        function=function,
        name="order-7f1e22aa-approval",
        started_ago=timedelta(hours=3, minutes=12),
        needs_attention=True,
        attention_reasons=[{"code": "callback_sla", "message": "Callback approval open for 2 h"}],
        activity={"kind": "callback", "name": "approval", "since": (now - timedelta(hours=2)).isoformat()},
    )
    operation_make(execution, operation_id="0f9a6b1c2d3e4f50a1b2", name="validate_order")
    operation_make(
        execution,
        name="reserve_stock",
        status="FAILED",
        attempts=2,
        error_type="StockError",
        error_message="no stock",
        started_at=execution.started_at + timedelta(seconds=3),
        ended_at=execution.started_at + timedelta(seconds=9),
    )
    callback = callback_make(execution)
    invocation_make(execution, start_offset=0, seconds=1.2)
    invocation_make(execution, start_offset=8, seconds=0.8)
    events_make(execution, 6)
    for n in range(4):
        execution_make(
            function=function,
            status="FAILED",
            has_failures=True,
            error_type="InvalidOrderError",
            error_message="amount must be positive",
            started_ago=timedelta(hours=n + 1),
        )
    page = browser_login(operator)
    base = live_server.url
    for name, url in (
        ("time-sweep-detail", f"{base}/executions/{execution.pk}/"),
        ("time-sweep-list", f"{base}/executions/"),
        ("time-sweep-failures", f"{base}/executions/failures/"),
        ("time-sweep-attention", f"{base}/executions/attention/"),
        ("time-sweep-timeouts", f"{base}/executions/timeouts/"),
        ("time-sweep-operation", f"{base}/executions/{execution.pk}/operations/{callback.operation_id}/"),
    ):
        screenshot_both(page, url, screenshot_dir, name)
        assert page.locator("time").count() >= 1, url
        assert "UTC" in page.locator("time").first.inner_text() or "ago" in page.locator("time").first.inner_text()
    page.goto(f"{base}/executions/{execution.pk}/")
    assert page.locator('button.copy[data-copy="0f9a6b1c2d3e4f50a1b2"]').count() == 1
    assert page.locator(f'button.copy[data-copy="{execution.arn}"]').count() == 1
    assert page.locator('h1 button.copy[data-copy="order-7f1e22aa-approval"]').count() == 1
    assert callback.callback_id not in page.content()
