"""Instrumentation loaded into the test's Celery workers (CELERY_IMPORTS of settings_workers), never in production.

It records into Redis lists that the test reads:
- `probe:calls`: [time, operation, worker] each time the rate governor releases a durable-API call;
- `probe:syncs:started` and `probe:syncs`: one entry per history sync run under the per-execution lock
  (execution, worker, start, end, events added, pages);
and, when the test sets `probe:stall:<execution id>`, stops that sync after its first stored page
(writing `probe:stalled`) so the test can SIGKILL the worker in the middle of it.
"""

from __future__ import annotations

import json
import os
import time

import redis
from django.conf import settings

from executions import durable_api
from executions.sync import history as sync

_redis = redis.Redis.from_url(settings.REDIS_URL)


def _worker() -> str:
    return f"{os.environ.get('PROBE_WORKER_NAME', '?')}:{os.getpid()}"


_before_call = durable_api._before_call


def _probed_before_call(operation: str) -> None:
    _before_call(operation)  # returns when the governor grants the call
    _redis.rpush("probe:calls", json.dumps([time.time(), operation, _worker()]))


_history_sync_locked = sync._history_sync_locked


def _probed_history_sync_locked(execution):
    started = time.time()
    entry = {"execution": execution.pk, "worker": _worker(), "start": started}
    _redis.rpush("probe:syncs:started", json.dumps(entry))
    result = _history_sync_locked(execution)
    entry.update(end=time.time(), added=result.events_added, pages=result.pages)
    _redis.rpush("probe:syncs", json.dumps(entry))
    return result


_events_store = sync.events_store


def _probed_events_store(*, execution, page):
    added = _events_store(execution=execution, page=page)
    if _redis.getdel(f"probe:stall:{execution.pk}"):
        _redis.set("probe:stalled", json.dumps({"execution": execution.pk, "worker": _worker(), "added": added}))
        time.sleep(600)  # the test kills this worker now
    return added


durable_api._before_call = _probed_before_call
sync._history_sync_locked = _probed_history_sync_locked
sync.events_store = _probed_events_store
