"""One way to show time, in Chromium: the inbox, an order, the decision log and the notifications list at 1440 and
390 px with absolute times (the default), then with relative times chosen on /account/; ids carry copy buttons."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.approvals.conftest import private_table  # noqa: F401  (the fixture)
from tests.approvals.test_browser import DEMO_IDS, _demo_orders
from tests.approvals.test_browser_fast import _decisions
from tests.browser_support import screenshot_both
from tests.notifications.test_pages_browser import _notifications_make

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

ABSOLUTE = re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}(:\d{2})? UTC$")
RELATIVE = re.compile(r"^(just now|in .+|.+ ago)$")


@pytest.fixture(autouse=True)
def roles_present(transactional_db):
    from django.contrib.auth.models import Group

    from core.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


def _times(page) -> list[tuple[str, str]]:
    return page.locator("main time").evaluate_all("els => els.map(e => [e.textContent.trim(), e.title])")


def test_instants_both_ways_on_four_pages(
    browser_login,
    approver,
    admin_user,
    private_table,  # noqa: F811
    live_server,
    screenshot_dir,
    settings,
):
    settings.APPROVALS_REFRESH_SECONDS = 600
    now = datetime.now(UTC)
    private_table(_demo_orders(now))
    _decisions(approver, now)
    _notifications_make()
    page = browser_login(admin_user)
    pages = {
        "time-inbox": f"{live_server.url}{reverse('approvals:inbox')}",
        "time-order": f"{live_server.url}{reverse('approvals:order', args=[DEMO_IDS[1]])}",
        "time-decisions": f"{live_server.url}{reverse('approvals:decisions')}",
        "time-notifications": f"{live_server.url}{reverse('notifications:list')}",
    }
    for mode, pattern, other in (("absolute", ABSOLUTE, RELATIVE), ("relative", RELATIVE, ABSOLUTE)):
        page.goto(f"{live_server.url}/account/")
        page.check(f"input[name=time_display][value={mode}]")
        page.click("main button[type=submit]")
        for name, url in pages.items():
            screenshot_both(page, url, screenshot_dir, f"{name}-{mode}")  # asserts no sideways scroll at 390 px
            if name == "time-inbox":
                continue  # the inbox shows ages and countdowns (durations); its instants are hover titles
            times = _times(page)
            assert times, f"{name}: no <time> element"
            for shown, title in times:
                assert pattern.match(shown), f"{name} ({mode}): {shown!r}"
                assert other.match(title), f"{name} ({mode}) title: {title!r}"

    # ids carry copy buttons; the callback id (a secret) never does
    page.goto(pages["time-order"])
    copies = page.locator("[data-copy]").evaluate_all("els => els.map(e => e.dataset.copy)")
    assert DEMO_IDS[1] in copies and all(not value.startswith("cb-") for value in copies)
    page.goto(pages["time-inbox"])
    expect(page.locator(f"#order-{DEMO_IDS[1]} td.oid [data-copy]")).to_have_attribute("data-copy", DEMO_IDS[1])
    title = page.locator(f"#order-{DEMO_IDS[1]} td.age").get_attribute("title")
    assert ABSOLUTE.match(title.removeprefix("Created ")), title
