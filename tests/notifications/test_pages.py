"""Notification pages through the test client: a user's settings, the one-click unsubscribe, the admins' list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.roles import ADMINS, APPROVERS, OPERATORS
from notifications.models import Channel, Kind, Mode, Notification, Preference, Status
from notifications.preferences import choices_for, unsubscribe_token

pytestmark = pytest.mark.django_db

PREFS = "/account/notifications/"
LIST = "/notifications/"


def _row(n: int = 0, **fields) -> Notification:
    values = {
        "kind": Kind.ORDER_PENDING,
        "subject": f"order-{n}",
        "recipient": f"person{n}@example.com",
        "channel": Channel.EMAIL,
        "dedupe_key": f"{n:064x}",
        "created_at": timezone.now() - timedelta(minutes=100 - n),
    }
    values.update(fields)
    return Notification.objects.create(**values)


def _approver_form(**changes) -> dict:
    """An approver's whole form as the page submits it (every kind on, immediately), with `changes`."""
    data = {}
    for kind in (Kind.ORDER_PENDING, Kind.ORDER_REMINDER, Kind.ORDER_OUTCOME):
        data[f"{kind}-email"] = "on"
        data[f"{kind}-mode"] = Mode.IMMEDIATE
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _with_email(user, address: str):
    user.email = address
    user.save(update_fields=["email"])
    return user


# --- URLs and roles -----------------------------------------------------------------------------


def test_urls_are_namespaced():
    assert reverse("notifications:preferences") == PREFS
    assert reverse("notifications:list") == LIST
    assert reverse("notifications:unsubscribe", args=["abc:def"]) == "/account/notifications/unsubscribe/abc:def/"


def test_the_emails_unsubscribe_link_opens_this_page():
    from notifications.messages import UNSUBSCRIBE_PATH

    token = unsubscribe_token(user_id=1, kind=Kind.ORDER_PENDING)
    assert UNSUBSCRIBE_PATH.format(token=token) == reverse("notifications:unsubscribe", args=[token])


def test_signed_out_users_are_sent_to_the_login_page(client):
    for url in (PREFS, LIST):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["approver_client", "operator_client"])
def test_only_admins_see_every_notification(request, who):
    _row(1, recipient="secret-person@example.com")
    response = request.getfixturevalue(who).get(LIST)
    assert response.status_code == 403
    assert b"secret-person" not in response.content


def test_a_user_without_a_role_has_settings_but_no_list(client, django_user_model):
    user = django_user_model.objects.create_user(username="nobody", password="pw-nobody", email="nobody@example.com")
    client.force_login(user)
    assert client.get(LIST).status_code == 403
    response = client.get(PREFS)
    assert response.status_code == 200
    kinds = [row.kind for row in response.context["rows"]]
    assert kinds == [Kind.ORDER_OUTCOME]  # about their own orders only


def test_nav_links(approver, admin_user):
    client = Client()
    client.force_login(approver)
    page = client.get(PREFS).content.decode()
    assert f'href="{PREFS}"' in page
    assert f'href="{LIST}"' not in page
    client.force_login(admin_user)
    page = client.get(PREFS).content.decode()
    assert f'href="{LIST}"' in page


# --- a user's settings ---------------------------------------------------------------------------


def test_each_role_sees_its_kinds_and_their_defaults(approver_client, approver):
    response = approver_client.get(PREFS)
    assert response.status_code == 200
    rows = {row.kind: row for row in response.context["rows"]}
    assert list(rows) == [Kind.ORDER_PENDING, Kind.ORDER_REMINDER, Kind.ORDER_OUTCOME]
    assert rows[Kind.ORDER_PENDING].default_enabled and rows[Kind.ORDER_PENDING].current.default
    assert rows[Kind.ORDER_PENDING].default_sources == [APPROVERS]
    page = response.content.decode()
    assert "Following the default" in page
    assert "On · immediately" in page
    assert "A new order waits for approval" in page  # what each kind means, one line
    assert "Execution needs attention" not in page  # not an approver's kind
    assert 'name="order_pending-email" id="id_order_pending-email" checked' in page


def test_operators_default_to_the_attention_digest(operator_client):
    rows = {row.kind: row for row in operator_client.get(PREFS).context["rows"]}
    assert list(rows) == [Kind.ORDER_OUTCOME, Kind.EXECUTION_ATTENTION]
    attention = rows[Kind.EXECUTION_ATTENTION]
    assert (attention.default_enabled, attention.default_mode) == (True, Mode.DIGEST)
    assert attention.mode_field.value() == Mode.DIGEST
    assert attention.default_sources == [OPERATORS]


