"""The one lock helper: a lock in the Django cache shared by every process (Redis or the database).

`cache.add` is atomic on both backends. A lock carries a TTL longer than the work it guards, so a process
killed with SIGKILL never blocks the others for longer than that; only the owner releases it
(compare-then-delete), so a lock that expired and was taken over is left alone.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

from django.core.cache import cache


@contextmanager
def cache_lock(key: str, *, ttl: int):
    """Yield True if this process now holds `key`, False if another one does."""
    token = uuid.uuid4().hex
    acquired = cache.add(key, token, timeout=ttl)
    try:
        yield acquired
    finally:
        if acquired and cache.get(key) == token:
            cache.delete(key)
