"""The one lock helper: a lock in the Django cache shared by every process (Redis or the database).

A lock carries a TTL longer than the work it guards, so a process killed with SIGKILL never blocks the others
for longer than that; only the owner releases it, so a lock that expired and was taken over is left alone.
On Redis both steps are atomic (`SET NX EX`, and a compare-and-delete script); on the database cache (one
laptop) `cache.add` is atomic and the release is a compare-then-delete.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

from django.core.cache import cache

from core.counters import shared_redis

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def _acquire(key: str, token: str, ttl: int) -> bool:
    client = shared_redis()
    if client is not None:
        return bool(client.set(cache.make_key(key), token, nx=True, ex=max(1, int(ttl))))
    return cache.add(key, token, timeout=ttl)


def _release(key: str, token: str) -> None:
    client = shared_redis()
    if client is not None:
        client.eval(_RELEASE, 1, cache.make_key(key), token)
    elif cache.get(key) == token:
        cache.delete(key)


def lock_held(key: str) -> bool:
    """Whether someone holds `key` now."""
    client = shared_redis()
    if client is not None:
        return bool(client.exists(cache.make_key(key)))
    return cache.get(key) is not None


@contextmanager
def cache_lock(key: str, *, ttl: int):
    """Yield True if this process now holds `key`, False if another one does."""
    token = uuid.uuid4().hex
    acquired = _acquire(key, token, ttl)
    try:
        yield acquired
    finally:
        if acquired:
            _release(key, token)
