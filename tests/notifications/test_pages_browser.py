"""The notification pages in headless Chromium, with screenshots under test-artifacts/screenshots/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from core.roles import ALL_ROLES, APPROVERS, OPERATORS
from notifications.models import Channel, Kind, Mode, Notification, Preference, Status
from notifications.preferences import choices_for, unsubscribe_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

WEBHOOK = "https://hooks.example.com/services/T0001/B0001/abcdefSECRET"


@pytest.fixture(autouse=True)
def roles_present(transactional_db):
    """Transactional tests flush the database, data-migrated groups included: put the roles back."""
    from django.contrib.auth.models import Group

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


@pytest.fixture
def dana(roles_present, django_user_model):
    """An approver who is also an operator, with an email address."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="dana", password="pw-dana", email="dana.lead@example.com")
    user.groups.add(*Group.objects.filter(name__in=[APPROVERS, OPERATORS]))
    return user


def test_preferences_in_the_browser(browser_login, dana, live_server, screenshot_dir, settings):
    settings.NOTIFY_WEBHOOK_URLS = [WEBHOOK]
    page = browser_login(dana)
    page.goto(f"{live_server.url}{reverse('notifications:preferences')}")
    rows = page.locator("tr.pref-row")
    expect(rows).to_have_count(4)  # orders, reminders, own outcomes, execution attention
    assert page.locator("tr[data-kind=execution_attention] select").input_value() == Mode.DIGEST
    assert WEBHOOK not in page.content()

    # Turn reminders off (the switch is a real checkbox), new orders to a digest, then save.
    reminder = page.locator("tr[data-kind=order_reminder]")
    reminder.locator("label.switch").click()
    expect(reminder.locator("input[type=checkbox]")).not_to_be_checked()
    page.select_option("tr[data-kind=order_pending] select", Mode.DIGEST)
    page.click("button:has-text('Save settings')")
    expect(page.locator(".msg-success")).to_contain_text("Notification settings saved")
    expect(reminder.locator("input[type=checkbox]")).not_to_be_checked()
    expect(page.locator("tr[data-kind=order_pending] .src.changed")).to_have_count(1)
    expect(page.locator("tr[data-kind=order_outcome] .src.default")).to_have_count(1)
    choices = choices_for(dana)
    assert not choices[Kind.ORDER_REMINDER].enabled
    assert choices[Kind.ORDER_PENDING].mode == Mode.DIGEST
    page.screenshot(path=str(screenshot_dir / "notifications-preferences.png"), full_page=True)

    phone = browser_login(dana, viewport=(390, 844))
    phone.goto(f"{live_server.url}{reverse('notifications:preferences')}")
    expect(phone.locator("tr.pref-row")).to_have_count(4)
    # Nothing is wider than the phone's screen (the rows stack).
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(screenshot_dir / "notifications-preferences-phone.png"), full_page=True)


def test_unsubscribe_in_the_browser(browser, dana, live_server, screenshot_dir):
    token = unsubscribe_token(user_id=dana.pk, kind=Kind.EXECUTION_ATTENTION)
    context = browser.new_context(viewport={"width": 1440, "height": 900})  # not signed in: opened from an email
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}{reverse('notifications:unsubscribe', args=[token])}")
        expect(page.locator("h1")).to_have_text("Turn off these emails?")
        expect(page.locator(".unsub")).to_contain_text("d•••@example.com")
        assert "dana.lead" not in page.content()
        assert choices_for(dana)[Kind.EXECUTION_ATTENTION].enabled  # opening the page changed nothing
        page.screenshot(path=str(screenshot_dir / "notifications-unsubscribe.png"), full_page=True)

        page.click("button:has-text('Turn off')")
        expect(page.locator("h1")).to_have_text("These emails are off")
        expect(page.locator(".msg-success")).to_contain_text("Done")
        page.screenshot(path=str(screenshot_dir / "notifications-unsubscribe-done.png"), full_page=True)
        assert not choices_for(dana)[Kind.EXECUTION_ATTENTION].enabled
        assert Preference.objects.get(user=dana).mode == Mode.DIGEST
        assert not page.locator(".usermenu").count()  # still nobody signed in

        page.goto(f"{live_server.url}{reverse('notifications:unsubscribe', args=[token[:-4] + 'abcd'])}")
        expect(page.locator("h1")).to_contain_text("400")
        expect(page.locator(".error-page")).to_contain_text("This unsubscribe link is not valid")
    finally:
        context.close()


