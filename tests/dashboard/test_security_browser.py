"""Sign-in, lockout and banners in headless Chromium, under the Content-Security-Policy (no violations)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def roles_present(transactional_db):
    """Transactional tests flush the database, data-migrated groups included: put the roles back."""
    from django.contrib.auth.models import Group

    from core.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


def _watch(page) -> list[str]:
    """Console messages that report a Content-Security-Policy violation or a script error."""
    problems: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_login_and_lockout_pages(browser, live_server, approver, screenshot_dir):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems = _watch(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.screenshot(path=str(screenshot_dir / "security-login.png"), full_page=True)
    for _ in range(5):
        page.fill("#id_username", "approver")
        page.fill("#id_password", "not-the-password")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        if "Sign-in locked" in page.content():
            break
        assert "didn't match" in page.content()
    assert "Sign-in locked" in page.content() and "Try again at" in page.content()
    page.screenshot(path=str(screenshot_dir / "security-lockout.png"), full_page=True)
    assert problems == []
    context.close()


def test_pages_with_the_banners_work_under_the_policy(browser, operator, live_server, settings, screenshot_dir):
    settings.READ_ONLY = True
    settings.LOCAL_MODE = True
    settings.LAMBDA_ENDPOINT_URL = None
    settings.DYNAMODB_ENDPOINT_URL = None
    context = browser.new_context(viewport={"width": 1440, "height": 900})  # the policy enforced
    page = context.new_page()
    problems = _watch(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", operator.username)
    page.fill("#id_password", "pw-" + operator.username)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    for path in ("/", "/executions/", "/executions/actions/", "/approvals/decisions/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert "Read-only mode" in page.content() and "real AWS account" in page.content(), path
    page.goto(f"{live_server.url}/executions/")
    page.wait_for_timeout(1500)  # htmx is running (polls, filters) without eval
    page.screenshot(path=str(screenshot_dir / "security-banners.png"), full_page=True)
    assert problems == []
    context.close()
