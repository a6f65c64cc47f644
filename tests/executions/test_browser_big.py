"""A 3,000-operation execution's page in headless Chromium: light at first load, its big map expanded on
demand; screenshots under test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.executions.big_history import history_import

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.browser]

# Every node (elements, text, comments), the strictest reading of the DOM budget.
DOM_NODES = """() => {
  const walker = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
  let count = 0;
  while (walker.nextNode()) count++;
  return count;
}"""
CENTER = "row => row.scrollIntoView({block: 'center'})"


@pytest.fixture(autouse=True)
def roles_present(transactional_db):
    """Transactional tests flush the database, data-migrated groups included: put the roles back."""
    from django.contrib.auth.models import Group

    from core.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


def test_big_execution_page_collapsed_and_expanded(browser_login, operator, live_server, screenshot_dir):
    execution = history_import(3000, name="big-batch")
    page = browser_login(operator)
    page.goto(f"{live_server.url}/executions/{execution.pk}/")
    timeline = page.locator("#timeline")
    fan = timeline.locator('.tl-row[data-key="fan"]')
    expect(fan).to_be_visible()
    nodes = page.evaluate(DOM_NODES)
    assert nodes < 5000, nodes
    expect(timeline.locator(".tl-summary .chip.FAILED")).to_have_text("3 failed")
    expect(timeline.locator('.tl-listed[data-key="fan-1234"]')).to_contain_text("item 1234: amount must be positive")
    fan.evaluate(CENTER)
    page.screenshot(path=str(screenshot_dir / "execution-big-collapsed.png"), full_page=False)
    timeline.screenshot(path=str(screenshot_dir / "execution-big-collapsed-timeline.png"))

    fan.locator(".tl-toggle").click()
    children = timeline.locator('.tl-children[data-group="fan"] .tl-row[data-parent="fan"]:not(.tl-listed)')
    expect(children).to_have_count(50)
    expect(children.first).to_have_attribute("data-key", "fan-493")  # failures first
    more = timeline.locator('.tl-children[data-group="fan"] [data-children-more]')
    expect(more).to_be_visible()
    more.click()
    expect(children).to_have_count(100)
    # The rows listed in the lane (failures first) are among the children now: the listed copies step aside.
    expect(timeline.locator('.tl-listed[data-key="fan-1234"][data-parent="fan"]')).to_be_hidden()
    fan.evaluate(CENTER)
    page.screenshot(path=str(screenshot_dir / "execution-big-expanded.png"), full_page=False)
    timeline.screenshot(path=str(screenshot_dir / "execution-big-expanded-timeline.png"))
    expanded_nodes = page.evaluate(DOM_NODES)
    print(f"DOM nodes: {nodes} at first load, {expanded_nodes} with two pages of the map's children")

    # Collapsing hides the children again; re-opening shows them without a new request.
    fan.locator(".tl-toggle").click()
    expect(children.first).to_be_hidden()
    fan.locator(".tl-toggle").click()
    expect(children.first).to_be_visible()
    # The other lazy groups open on demand the same way, one level down.
    iteration = children.first
    iteration.locator(".tl-toggle").click()
    expect(timeline.locator('.tl-children[data-group="fan-493"] .tl-row[data-key="fan-493-s"]')).to_be_visible()