def _notifications_make() -> None:
    now = timezone.now()
    rows = [
        (Kind.ORDER_PENDING, "5d0c8c1e-order-a", "dana.lead@example.com", Channel.EMAIL, Status.SENT, 1, ""),
        (Kind.ORDER_PENDING, "5d0c8c1e-order-a", WEBHOOK, Channel.WEBHOOK, Status.SENT, 1, ""),
        (Kind.ORDER_REMINDER, "5d0c8c1e-order-a@0.5", "dana.lead@example.com", Channel.EMAIL, Status.SKIPPED, 0, ""),
        (
            Kind.ORDER_ESCALATION,
            "5d0c8c1e-order-a@0.9",
            "admin@example.com",
            Channel.EMAIL,
            Status.PENDING,
            2,
            "SMTPConnectError: (421, 'Service not available, closing transmission channel')",
        ),
        (
            Kind.ORDER_OUTCOME,
            "7f1e22aa-order-b:rejected",
            "requester@example.com",
            Channel.EMAIL,
            Status.FAILED,
            5,
            "SMTPRecipientsRefused: {'requester@example.com': (550, b'5.1.1 Mailbox unavailable')}",
        ),
        (Kind.ORDER_OUTCOME, "7f1e22aa-order-b:rejected", WEBHOOK, Channel.WEBHOOK, Status.SENT, 3, ""),
    ]
    for i, (kind, subject, recipient, channel, status, attempts, error) in enumerate(rows):
        Notification.objects.create(
            kind=kind,
            subject=subject,
            recipient=recipient,
            channel=channel,
            status=status,
            attempts=attempts,
            error=error,
            dedupe_key=f"{i:064x}",
            created_at=now - timedelta(minutes=40 - i * 5),
            next_attempt_at=now + timedelta(minutes=2),
            sent_at=now - timedelta(minutes=39 - i * 5) if status == Status.SENT else None,
        )
    digest = Notification.objects.create(
        kind=Kind.EXECUTION_ATTENTION,
        subject="digest:operator@example.com",
        recipient="operator@example.com",
        channel=Channel.EMAIL,
        mode=Mode.DIGEST,
        status=Status.SENT,
        attempts=1,
        dedupe_key="d" * 64,
        created_at=now - timedelta(minutes=1),
        sent_at=now - timedelta(seconds=50),
    )
    for i, reason in enumerate(["callback_sla", "retrying", "FAILED"]):
        Notification.objects.create(
            kind=Kind.EXECUTION_ATTENTION,
            subject=f"arn:aws:lambda:us-east-1:123456789012:function:OrderApproval/durable-execution/e-{i}#{reason}",
            recipient="operator@example.com",
            channel=Channel.EMAIL,
            mode=Mode.DIGEST,
            status=Status.DIGESTED,
            digest=digest,
            dedupe_key=f"{i + 100:064x}",
            created_at=now - timedelta(minutes=3 + i),
        )


def test_admin_list_in_the_browser(browser_login, admin_user, live_server, screenshot_dir):
    _notifications_make()
    page = browser_login(admin_user)
    page.goto(f"{live_server.url}{reverse('notifications:list')}")
    table = page.locator("table.notif-table tbody tr")
    expect(table).to_have_count(10)
    expect(page.locator(".count-link")).to_have_text("3 items")
    assert "abcdefSECRET" not in page.content()
    expect(page.locator(".mainnav a.active")).to_have_text("Notifications")
    page.screenshot(path=str(screenshot_dir / "notifications-admin.png"), full_page=True)

    page.select_option("#id_status", Status.FAILED)
    page.click("button:has-text('Apply')")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Mailbox unavailable")
    assert "status=failed" in page.url

    page.goto(f"{live_server.url}{reverse('notifications:list')}")
    page.click(".count-link")
    expect(table).to_have_count(4)
    page.fill("#id_recipient", "nobody-here")
    page.click("button:has-text('Apply')")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("No notification matches")
