"""Tasks used only by the production tests (imported by the worker processes they start)."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache


@shared_task(name="tests.production.always_fails")
def always_fails():
    raise RuntimeError("this task always fails")


@shared_task(name="tests.production.fails_then_retries", bind=True, max_retries=1, default_retry_delay=0)
def fails_then_retries(self):
    if self.request.retries < 1:
        raise self.retry(exc=RuntimeError("first attempt fails"))
    return "ok"


@shared_task(name="tests.production.beat_probe")
def beat_probe():
    """Counts how often beat sent it (the beat test reads the count)."""
    if not cache.add("beat-probe-runs", 1, timeout=None):
        cache.incr("beat-probe-runs")
