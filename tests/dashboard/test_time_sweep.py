"""One way to show time, across the templates: instants go through `{% instant %}` (or `|instant_text` in attributes),
durations through `|duration` / `|ms`; no page formats a time by hand. Email templates are left out on purpose:
mail has no signed-in user's preference and no hover, so notifications/messages.py writes one absolute time with its
zone ("2026-12-06 14:03 UTC") and durations with `duration_text`, and the email templates only print those texts."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from approvals.forms import DecisionFilterForm
from approvals.models import Decision
from approvals.orders_forms import OrdersFilterForm
from notifications.models import Channel, Kind, Notification, Status

TEMPLATES = Path(settings.BASE_DIR) / "templates"
EMAIL = TEMPLATES / "notifications" / "email"
# Hand-made formatting of instants: Django's date/time filters, humanize's relative ones, the short clock filter.
HAND_MADE = re.compile(r"\|\s*(date|time|naturaltime|naturalday|timesince|timeuntil|clock)\b")


def _templates() -> list[str]:
    return sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html") if EMAIL not in path.parents)


@pytest.mark.parametrize("name", _templates())
def test_templates_format_instants_only_through_the_single_formatter(name):
    text = (TEMPLATES / name).read_text()
    found = [match.group(0) for match in HAND_MADE.finditer(text)]
    assert not found, f"{name} formats time by hand ({found}): use {{% instant %}}, |instant_text, |duration or |ms"


def test_email_templates_print_only_the_texts_messages_writes():
    """The mail keeps its own absolute format, written in Python, with the zone named: no template filter formats it."""
    for path in EMAIL.rglob("*"):
        if path.is_file():
            assert not HAND_MADE.search(path.read_text()), path


def test_date_filter_labels_name_their_time_zone(settings):
    settings.TIME_ZONE = "UTC"
    decisions = DecisionFilterForm()
    assert decisions.fields["date_from"].label == "From (UTC)"
    assert decisions.fields["date_to"].label == "To (UTC)"
    orders = OrdersFilterForm()
    assert "(UTC)" in orders.fields["date_from"].label and "(UTC)" in orders.fields["date_to"].label


@pytest.mark.django_db
def test_decision_log_writes_instants_and_copyable_order_ids(admin_client_, approver):
    decision = Decision.objects.create(
        order_id="7f1e22aa-0000-4000-8000-000000000001",
        execution_arn="arn:x",
        decision="approve",
        user=approver,
        username=approver.username,
        outcome="succeeded",
        customer_name="Contoso",
        requested_by="carol",
        order_created_at=timezone.now() - timedelta(minutes=3, seconds=12),
    )
    page = admin_client_.get(reverse("approvals:decisions")).content.decode()
    assert f'<time datetime="{decision.created_at.isoformat()}"' in page
    assert "UTC</time>" in page  # absolute, with its zone, by default
    assert '<label for="id_date_from">From (UTC)</label>' in page
    assert f'data-copy="{decision.order_id}"' in page
    assert "3 m 12 s" in page  # time to decision, in the one duration format

    # the same page as someone who chose relative times on /account/: "… ago", the absolute form on hover
    session = admin_client_.session
    session["console_time_display"] = "relative"
    session.save()
    page = admin_client_.get(reverse("approvals:decisions")).content.decode()
    assert re.search(r'<time datetime="[^"]+" title="[^"]+UTC">(just now|[^<]+ ago)</time>', page)


@pytest.mark.django_db
def test_notifications_list_writes_instants(admin_client_):
    sent = timezone.now() - timedelta(minutes=5)
    Notification.objects.create(
        kind=Kind.ORDER_OUTCOME,
        channel=Channel.EMAIL,
        recipient="rita@example.com",
        subject="7f1e22aa:approved",
        status=Status.SENT,
        sent_at=sent,
        dedupe_key="k-1",
    )
    page = admin_client_.get(reverse("notifications:list")).content.decode()
    assert f'<time datetime="{sent.isoformat()}"' in page
    assert page.count("<time ") == 2  # created and sent