def test_admins_default_to_escalations(admin_client_):
    response = admin_client_.get(PREFS)
    rows = {row.kind: row for row in response.context["rows"]}
    assert Kind.ORDER_ESCALATION in rows
    assert rows[Kind.ORDER_ESCALATION].default_sources == [ADMINS]
    assert rows[Kind.ORDER_ESCALATION].current.enabled


def test_saving_stores_what_changed_and_shows_it(approver_client, approver):
    # order_pending turned off, reminders switched to digest, outcome unchanged
    data = _approver_form(**{"order_pending-email": None, "order_reminder-mode": Mode.DIGEST})
    response = approver_client.post(PREFS, data, follow=True)
    assert response.redirect_chain == [(PREFS, 302)]
    page = response.content.decode()
    assert "Notification settings saved" in page
    stored = {p.kind: (p.enabled, p.mode) for p in Preference.objects.filter(user=approver)}
    assert stored == {Kind.ORDER_PENDING: (False, Mode.IMMEDIATE), Kind.ORDER_REMINDER: (True, Mode.DIGEST)}
    choices = choices_for(approver)
    assert not choices[Kind.ORDER_PENDING].enabled
    assert not choices[Kind.ORDER_DIGEST].enabled  # the digest of new orders follows its base kind
    rows = {row.kind: row for row in response.context["rows"]}
    assert not rows[Kind.ORDER_PENDING].enabled_field.value()
    assert rows[Kind.ORDER_REMINDER].mode_field.value() == Mode.DIGEST
    assert rows[Kind.ORDER_OUTCOME].current.default  # untouched: still follows the default
    assert page.count('class="src changed"') == 2


def test_saving_nothing_changed_keeps_following_the_defaults(approver_client, approver):
    response = approver_client.post(PREFS, _approver_form(), follow=True)
    assert "Nothing changed" in response.content.decode()
    assert not Preference.objects.filter(user=approver).exists()


def test_an_invalid_mode_is_refused_and_nothing_saved(approver_client, approver):
    response = approver_client.post(PREFS, _approver_form(**{"order_pending-mode": "hourly"}))
    assert response.status_code == 400
    assert not Preference.objects.filter(user=approver).exists()


def test_a_user_cannot_set_a_kind_of_another_role(approver_client, approver):
    extra = {"execution_attention-email": "on", "execution_attention-mode": Mode.DIGEST}
    assert approver_client.post(PREFS, _approver_form(**extra)).status_code == 302
    assert not Preference.objects.filter(user=approver, kind=Kind.EXECUTION_ATTENTION).exists()


