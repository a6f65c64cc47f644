"""The decision log: who sees what, filters, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.models import Decision

pytestmark = pytest.mark.django_db


def _decision(user, *, outcome="succeeded", decision="approve", order_id="order-1", comment="", days_ago=0):
    row = Decision.objects.create(
        order_id=order_id,
        execution_arn="arn:x",
        decision=decision,
        comment=comment,
        user=user,
        username=user.username,
        outcome=outcome,
        customer_name="Contoso",
        requested_by="carol",
        order_created_at=timezone.now() - timedelta(hours=2),
    )
    if days_ago:
        Decision.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return row


@pytest.fixture
def log(approver, second_approver):
    return [
        _decision(approver, order_id="a-1", comment="ok"),
        _decision(approver, order_id="a-2", outcome="already_decided", decision="reject", days_ago=3),
        _decision(second_approver, order_id="b-1", outcome="closed"),
    ]


def _orders(response) -> list[str]:
    return [d.order_id for d in response.context["page"]]


def test_approver_sees_only_their_own(approver_client, log):
    response = approver_client.get(reverse("approvals:decisions"))
    assert sorted(_orders(response)) == ["a-1", "a-2"]
    assert "Showing your decisions" in response.content.decode()
    # filtering by another user does not widen the view
    assert sorted(_orders(approver_client.get(reverse("approvals:decisions"), {"user": "approver2"}))) == ["a-1", "a-2"]


def test_admin_and_operator_see_all_and_filter(admin_client_, log):
    url = reverse("approvals:decisions")
    assert sorted(_orders(admin_client_.get(url))) == ["a-1", "a-2", "b-1"]
    assert _orders(admin_client_.get(url, {"user": "approver2"})) == ["b-1"]
    assert _orders(admin_client_.get(url, {"outcome": "already_decided"})) == ["a-2"]
    assert _orders(admin_client_.get(url, {"decision": "reject"})) == ["a-2"]
    today = timezone.now().date()
    assert sorted(_orders(admin_client_.get(url, {"date_from": today.isoformat()}))) == ["a-1", "b-1"]
    old = (today - timedelta(days=2)).isoformat()
    assert _orders(admin_client_.get(url, {"date_to": old})) == ["a-2"]


def test_operator_reads_everything(operator_client, log):
    assert len(_orders(operator_client.get(reverse("approvals:decisions")))) == 3


def test_csv_export_respects_visibility_and_filters(approver_client, approver, log):
    _decision(approver, order_id="a-3", comment='=HYPERLINK("http://evil")')
    response = approver_client.get(reverse("approvals:decisions"), {"format": "csv", "outcome": "succeeded"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(r["order_id"] for r in rows) == ["a-1", "a-3"]
    assert {r["user"] for r in rows} == {"approver"}
    formula = next(r for r in rows if r["order_id"] == "a-3")["comment_or_reason"]
    assert formula.startswith("'=")  # spreadsheet formulas are neutralised


def test_decisions_are_append_only(log):
    decision = log[0]
    decision.outcome = "failed"
    with pytest.raises(ValueError):
        decision.save()
    with pytest.raises(ValueError):
        decision.delete()


def test_time_to_decision_is_shown_for_succeeded(approver_client, log):
    body = approver_client.get(reverse("approvals:decisions")).content.decode()
    assert ">2 h</td>" in body
