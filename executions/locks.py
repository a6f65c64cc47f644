"""The per-execution sync lock: `core.locks.cache_lock` on the execution's key.

Its TTL (EXECUTION_SYNC_LOCK_TTL) is longer than the hard task time limit, so a worker killed with
SIGKILL never blocks an execution for longer than that.
"""

from __future__ import annotations

from django.conf import settings

from core.locks import cache_lock


def execution_lock(*, execution_id: int, ttl: int | None = None):
    """Yield True if this worker now holds the execution's lock, False if another one does."""
    return cache_lock(f"execution-sync-lock:{execution_id}", ttl=ttl or settings.EXECUTION_SYNC_LOCK_TTL)
