"""The shell of every page in headless Chromium at 1440 and 390 px: navigation per role, skip link, menu,
search box, error pages, dark theme, keeping the place across auto-refreshes; axe-core finds no serious or
critical violation and no page scrolls sideways."""

from __future__ import annotations

import pytest

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