def test_saving_needs_the_csrf_token(approver):
    client = Client(enforce_csrf_checks=True)
    client.force_login(approver)
    data = _approver_form(**{"order_reminder-email": None})
    assert client.post(PREFS, data).status_code == 403
    assert not Preference.objects.filter(user=approver).exists()
    token = client.get(PREFS).context["csrf_token"]
    response = client.post(PREFS, {**data, "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    assert Preference.objects.filter(user=approver, kind=Kind.ORDER_REMINDER, enabled=False).exists()


def test_webhooks_are_shown_read_only(settings, approver_client):
    settings.NOTIFY_WEBHOOK_URLS = []
    assert "Not configured" in approver_client.get(PREFS).content.decode()
    settings.NOTIFY_WEBHOOK_URLS = ["https://hooks.example.com/services/T000/B000/XXXX"]
    page = approver_client.get(PREFS).content.decode()
    assert "Posted" in page and "1 configured" in page
    assert "hooks.example.com" not in page  # the URL (and its secret path) is the administrators' business
    assert 'name="webhook' not in page


def test_a_user_without_an_email_is_told(approver_client):
    assert "has no email address" in approver_client.get(PREFS).content.decode()


# --- one-click unsubscribe -----------------------------------------------------------------------


def _unsubscribe_url(user, kind=Kind.ORDER_REMINDER) -> str:
    return reverse("notifications:unsubscribe", args=[unsubscribe_token(user_id=user.pk, kind=kind)])


def test_unsubscribe_get_changes_nothing_and_masks_the_email(client, approver):
    _with_email(approver, "alice.approver@example.com")
    response = client.get(_unsubscribe_url(approver))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Reminder: order still pending" in page
    assert "a•••@example.com" in page
    assert "alice.approver" not in page
    assert "<form" in page and 'method="post"' in page
    assert not Preference.objects.exists()
    assert "_auth_user_id" not in client.session  # shown without signing anyone in
    assert response["Cache-Control"].startswith("max-age=0")


def test_unsubscribe_post_turns_the_kind_off_without_signing_in(approver):
    _with_email(approver, "alice@example.com")
    client = Client(enforce_csrf_checks=True)
    url = _unsubscribe_url(approver)
    assert client.post(url).status_code == 403  # CSRF: only the page's own form
    assert not Preference.objects.exists()
    client.get(url)
    response = client.post(url, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert Preference.objects.get(user=approver, kind=Kind.ORDER_REMINDER).enabled is False
    assert not choices_for(approver)[Kind.ORDER_REMINDER].enabled
    assert choices_for(approver)[Kind.ORDER_PENDING].enabled  # other kinds untouched
    page = response.content.decode()
    assert "These emails are off" in page and "Done" in page
    assert "_auth_user_id" not in client.session


def test_unsubscribe_from_a_digest_turns_off_its_kind(client, approver):
    client.post(_unsubscribe_url(approver, kind=Kind.ORDER_DIGEST))
    assert not choices_for(approver)[Kind.ORDER_DIGEST].enabled
    assert Preference.objects.get(user=approver).kind == Kind.ORDER_PENDING


def test_unsubscribe_keeps_the_chosen_mode(client, operator):
    client.post(_unsubscribe_url(operator, kind=Kind.EXECUTION_ATTENTION))
    row = Preference.objects.get(user=operator)
    assert (row.enabled, row.mode) == (False, Mode.DIGEST)


def test_a_second_unsubscribe_post_changes_nothing(client, approver):
    url = _unsubscribe_url(approver)
    client.post(url)
    first = Preference.objects.get(user=approver).updated_at
    client.post(url)
    assert Preference.objects.get(user=approver).updated_at == first
    assert "These emails are off" in client.get(url).content.decode()


def _other_payload(token: str, user_id: int) -> str:
    """The token with its payload replaced by another user's (timestamp and signature kept)."""
    payload = signing.dumps({"u": user_id, "k": "order_reminder", "c": "email"}).split(":")[0]
    return ":".join([payload, *token.split(":")[1:]])


@pytest.mark.parametrize(
    "make",
    [
        lambda token, pk: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # edited signature
        lambda token, pk: _other_payload(token, pk + 1),
        lambda token, pk: signing.dumps({"u": pk, "k": "order_reminder", "c": "email"}, salt="another.salt"),
        lambda token, pk: "not-a-token",
        lambda token, pk: "x" * 600,
    ],
    ids=["edited", "swapped-payload", "other-salt", "garbage", "too-long"],
)
def test_a_forged_or_edited_token_is_a_clear_400(client, approver, second_approver, make):
    good = unsubscribe_token(user_id=approver.pk, kind=Kind.ORDER_REMINDER)
    url = reverse("notifications:unsubscribe", args=[make(good, approver.pk)])
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 400
        assert "This unsubscribe link is not valid" in response.content.decode()
    assert not Preference.objects.exists()


def test_a_token_for_an_unknown_kind_is_refused(client, approver):
    token = signing.dumps({"u": approver.pk, "k": "everything", "c": "email"}, salt="notifications.unsubscribe")
    assert client.get(reverse("notifications:unsubscribe", args=[token])).status_code == 400


def test_a_token_of_a_deleted_user_is_404(client, django_user_model):
    user = django_user_model.objects.create_user(username="gone", password="x")
    url = _unsubscribe_url(user)
    user.delete()
    response = client.post(url)
    assert response.status_code == 404
    assert "no longer exists" in response.content.decode()


# --- the admins' list ----------------------------------------------------------------------------


def test_admin_list_shows_every_column_newest_first(admin_client_):
    old = _row(1, status=Status.SENT, attempts=1, sent_at=timezone.now() - timedelta(minutes=90))
    new = _row(
        2,
        kind=Kind.EXECUTION_ATTENTION,
        subject="arn:aws:lambda:us-east-1:1:function:Orders/durable-execution/e-1#callback_sla",
        recipient="ops@example.com",
        status=Status.FAILED,
        attempts=5,
        error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    response = admin_client_.get(LIST)
    assert response.status_code == 200
    assert [n.pk for n in response.context["page"].rows] == [new.pk, old.pk]
    page = response.content.decode()
    for text in ("Execution needs attention", "ops@example.com", "Failed", "SMTPServerDisconnected", "Sent", "Email"):
        assert text in page
    for header in ("Kind", "Recipient", "Channel", "Status", "Tries", "Error", "Sent at", "Created", "Subject"):
        assert f"<th>{header}</th>" in page or f'<th class="num">{header}</th>' in page


def test_admin_list_filters(admin_client_):
    _row(1, kind=Kind.ORDER_PENDING, status=Status.SENT, recipient="ann@example.com")
    _row(2, kind=Kind.ORDER_REMINDER, status=Status.FAILED, recipient="bob@example.com")
    _row(
        3,
        kind=Kind.ORDER_REMINDER,
        status=Status.SENT,
        recipient="https://hooks.example.com/x",
        channel=Channel.WEBHOOK,
    )

    def subjects(**query) -> list[str]:
        response = admin_client_.get(LIST, query)
        assert response.status_code == 200
        return sorted(n.subject for n in response.context["page"].rows)

    assert subjects() == ["order-1", "order-2", "order-3"]
    assert subjects(kind=Kind.ORDER_REMINDER) == ["order-2", "order-3"]
    assert subjects(status=Status.FAILED) == ["order-2"]
    assert subjects(channel=Channel.WEBHOOK) == ["order-3"]
    assert subjects(recipient="BOB") == ["order-2"]
    assert subjects(kind=Kind.ORDER_REMINDER, status=Status.SENT) == ["order-3"]
    assert subjects(kind="bogus") == ["order-1", "order-2", "order-3"]  # an invalid filter is ignored


def test_admin_list_hides_webhook_paths(admin_client_):
    _row(1, channel=Channel.WEBHOOK, recipient="https://hooks.example.com/services/T0/B0/SECRETPART")
    page = admin_client_.get(LIST).content.decode()
    assert "https://hooks.example.com/…" in page
    assert "SECRETPART" not in page


def test_admin_list_counts_digest_items(admin_client_):
    digest = _row(10, kind=Kind.ORDER_DIGEST, subject="digest-1", mode=Mode.DIGEST, status=Status.SENT)
    for n in range(3):
        _row(n, status=Status.DIGESTED, digest=digest)
    response = admin_client_.get(LIST)
    rows = {n.pk: n for n in response.context["page"].rows}
    assert rows[digest.pk].item_count == 3
    assert "3 items" in response.content.decode()
    response = admin_client_.get(LIST, {"digest": digest.pk})
    assert len(response.context["page"].rows) == 4  # the digest and what it holds
    assert f"Showing digest <b>#{digest.pk}</b>" in response.content.decode()


def test_admin_list_pages_with_signed_cursors(admin_client_, settings):
    for n in range(60):
        _row(n)
    first = admin_client_.get(LIST)
    page = first.context["page"]
    assert len(page.rows) == 50 and page.next_cursor and not page.prev_cursor
    second = admin_client_.get(LIST, {"after": page.next_cursor})
    assert len(second.context["page"].rows) == 10
    assert {n.pk for n in page.rows}.isdisjoint(n.pk for n in second.context["page"].rows)
    bad = admin_client_.get(LIST, {"after": page.next_cursor[:-3] + "abc"})
    assert bad.status_code == 400
    assert "cursor was not issued" in bad.content.decode()


def test_admin_list_status_counts(admin_client_):
    _row(1, status=Status.FAILED)
    _row(2, status=Status.FAILED)
    _row(3, status=Status.SENT)
    response = admin_client_.get(LIST)
    counts = {value: n for value, _, n in response.context["status_counts"]}
    assert counts[Status.FAILED] == 2 and counts[Status.SENT] == 1 and counts[Status.PENDING] == 0


def test_superusers_are_admins(client):
    user = get_user_model().objects.create_superuser(username="root", password="pw-root", email="root@example.com")
    client.force_login(user)
    assert client.get(LIST).status_code == 200


def test_long_subjects_keep_both_ends():
    from notifications.templatetags.notifications_tags import subject_shown

    arn = "arn:aws:lambda:us-east-1:123456789012:function:OrderApproval/durable-execution/run-42#callback_sla"
    shown = subject_shown(arn)
    assert len(shown) == 40 and shown.startswith("arn:aws:lambda:") and shown.endswith("run-42#callback_sla")
    assert subject_shown("order-1@0.5") == "order-1@0.5"
