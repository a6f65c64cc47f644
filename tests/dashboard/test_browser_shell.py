"""The shell of every page in headless Chromium at 1440 and 390 px: navigation per role, skip link, menu,
search box, error pages, dark theme, keeping the place across auto-refreshes; axe-core finds no serious or
critical violation and no page scrolls sideways."""

from __future__ import annotations

import pytest

from tests.approvals.conftest import private_table  # noqa: F401 - a fixture: an Orders table of the test's own
from tests.browser_support import assert_no_axe_serious, assert_no_horizontal_scroll, screenshot_both

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def roles_present(transactional_db):
    """Transactional tests flush the database, data-migrated groups included: put the roles back."""
    from django.contrib.auth.models import Group

    from core.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


def test_login_page(browser, live_server, screenshot_dir):
    context = browser.new_context()
    page = context.new_page()
    screenshot_both(page, f"{live_server.url}/accounts/login/", screenshot_dir, "shell-login")
    assert_no_axe_serious(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_no_axe_serious(page, "login at 390 px")
    assert_no_horizontal_scroll(page)
    context.close()


def _page(browser, live_server, user, *, width=1440, height=900, color_scheme="light"):
    """A signed-in page under the Content-Security-Policy (axe is injected through DevTools)."""
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=color_scheme)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: "Content Security Policy" in m.text and errors.append(m.text))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-" + user.username)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.errors = errors
    return context, page


def _nav_texts(page) -> list[str]:
    return page.locator("nav.mainnav a").evaluate_all(
        "links => links.map(a => [...a.childNodes].filter(n => n.nodeType === 3)"
        ".map(n => n.textContent).join('').trim())"
    )


def test_navigation_shows_what_each_role_can_use(browser, live_server, approver, operator, admin_user):
    expected = {
        approver: (["Approvals", "Decisions"], ["Overview", "Executions", "Failures"]),
        operator: (["Overview", "Executions", "Needs attention", "Failures", "Timeouts", "Decisions"], ["Approvals"]),
        admin_user: (["Overview", "Approvals", "Executions", "Admin actions", "Notifications"], []),
    }
    for user, (present, absent) in expected.items():
        context, page = _page(browser, live_server, user)
        page.goto(f"{live_server.url}/approvals/decisions/")
        texts = _nav_texts(page)
        assert all(name in texts for name in present), (user.username, texts)
        assert not any(name in texts for name in absent), (user.username, texts)
        current = page.locator("nav.mainnav a[aria-current=page]")
        assert current.count() == 1 and current.inner_text().strip() == "Decisions"
        assert page.errors == []
        context.close()


def test_overview_shell_at_both_widths(browser, live_server, operator, screenshot_dir):
    from tests.executions.page_factories import execution_make

    execution_make(status="FAILED", needs_attention=True)
    context, page = _page(browser, live_server, operator)
    screenshot_both(page, f"{live_server.url}/", screenshot_dir, "shell-overview")
    assert_no_axe_serious(page, "overview at 1440 px")
    # The skip link is the first Tab stop and moves focus to <main>.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skiplink"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # "/" focuses the search box, a GET form to /search with name=q.
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "q"
    assert page.locator("form.topsearch").get_attribute("action").rstrip("/").endswith("/search")
    assert page.locator("nav.mainnav a[aria-current=page]").inner_text().strip() == "Overview"
    assert page.locator("time[datetime][title]").count() >= 1

    # The phone: a Menu button holds the navigation; the page does not scroll sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/")
    assert not page.locator("nav.mainnav").is_visible()
    page.locator("summary.menubutton").click()
    assert page.locator("nav.mainnav a", has_text="Executions").is_visible()
    page.screenshot(path=str(screenshot_dir / "shell-overview-phone-menu.png"))
    assert_no_horizontal_scroll(page)
    assert_no_axe_serious(page, "overview at 390 px, menu open")
    page.keyboard.press("Escape")
    assert not page.locator("nav.mainnav").is_visible()
    assert page.errors == []
    context.close()


