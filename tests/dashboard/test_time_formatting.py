"""One way to show time: `instant_text`/`relative_text` (core.formatting), the `{% instant %}` tag that shows one and
puts the other in the title as the user chose on /account/, and the /account/ page that stores the choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from core.formatting import duration_text, instant_text, relative_text, timezone_label

NOW = datetime(2026, 12, 6, 14, 3, 27, tzinfo=UTC)


def test_instant_text_names_date_time_and_zone(settings):
    assert instant_text(NOW) == "6 Dec 2026, 14:03 UTC"
    assert instant_text(NOW, seconds=True) == "6 Dec 2026, 14:03:27 UTC"
    assert instant_text(NOW.replace(microsecond=42_900), milliseconds=True) == "6 Dec 2026, 14:03:27.042 UTC"
    assert instant_text(None) == ""
    with timezone.override("Europe/Paris"):
        assert instant_text(NOW) == "6 Dec 2026, 15:03 CET"
        assert timezone_label() in ("CET", "CEST")


def test_relative_text_both_directions():
    assert relative_text(NOW - timedelta(minutes=3, seconds=10), now=NOW) == "3 m 10 s ago"
    assert relative_text(NOW + timedelta(minutes=5), now=NOW) == "in 5 m"
    assert relative_text(NOW - timedelta(milliseconds=300), now=NOW) == "just now"
    assert relative_text(NOW - timedelta(days=2, hours=4), now=NOW) == "2 d 4 h ago"
    assert relative_text(None, now=NOW) == ""


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.45, "450 ms"), (4.25, "4.2 s"), (7, "7 s"), (125, "2 m 5 s"), (3 * 3600 + 600, "3 h 10 m"), (None, "")],
)
def test_durations_have_one_format(seconds, text):
    assert duration_text(seconds) == text


def _render(session: dict, moment) -> str:
    request = RequestFactory().get("/")
    request.session = session
    return Template("{% load console %}{% instant moment %}").render(Context({"request": request, "moment": moment}))


def test_instant_tag_absolute_by_default_relative_on_choice():
    moment = timezone.now() - timedelta(minutes=3)
    absolute = _render({}, moment)
    assert absolute.startswith(f'<time datetime="{moment.isoformat()}" title="3 m ago">')
    assert absolute.endswith(" UTC</time>")
    relative = _render({"console_time_display": "relative"}, moment)
    assert ">3 m ago</time>" in relative and 'title="' + instant_text(moment) + '"' in relative
    assert _render({}, None) == '<span class="muted">—</span>'


@pytest.mark.django_db
def test_account_page_stores_the_choice_per_user(client, operator):
    from dashboard.models import AccountPreference

    client.force_login(operator)
    page = client.get("/account/")
    assert page.status_code == 200 and b'value="absolute" checked' in page.content
    assert client.post("/account/", {"time_display": "sideways"}).status_code == 400
    response = client.post("/account/", {"time_display": "relative"})
    assert response.status_code == 302 and response.url == "/account/"
    assert AccountPreference.objects.get(user=operator).time_display == "relative"
    assert client.session["console_time_display"] == "relative"
    # A new sign-in brings the stored choice back into the session.
    client.logout()
    client.force_login(operator)
    assert client.session.get("console_time_display") == "relative"


@pytest.mark.django_db
def test_account_page_needs_sign_in_and_csrf(client, operator):
    assert client.get("/account/").status_code == 302
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(operator)
    assert strict.post("/account/", {"time_display": "relative"}).status_code == 403


@pytest.mark.django_db
def test_get_on_an_action_address_explains_what_to_do(client, approver):
    client.force_login(approver)
    response = client.get("/approvals/abc123/approve", HTTP_ACCEPT="text/html")
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert b"performs an action" in response.content and b'href="/approvals/abc123/"' in response.content
    htmx = client.get("/approvals/abc123/approve", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 405 and b"performs an action" not in htmx.content
