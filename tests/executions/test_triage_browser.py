"""Triage pages, the execution page and a confirmation page in headless Chromium at 1440 and 390 px: no sideways
scroll, no serious accessibility violation, screenshots (looked at); the running execution's summary refreshes
itself, and the activity trail loads into the execution page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from approvals.models import Decision
from core.roles import ALL_ROLES
from executions.models import Execution
from tests.browser_support import assert_no_horizontal_scroll, axe_report, axe_serious, screenshot_both
from tests.executions.page_factories import callback_make, execution_make, invocation_make, operation_make

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

ORDER_INPUT = {"customerName": "Ada Lovelace Industries", "amount": 1250.5, "requestedBy": "rita@example.com"}


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    """The role groups (a data migration made them; a previous transactional test flushed them)."""
    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


def _order_execution(**fields):
    execution = execution_make(input=ORDER_INPUT, **fields)
    operation_make(execution, name="create_order", result_preview='{"orderId": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}')
    return execution


def _rows():
    now = timezone.now()
    # attention: a callback past its deadline, a step retrying
    waiting = _order_execution(
        needs_attention=True,
        attention_reasons=[
            {
                "code": "callback_overdue",
                "message": "Callback approval is still open past its deadline.",
                "operation_id": "cb-1",
            }
        ],
    )
    callback_make(waiting, operation_id="cb-1", opened_ago=timedelta(hours=3))
    retrying = execution_make(needs_attention=True, has_failures=True)
    step = operation_make(
        retrying,
        name="call_partner_service_with_a_rather_long_name",
        status="PENDING",
        ended_at=None,
        attempts=4,
        attempt_history=[
            {"attempt": n, "status": "FAILED", "error_type": "TimeoutError", "error_message": "partner slow"}
            for n in range(1, 5)
        ],
    )
    retrying.attention_reasons = [
        {"code": "step_retries", "message": "Step call_partner failed 4 attempts.", "operation_id": step.operation_id}
    ]
    retrying.save()
    # failures
    for _ in range(2):
        failed = execution_make(
            status="FAILED",
            has_failures=True,
            error_type="PaymentDeclined",
            error_message="The card issuer declined the charge of 1250.50 EUR (insufficient funds)",
        )
        operation_make(
            failed,
            name="charge_card",
            status="FAILED",
            attempts=3,
            error_type="PaymentDeclined",
            error_message="declined",
        )
    invalid = execution_make(
        status="FAILED",
        has_failures=True,
        input=ORDER_INPUT,
        error_type="InvalidOrderError",
        error_message="amount must be positive",
    )
    crashed = execution_make(status="RUNNING", has_failures=True)
    invocation_make(crashed, start_offset=1, seconds=1, error_type="Runtime.ExitError", error_message="exit 137")
    # timeouts: an expired approval
    expired = execution_make(
        status="SUCCEEDED",
        input=ORDER_INPUT,
        result={"orderId": "ord-expired-1", "outcome": "expired"},
        ended_at=now - timedelta(minutes=2),
    )
    callback_make(expired, status="TIMED_OUT", ended_at=now - timedelta(minutes=3))
    return waiting, invalid


def _check(page, label):
    assert_no_horizontal_scroll(page, label)
    violations = axe_serious(page)
    assert not violations, axe_report(violations)


def test_triage_pages_detail_and_confirmation_at_both_widths(
    browser_login, admin_user, live_server, screenshot_dir, settings
):
    settings.READ_ONLY = False
    settings.TIMELINE_REFRESH_SECONDS = 1
    waiting, _ = _rows()
    Decision.objects.create(
        order_id="1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        execution_arn=waiting.arn,
        decision="approve",
        username="ann",
        outcome="closed",
    )
    page = browser_login(admin_user)
    pages = {
        "triage-attention": "/executions/attention/",
        "triage-failures": "/executions/failures/?since=all",
        "triage-timeouts": "/executions/timeouts/",
        "triage-failures-empty": "/executions/failures/?function=NoSuchFunction",
        "execution-order-running": f"/executions/{waiting.pk}/",
        "confirm-fail-callback": f"/executions/{waiting.pk}/confirm/fail_callback?op=cb-1",
    }
    for name, path in pages.items():
        screenshot_both(page, live_server.url + path, screenshot_dir, name)
        for width in (390, 1440):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            _check(page, f"{path} at {width}px")

    # the failures list groups by error type, biggest group first
    page.goto(live_server.url + "/executions/failures/?since=all")
    heads = page.locator(".grouphead .glabel").all_inner_texts()
    assert heads[0] == "PaymentDeclined"

    # the bulk failure's confirmation step at phone width
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(live_server.url + "/executions/timeouts/")
    page.locator('#overdue input[name="targets"]').first.check(force=True)
    page.fill('#bulk-fail input[name="reason"]', "approval window over")
    page.click("#bulk-fail button[type=submit]")
    page.wait_for_selector("#confirm")
    assert "Ada Lovelace Industries" in page.inner_text("#confirm") and "1,250.50" in page.inner_text("#confirm")
    page.screenshot(path=str(screenshot_dir / "confirm-bulk-fail-phone.png"), full_page=True)
    _check(page, "bulk confirmation at 390px")
    # and the bulk pause's, from the executions list
    page.goto(live_server.url + f"/executions/?q={waiting.name}")
    page.locator('#exec-table input[name="targets"]').first.check(force=True)
    page.fill('#bulk-lifecycle input[name="reason"]', "database upgrade")
    page.click("#bulk-lifecycle button[formaction$='/executions/pause']")
    page.wait_for_selector("#confirm")
    assert "Ada Lovelace Industries" in page.inner_text("#confirm")
    page.screenshot(path=str(screenshot_dir / "confirm-bulk-pause-phone.png"), full_page=True)
    _check(page, "bulk pause confirmation at 390px")
    page.set_viewport_size({"width": 1440, "height": 900})

    # the confirmation works without JavaScript's help: a plain form, the checkbox required
    page.goto(live_server.url + f"/executions/{waiting.pk}/confirm/fail_callback?op=cb-1")
    assert "Ada Lovelace Industries" in page.inner_text("#confirm")
    assert page.locator('#confirm input[name="confirm"][required]').count() == 1
    # dark theme: still readable
    page.emulate_media(color_scheme="dark")
    for path in (f"/executions/{waiting.pk}/confirm/fail_callback?op=cb-1", "/executions/failures/?since=all"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        _check(page, f"{path} in the dark theme")
    page.screenshot(path=str(screenshot_dir / "triage-failures-dark.png"), full_page=True)


def test_a_running_execution_refreshes_its_summary_and_loads_its_trail(
    browser_login, operator, live_server, settings, screenshot_dir
):
    settings.TIMELINE_REFRESH_SECONDS = 1
    execution = _order_execution()
    Decision.objects.create(
        order_id="1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        execution_arn=execution.arn,
        decision="reject",
        username="bob",
        outcome="failed",
    )
    page = browser_login(operator, viewport=(390, 900))
    page.goto(f"{live_server.url}/executions/{execution.pk}/")
    page.wait_for_selector("#activity ol.activity")  # the trail came in with htmx
    assert "Reject attempt" in page.inner_text("#activity")
    page.wait_for_load_state("networkidle")
    assert_no_horizontal_scroll(page, "execution page with its trail at 390px")
    # the keyboard is inside the refreshing region: it is not replaced under it
    page.focus("#live .headactions a")
    marker = page.evaluate(
        "() => { document.activeElement.dataset.mark = 'kept'; return document.activeElement.outerHTML; }"
    )
    page.wait_for_timeout(2500)  # two refresh periods
    assert page.evaluate("() => document.activeElement.dataset.mark") == "kept", marker
    page.evaluate("() => document.activeElement.blur()")
    # the execution ends: the summary shows it without a reload, and stops refreshing
    Execution.objects.filter(pk=execution.pk).update(
        status="SUCCEEDED",
        ended_at=timezone.now(),
        result={"orderId": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "outcome": "rejected"},
    )
    page.wait_for_selector("#live .pill.outcome.rejected", timeout=10_000)
    assert page.locator("#live[hx-trigger]").count() == 0
    page.screenshot(path=str(screenshot_dir / "execution-refreshed-phone.png"), full_page=True)
