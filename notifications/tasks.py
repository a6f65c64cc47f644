"""Celery tasks of notifications. Thin: the scheduler finds what is due, delivery sends it.

Both are idempotent and safe to run in parallel (two beat processes, several workers): rows are unique per
notification and each is claimed by one worker (notifications/delivery.py).
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from notifications import delivery, scheduler

logger = logging.getLogger(__name__)


@shared_task(
    name="notifications.check",
    ignore_result=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def check() -> dict:
    """Beat (every NOTIFY_CHECK_SECONDS, expiring after the same): find what is due, then send it.

    A failing check is logged and delivery still runs (what is already due is sent), with the time the check left
    of the run's budget."""
    started = time.monotonic()
    try:
        found = scheduler.notifications_check()
    except SoftTimeLimitExceeded:
        raise
    except Exception:
        logger.exception("notifications check failed; delivering what is already due")
        found = {"failed": 1}
    budget = delivery.run_budget_seconds() - (time.monotonic() - started)
    sent = delivery.notifications_deliver(budget_seconds=max(0.0, budget))
    if any(sent.values()):
        logger.info("notifications check %s, delivery %s", found, sent)
    return {"check": found, "deliver": sent}


@shared_task(
    name="notifications.deliver",
    ignore_result=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def deliver() -> dict:
    """Send the due notifications and digests (also run by `notifications.check`)."""
    sent = delivery.notifications_deliver()
    if any(sent.values()):
        logger.info("notifications delivery %s", sent)
    return sent