def test_dark_theme(browser, live_server, admin_user, screenshot_dir):
    context, page = _page(browser, live_server, admin_user, color_scheme="dark")
    page.goto(f"{live_server.url}/")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(11, 17, 32)", background
    page.screenshot(path=str(screenshot_dir / "shell-overview-dark.png"), full_page=True)
    assert_no_axe_serious(page, "overview, dark")
    page.goto(f"{live_server.url}/account/")
    page.screenshot(path=str(screenshot_dir / "shell-account-dark.png"), full_page=True)
    assert_no_axe_serious(page, "account, dark")
    context.close()


def test_account_page_switches_instants_to_relative(browser, live_server, operator, screenshot_dir):
    from tests.executions.page_factories import execution_make

    execution_make(status="FAILED", needs_attention=True)
    context, page = _page(browser, live_server, operator)
    screenshot_both(page, f"{live_server.url}/account/", screenshot_dir, "shell-account")
    assert_no_axe_serious(page, "account")
    page.goto(f"{live_server.url}/")
    assert " UTC" in page.locator("td time").first.inner_text()
    page.goto(f"{live_server.url}/account/")
    page.check("input[value=relative]")
    page.click("button[type=submit]:has-text('Save')")
    page.wait_for_load_state("networkidle")
    assert "times are now shown relative" in page.content()
    page.goto(f"{live_server.url}/")
    cell = page.locator("td time").first
    assert cell.inner_text().endswith("ago") and " UTC" in cell.get_attribute("title")
    context.close()


def test_error_pages(browser, live_server, approver, screenshot_dir, settings):
    context, page = _page(browser, live_server, approver)
    # A GET on a POST-only action address: a page that says what to do, with the navigation.
    response = page.goto(f"{live_server.url}/approvals/abc123/approve")
    assert response.status == 405
    assert "performs an action" in page.content() and "use its button" in page.content()
    assert page.locator("a.btn", has_text="Back to the page").get_attribute("href") == "/approvals/abc123/"
    assert page.locator("nav.mainnav").count() == 1
    assert_no_axe_serious(page, "405")
    screenshot_both(page, f"{live_server.url}/approvals/abc123/approve", screenshot_dir, "shell-405")
    screenshot_both(page, f"{live_server.url}/no/such/page/", screenshot_dir, "shell-404")
    assert_no_axe_serious(page, "404")

    # The 500 page as handler500 renders it, served at a console address (its stylesheet from the live server).
    from django.test import RequestFactory

    from dashboard.errors import server_error

    request = RequestFactory().get("/boom")
    request.id = "5f0c2a9e81d34b7c9a6e2f1d0b3c4a58"
    html = server_error(request).content.decode()
    page.route(f"{live_server.url}/boom", lambda route: route.fulfill(status=500, body=html, content_type="text/html"))
    screenshot_both(page, f"{live_server.url}/boom", screenshot_dir, "shell-500")
    assert page.locator("code", has_text=request.id).is_visible()
    assert page.locator("a", has_text="Overview").get_attribute("href") == "/"
    assert_no_axe_serious(page, "500")
    context.close()


def test_server_error_page_names_the_request_id(client, approver, settings):
    """The 500 page (handler500) is styled, names the request id and links back."""
    from django.test import RequestFactory

    from dashboard.errors import server_error

    request = RequestFactory().get("/boom")
    request.id = "0123456789abcdef"
    response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert "0123456789abcdef" in html and 'data-copy="0123456789abcdef"' in html
    assert "console.css" in html and 'href="/"' in html


