"""Celery signal handlers that feed the shared counters behind /metrics.

Connected when the Celery app is loaded (dashboard/celery.py), so they run in
every worker process.
"""

from __future__ import annotations

from celery.signals import task_failure, task_retry

from core.counters import counter_incr

TASK_FAILURES = "celery_task_failures"
TASK_RETRIES = "celery_task_retries"


@task_failure.connect(weak=False)
def _count_task_failure(sender=None, exception=None, **_):
    counter_incr(TASK_FAILURES, task=getattr(sender, "name", "unknown"), exception=type(exception).__name__)


@task_retry.connect(weak=False)
def _count_task_retry(sender=None, reason=None, **_):
    counter_incr(TASK_RETRIES, task=getattr(sender, "name", "unknown"))
