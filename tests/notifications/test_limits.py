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


def test_the_check_lock_outlives_the_tasks_hard_time_limit(monkeypatch):
    # A spy around the real lock (the TTL is not readable back from every cache backend).
    ttls = []
    real = scheduler.cache_lock

    def spy(key, *, ttl):
        ttls.append(ttl)
        return real(key, ttl=ttl)

    monkeypatch.setattr(scheduler, "cache_lock", spy)
    monkeypatch.setattr(scheduler, "_check", lambda now: {})
    scheduler.notifications_check()
    assert ttls == [scheduler.check_lock_ttl()]
    assert ttls[0] >= tasks.check.time_limit + 30


def test_the_claim_lease_outlives_the_tasks_and_the_ses_client_gives_up_within_it():
    from anymail.backends.amazon_ses import EmailBackend

    # The defaults (no NOTIFY_CLAIM_LEASE_SECONDS / CELERY_TASK_TIME_LIMIT in the test environment).
    for task in (tasks.check, tasks.deliver):
        assert task.time_limit < django_settings.NOTIFY_CLAIM_LEASE_SECONDS
    backend = EmailBackend(fail_silently=False)
    backend.open()
    try:
        config = backend.client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (3, 10)
        assert config.retries["total_max_attempts"] == 1
        # One attempt, connect plus read, ends well inside the lease.
        assert config.connect_timeout + config.read_timeout < django_settings.NOTIFY_CLAIM_LEASE_SECONDS
    finally:
        backend.close()