def test_focus_stays_on_the_same_row_across_refreshes(browser, live_server, operator, settings, screenshot_dir):
    from datetime import timedelta

    from tests.executions.page_factories import execution_make

    settings.LIST_REFRESH_SECONDS = 1
    rows = [execution_make(started_ago=timedelta(minutes=10 - n)) for n in range(3)]
    target = rows[1]
    context, page = _page(browser, live_server, operator)
    page.goto(f"{live_server.url}/executions/")
    link = page.locator(f"#exec-{target.pk} td.name a")
    link.focus()
    page.evaluate("window.scrollTo(0, 40)")
    # Two refreshes, the first bringing a new execution at the top of the list.
    newer = execution_make(started_ago=timedelta(seconds=5))
    page.locator(f"#exec-{newer.pk}").wait_for(timeout=10000)
    announced = page.locator("#live-announcer").inner_text()
    page.wait_for_timeout(1500)
    assert page.evaluate("document.activeElement.closest('tr') && document.activeElement.closest('tr').id") == (
        f"exec-{target.pk}"
    )
    assert "1 new execution" in announced or "new execution" in page.locator("#live-announcer").inner_text()

    # Live / Paused: paused, no refresh brings the next new execution; the choice is remembered.
    toggle = page.locator("[data-live-toggle]")
    assert toggle.is_visible() and toggle.get_attribute("aria-pressed") == "true"
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "false" and "Paused" in toggle.inner_text()
    latest = execution_make(started_ago=timedelta(seconds=1))
    page.wait_for_timeout(2500)
    assert page.locator(f"#exec-{latest.pk}").count() == 0
    page.screenshot(path=str(screenshot_dir / "shell-executions-paused.png"))
    page.reload()
    assert page.locator("[data-live-toggle]").get_attribute("aria-pressed") == "false"
    page.locator("[data-live-toggle]").click()
    page.locator(f"#exec-{latest.pk}").wait_for(timeout=10000)
    assert page.errors == []
    context.close()


def test_inbox_refresh_keeps_focus_on_the_row_and_announces_new_orders(
    browser,
    live_server,
    approver,
    private_table,  # noqa: F811 - the fixture imported above
    settings,
    screenshot_dir,
):
    from datetime import UTC, datetime, timedelta

    from tests.approvals.conftest import order_item

    settings.APPROVALS_REFRESH_SECONDS = 1
    now = datetime.now(UTC)
    private_table(
        [
            order_item(created=now - timedelta(minutes=n), timeout=3600, order_id=f"keep-{n}", customer=f"Customer {n}")
            for n in range(1, 4)
        ]
    )
    context, page = _page(browser, live_server, approver)
    page.goto(f"{live_server.url}/approvals/")
    approve = page.locator("#order-keep-2 summary", has_text="Approve")
    approve.focus()
    # A new order arrives (the most urgent: it goes to the top), then two refreshes.
    private_table([order_item(created=now - timedelta(minutes=59), timeout=3600, order_id="keep-new")])
    page.locator("#order-keep-new").wait_for(timeout=10000)
    page.wait_for_function("document.getElementById('live-announcer').textContent.includes('new order')")
    page.wait_for_timeout(1500)
    focused = page.evaluate("[document.activeElement.tagName, document.activeElement.closest('tr')?.id]")
    assert focused == ["SUMMARY", "order-keep-2"]
    assert page.locator("#live-announcer").inner_text() == "1 new order"
    # The keyboard goes on from there: Enter opens that row's approval popover.
    page.keyboard.press("Enter")
    assert page.locator("#order-keep-2 details.decide[open]").count() == 1
    page.screenshot(path=str(screenshot_dir / "shell-inbox-focus-kept.png"))
    # The shell on a live page at the phone width: brand, Live toggle and Menu on one row, search under them.
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_dir / "shell-inbox-phone.png"))
    assert page.locator("[data-live-toggle]").is_visible() and page.locator("summary.menubutton").is_visible()
    assert page.locator("summary.menubutton .menubadge").inner_text().strip().isdigit()
    # The list's own "Live · updated …" follows the switch.
    assert page.locator(".freshness [data-live-word]").inner_text() == "Live"
    page.keyboard.press("Escape")
    page.locator("[data-live-toggle]").click()
    assert page.locator(".freshness [data-live-word]").inner_text() == "Paused"
    assert page.errors == []
    context.close()
