"""The beat task's limits: a failing check does not stop delivery, delivery gets what the check left of the run's
budget, the check lock outlives the task, and the SES client and claim lease fit inside them.

No AWS here: the scheduler's failure is simulated (see each test), delivery goes to a real SMTP server.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings as django_settings

from notifications import scheduler, tasks
from notifications.delivery import Draft, notifications_create
from notifications.models import Channel, Kind, Mode, Notification, Status

pytestmark = pytest.mark.django_db


def due_row() -> None:
    context = {"execution_pk": 1, "name": "exec-1", "status": "FAILED", "reasons": ["failed"]}
    notifications_create(
        drafts=[Draft(Kind.EXECUTION_ATTENTION, "x", "otto@example.com", Channel.EMAIL, None, Mode.IMMEDIATE, context)]
    )


def test_a_check_that_raises_is_logged_and_delivery_still_runs(smtp_sink, monkeypatch, caplog):
    # A mock: an unexpected bug in the scheduler is what this guards against, and no real service produces one.
    def broken(**kwargs):
        raise RuntimeError("a bug in the scheduler")

    monkeypatch.setattr(scheduler, "notifications_check", broken)
    due_row()
    result = tasks.check.apply().get()
    assert result["check"] == {"failed": 1}
    assert result["deliver"]["sent"] == 1
    assert [m["To"] for m in smtp_sink.wait_for(1)] == ["otto@example.com"]
    assert "notifications check failed" in caplog.text and "a bug in the scheduler" in caplog.text


def test_delivery_gets_only_what_the_check_left_of_the_run_budget(smtp_sink, monkeypatch, settings):
    # A mock: a check slower than the run's budget (a slow DynamoDB is bounded per read, see test_scheduler).
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 2  # a run budget of 1 s

    def slow(**kwargs):
        time.sleep(1.2)
        return {}

    monkeypatch.setattr(scheduler, "notifications_check", slow)
    due_row()
    assert tasks.check.apply().get()["deliver"]["sent"] == 0  # no time left: the next run sends it
    assert Notification.objects.get().status == Status.PENDING
    assert tasks.deliver.apply().get()["sent"] == 1
