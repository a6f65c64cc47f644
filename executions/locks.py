"""Per-execution locks shared by every worker (Django cache: Redis or the database).

`cache.add` is atomic on both backends. A lock carries a TTL longer than the
hard task time limit, so a worker killed with SIGKILL never blocks an
execution for longer than that.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache


def _key(execution_id: int) -> str:
    return f"execution-sync-lock:{execution_id}"


@contextmanager
def execution_lock(*, execution_id: int, ttl: int | None = None):
    """Yield True if this worker now holds the execution's lock, False if another one does."""
    token = uuid.uuid4().hex
    ttl = ttl or settings.EXECUTION_SYNC_LOCK_TTL
    acquired = cache.add(_key(execution_id), token, timeout=ttl)
    try:
        yield acquired
    finally:
        # Compare-then-delete: a lock that expired and was taken over is left alone.
        if acquired and cache.get(_key(execution_id)) == token:
            cache.delete(_key(execution_id))
