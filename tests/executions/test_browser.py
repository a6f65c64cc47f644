"""Execution pages in headless Chromium, with screenshots of every page under test-artifacts/screenshots/."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from executions.models import Execution, OperatorAction
from tests.executions.page_factories import callback_make, execution_make, function_make
from tests.executions.sync_support import execution_synced, workflow_run
from tests.orders import execution_wait, order_for_execution, order_get, order_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def roles_present(transactional_db):
    """Transactional tests flush the database, data-migrated groups included: put the roles back."""
    from django.contrib.auth.models import Group

    from core.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


@pytest.fixture(autouse=True)
def stack(settings, aws, roles_present):
    settings.DURABLE_API_MAX_RPS = 500
    settings.READ_ONLY = False
    return aws


def test_list_filters_in_the_browser(browser_login, operator, live_server, screenshot_dir):
    orders, billing = function_make("OrderApproval"), function_make("Billing")
    now = timezone.now()
    for i in range(6):
        execution_make(function=orders, name=f"order-{i}", status="SUCCEEDED", duration_ms=1200 * (i + 1))
    execution_make(
        function=orders, name="order-failed", status="FAILED", error_type="InvalidOrderError", has_failures=True
    )
    execution_make(function=billing, name="billing-failed", status="FAILED", error_type="CardDeclined")
    execution_make(
        function=orders,
        name="order-waiting",
        needs_attention=True,
        attention_reasons=[{"code": "callback_sla", "message": "Callback approval open for 26 h"}],
        activity={
            "kind": "callback",
            "name": "approval",
            "since": (now - timedelta(hours=26)).isoformat(),
            "deadline": (now + timedelta(hours=2)).isoformat(),
        },
    )
    execution_make(function=orders, name="order-retrying", activity={"kind": "retry", "name": "charge", "attempt": 3})
    execution_make(
        function=billing,
        name="billing-sleeping",
        activity={"kind": "wait", "name": "cool_down", "until": (now + timedelta(minutes=7)).isoformat()},
    )

    page = browser_login(operator)
    page.goto(f"{live_server.url}/executions/")
    page.wait_for_selector("table.executions")
    assert page.locator("table.executions tbody tr").count() == 11
    assert page.locator("text=waiting on callback").count() == 1
    page.screenshot(path=str(screenshot_dir / "executions-list.png"), full_page=True)

    # Status chips and the function select filter through htmx; the URL follows (shareable).
    page.locator("label.chip", has_text="Failed").click()
    expect(page.locator("table.executions tbody tr")).to_have_count(2)  # no string predicate: the CSP forbids eval
    assert "status=FAILED" in page.url
    page.select_option("#id_function", "OrderApproval")
    expect(page.locator("table.executions tbody tr")).to_have_count(1)
    assert "function=OrderApproval" in page.url
    assert page.locator("table.executions tbody").inner_text().count("order-failed") == 1
    page.screenshot(path=str(screenshot_dir / "executions-list-filtered.png"), full_page=True)

    # Reloading the shared URL gives the same table without JavaScript's help.
    page.goto(page.url)
    assert page.locator("table.executions tbody tr").count() == 1
    page.goto(f"{live_server.url}/executions/?q=sleep")
    assert page.locator("table.executions tbody tr").count() == 1
    page.goto(f"{live_server.url}/executions/?attention=on")
    assert "order-waiting" in page.locator("table.executions tbody").inner_text()


def test_timeline_of_an_order_approval_execution(
    browser_login, operator, live_server, lambda_client, dynamodb_client, stack, screenshot_dir
):
    arn = order_start(lambda_client)
    order = order_for_execution(dynamodb_client, stack.table, arn)
    lambda_client.send_durable_execution_callback_success(
        CallbackId=order["callbackId"],
        Result=json.dumps({"approved": True, "decidedBy": "dana@example.com", "comment": "ok"}).encode(),
    )
    execution_wait(lambda_client, arn)
    execution = execution_synced("OrderApproval", arn, until=lambda e: e.status == "SUCCEEDED" and e.history_complete)

    page = browser_login(operator)
    page.goto(f"{live_server.url}/executions/{execution.pk}/")
    timeline = page.locator("[data-timeline]")
    timeline.wait_for()
    names = timeline.locator(".tl-body .tl-row[data-key] .tl-name").all_inner_texts()
    for step in ("create_order", "validate_order", "approval", "store_callback", "process_order", "send_notification"):
        assert step in names
    assert timeline.locator(".tl-body .tl-row[data-key] .seg").count() >= 6
    invocations = timeline.locator(".tl-invocations .seg.invocation")
    assert invocations.count() >= 2  # suspended on the callback, then resumed
    assert "wall-clock" in page.locator(".tl-foot").inner_text()
    assert order["callbackId"] not in page.content()
    # Click a bar: its details open in the side panel.
    timeline.locator('.tl-row[data-key]:has(.tl-name:text-is("approval")) .tl-label').click()
    panel = page.locator(".tl-panel")
    panel.wait_for(state="visible")
    assert "callback" in panel.inner_text()
    page.screenshot(path=str(screenshot_dir / "execution-detail-order.png"), full_page=True)
    page.locator("#timeline").screenshot(path=str(screenshot_dir / "timeline-order.png"))
    assert page.locator(f'a[href="/approvals/{order["orderId"]}/"]').count() >= 1


def test_timeline_of_a_rich_workflow(browser_login, operator, live_server, lambda_client, screenshot_dir):
    arn = workflow_run(lambda_client, "SyncConcurrency")
    execution = execution_synced("SyncConcurrency", arn, until=lambda e: e.history_complete)
    page = browser_login(operator)
    page.goto(f"{live_server.url}/executions/{execution.pk}/")
    rows = page.locator(".tl-body .tl-row[data-key]")
    total = rows.count()
    assert total >= 15
    # Collapse the map: its iterations disappear, expand brings them back.
    squares = page.locator('.tl-row[data-key]:has(.tl-name:text-is("squares"))')
    squares.locator(".tl-toggle").click()
    assert page.locator(".tl-body .tl-row[data-key]:visible").count() < total
    squares.locator(".tl-toggle").click()
    assert page.locator(".tl-body .tl-row[data-key]:visible").count() == total
    page.locator("[data-zoom=in]").click()
    assert page.locator("[data-zoom=reset]").inner_text() == "200 %"
    page.locator("[data-zoom=reset]").click()
    page.screenshot(path=str(screenshot_dir / "execution-detail-rich.png"), full_page=True)
    page.locator("#timeline").screenshot(path=str(screenshot_dir / "timeline-rich.png"))
    arn = workflow_run(lambda_client, "SyncRetries", {"fail_until": 5})
    execution = execution_synced("SyncRetries", arn, until=lambda e: e.history_complete)
    page.goto(f"{live_server.url}/executions/{execution.pk}/")
    assert page.locator(".tl-row[data-key] .seg.gap").count() >= 2  # delays between attempts
    page.screenshot(path=str(screenshot_dir / "execution-detail-retries.png"), full_page=True)
    page.locator("#timeline").screenshot(path=str(screenshot_dir / "timeline-retries.png"))


def test_admin_fails_an_overdue_callback_from_the_timeouts_list(
    browser_login, admin_user, live_server, lambda_client, dynamodb_client, stack, settings, screenshot_dir
):
    settings.ATTENTION_CALLBACK_SLA_SECONDS = 1
    arn = order_start(lambda_client)
    order = order_for_execution(dynamodb_client, stack.table, arn)
    execution_synced("OrderApproval", arn)
    execution_make(
        name="already-timed-out",
        status="TIMED_OUT",
        attention_reasons=[{"code": "timed_out", "message": "The execution timed out."}],
        needs_attention=True,
    )

    page = browser_login(admin_user)
    execution = Execution.objects.get(arn=arn)
    page.goto(f"{live_server.url}/executions/{execution.pk}/")
    assert page.locator("#waiting").inner_text().count("approval") >= 1
    assert order["callbackId"] not in page.content()
    page.screenshot(path=str(screenshot_dir / "execution-detail-waiting-admin.png"), full_page=True)
    page.goto(f"{live_server.url}/executions/timeouts/")
    # Other tests' executions share the emulator, so pick this execution's row.
    row = page.locator("#overdue tbody tr", has_text=execution.name)
    row.wait_for()
    page.screenshot(path=str(screenshot_dir / "timeouts.png"), full_page=True)
    row.locator('input[name="targets"]').check(force=True)  # the sticky table header may overlap it
    page.fill('#bulk-fail input[name="reason"]', "approval window over")
    page.click("#bulk-fail button[type=submit]")
    # the confirmation step names the order, its customer and amount, and what happens
    page.wait_for_selector("#confirm")
    assert order["orderId"] in page.inner_text("#confirm") and "becomes failed" in page.inner_text("#confirm")
    page.screenshot(path=str(screenshot_dir / "timeouts-bulk-confirm.png"), full_page=True)
    page.check('#confirm input[name="confirm"]')
    page.click("#confirm button[type=submit]")
    page.wait_for_selector("#bulk-results")
    outcome = page.locator("#bulk-results tbody tr").first
    assert outcome.get_attribute("data-outcome") == "succeeded"
    page.screenshot(path=str(screenshot_dir / "timeouts-after-bulk-fail.png"), full_page=True)

    assert execution_wait(lambda_client, arn)["Status"] == "SUCCEEDED"
    stored = order_get(dynamodb_client, stack.table, order["orderId"])
    assert stored["status"] == "failed" and stored["failureType"] == "ManualFailure"
    audit = OperatorAction.objects.get()
    assert (audit.username, audit.outcome, audit.reason) == ("admin", "succeeded", "approval window over")

    page.goto(f"{live_server.url}/executions/actions/")
    assert "approval window over" in page.locator("table.data").inner_text()
    page.screenshot(path=str(screenshot_dir / "actions-log.png"), full_page=True)


def test_screenshots_of_the_other_pages(browser_login, operator, admin_user, live_server, screenshot_dir):
    function = function_make("OrderApproval")
    now = timezone.now()
    for day in range(14):
        for status, count in (
            ("SUCCEEDED", 6 + day % 4),
            ("FAILED", day % 3),
            ("TIMED_OUT", day % 5 == 0),
            ("STOPPED", day % 7 == 0),
        ):
            for _ in range(int(count)):
                execution_make(
                    function=function,
                    status=status,
                    started_ago=timedelta(days=day, hours=1),
                    ended_at=now - timedelta(days=day),
                )
    stuck = execution_make(
        function=function,
        name="order-stuck",
        needs_attention=True,
        started_ago=timedelta(hours=30),
        attention_reasons=[{"code": "callback_sla", "message": "Callback approval open for 30 h"}],
        activity={"kind": "callback", "name": "approval", "since": (now - timedelta(hours=30)).isoformat()},
    )
    callback_make(stuck, opened_ago=timedelta(hours=30), timeout=None)
    execution_make(
        function=function,
        name="order-invalid",
        status="FAILED",
        has_failures=True,
        error_type="InvalidOrderError",
        error_message="amount must be positive",
    )
    from approvals.models import Decision

    for index, minutes in enumerate((0.4, 2, 3, 4, 8, 9, 12, 25, 40, 50, 70, 130, 300, 600, 1600)):
        decision = Decision.objects.create(
            order_id=f"o-{index}",
            decision="approve",
            username="dana",
            outcome="succeeded",
            order_created_at=now - timedelta(minutes=minutes),
        )
        Decision.objects.filter(pk=decision.pk).update(created_at=now)
    page = browser_login(operator)
    for path, name in (
        ("/", "overview"),
        ("/executions/attention/", "attention"),
        ("/executions/failures/?since=all", "failures"),
    ):
        page.goto(f"{live_server.url}{path}")
        assert page.locator("h1").count() == 1
        page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)
    # An operator posting an admin action (a hand-made form) gets the 403 page.
    page.goto(f"{live_server.url}/executions/{stuck.pk}/")
    with page.expect_navigation():
        page.evaluate(
            """(url) => {
                const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
                const form = document.createElement("form");
                form.method = "post"; form.action = url;
                for (const [k, v] of [["csrfmiddlewaretoken", token], ["reason", "x"], ["confirm", "yes"]]) {
                    const input = document.createElement("input");
                    input.name = k; input.value = v; form.appendChild(input);
                }
                document.body.appendChild(form); form.submit();
            }""",
            f"/executions/{stuck.pk}/stop",
        )
    assert "403" in page.locator("h1").inner_text()
    page.screenshot(path=str(screenshot_dir / "403.png"))
    assert not OperatorAction.objects.exists()
    from tests.executions.test_pages import _rich_execution

    rich = _rich_execution()
    admin = browser_login(admin_user)
    admin.goto(f"{live_server.url}/executions/{rich.pk}/")
    admin.screenshot(path=str(screenshot_dir / "execution-detail-factory.png"), full_page=True)
    admin.locator("#timeline").screenshot(path=str(screenshot_dir / "timeline-factory.png"))
    admin.goto(f"{live_server.url}/executions/{rich.pk}/?axis=full")
    admin.locator("#timeline").screenshot(path=str(screenshot_dir / "timeline-factory-full-axis.png"))
    admin.goto(f"{live_server.url}/executions/attention/")
    admin.screenshot(path=str(screenshot_dir / "attention-admin.png"), full_page=True)


def test_admin_stops_an_execution_from_its_page(browser_login, admin_user, live_server, lambda_client, screenshot_dir):
    from tests.executions.sync_support import workflow_start

    arn = workflow_start(lambda_client, "SyncHold", {"timeout": 3600})
    execution = execution_synced("SyncHold", arn, until=lambda e: e.operations.filter(op_type="callback").exists())
    page = browser_login(admin_user)
    page.goto(f"{live_server.url}/executions/{execution.pk}/")
    page.fill("#id_stop_reason", "stuck in a loop")
    page.check('#stop input[name="confirm"]')
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#stop button[type=submit]")  # htmx-boosted post, then the redirect is swapped in
    page.wait_for_selector(".msg-success")
    assert "Stop requested" in page.locator(".messages").inner_text()
    assert "Stopped" in page.locator("h1").inner_text()
    assert page.locator("#stop").count() == 0
    page.screenshot(path=str(screenshot_dir / "execution-detail-stopped.png"), full_page=True)
    assert lambda_client.get_durable_execution(DurableExecutionArn=arn)["Status"] == "STOPPED"
    audit = OperatorAction.objects.get()
    assert (audit.action, audit.reason, audit.outcome) == ("stop_execution", "stuck in a loop", "succeeded")


def test_pause_from_the_detail_page_and_bulk_selection(
    browser_login, admin_user, live_server, lambda_client, screenshot_dir, settings
):
    """An admin pauses a waiting execution from its page (screenshot of the paused page), then selects
    executions in the list for a maintenance window (screenshot of the list with the bulk bar)."""
    from tests.executions.sync_support import workflow_start

    settings.ACTION_RESYNC_SECONDS = 1
    arn = workflow_start(lambda_client, "SyncWaits", {"first": 900, "second": 1})
    execution = execution_synced("SyncWaits", arn, until=lambda e: e.operations.filter(op_type="wait").exists())
    other = workflow_start(lambda_client, "SyncWaits", {"first": 900, "second": 1})
    execution_synced("SyncWaits", other, until=lambda e: e.operations.filter(op_type="wait").exists())

    page = browser_login(admin_user)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server.url}/executions/{execution.pk}/")
    page.fill("#id_pause_reason", "maintenance")
    page.locator("#lifecycle input[name=confirm]").check()
    page.locator("#lifecycle button[type=submit]").click()
    page.wait_for_load_state("networkidle")

    from executions.sync import execution_history_sync

    def paused():
        execution_history_sync(execution_id=execution.pk)
        return Execution.objects.get(pk=execution.pk).status == "PAUSED"

    from tests.conftest import wait_until

    wait_until(paused, timeout=60, message="PAUSED")
    page.goto(f"{live_server.url}/executions/{execution.pk}/")
    assert "paused since" in page.locator(".doing-now").inner_text()
    assert page.locator("h1 .pill.PAUSED").count() == 1
    assert page.locator("#id_resume_reason").count() == 1
    page.screenshot(path=str(screenshot_dir / "execution-detail-paused.png"), full_page=True)

    page.goto(f"{live_server.url}/executions/?function=SyncWaits&status=RUNNING&status=PAUSED")
    boxes = page.locator('#exec-table input[name="targets"]')
    assert boxes.count() >= 2
    page.locator('#exec-table input[data-check-all="targets"]').check()
    assert all(box.is_checked() for box in boxes.all())
    page.fill('#bulk-lifecycle input[name="reason"]', "database upgrade")
    page.screenshot(path=str(screenshot_dir / "executions-list-bulk.png"), full_page=True)
    for stray in (arn, other):
        lambda_client.stop_durable_execution(DurableExecutionArn=stray)


def test_hardening_pages_in_the_browser(browser_login, admin_user, live_server, screenshot_dir):
    """A failing sync and a deep input on the detail page, a pending action in the log, the 400 page."""
    from executions.sync.history import history_sync_failed

    deep = '{"a":' * 800 + "1" + "}" * 800
    execution = execution_make(name="order-deep", status="RUNNING", input_raw=deep, input=None)
    history_sync_failed(execution_id=execution.pk, error=RecursionError("maximum recursion depth exceeded"))
    OperatorAction.objects.create(
        username=admin_user.username,
        action="stop_execution",
        execution=execution,
        execution_arn=execution.arn,
        reason="runaway",
        outcome="unknown",
        error="Read timeout on endpoint URL",
    )
    page = browser_login(admin_user)
    page.goto(f"{live_server.url}/executions/{execution.pk}/")
    expect(page.locator(".sync-error")).to_contain_text("The history sync of this execution is failing")
    expect(page.locator("pre.payload").first).to_contain_text("too deeply nested to display")
    page.screenshot(path=str(screenshot_dir / "execution-detail-sync-error.png"), full_page=False)
    page.goto(f"{live_server.url}/executions/actions/")
    expect(page.locator(".pill.pending")).to_contain_text("sent, not yet confirmed")
    page.screenshot(path=str(screenshot_dir / "actions-log-pending.png"), full_page=False)
    response = page.goto(f"{live_server.url}/executions/?after=forged")
    assert response.status == 400
    page.screenshot(path=str(screenshot_dir / "executions-bad-link.png"), full_page=False)
