"""A Celery beat scheduler that sends the schedule from one process only.

Run as many `celery beat` processes as you like (one per machine, for
failover): they elect a leader through a lease in the shared cache (Redis in
production). Only the leader sends due tasks; the others stay on standby and
take over within BEAT_LEADER_TTL seconds if the leader dies. A leader that
shuts down cleanly hands over at once.

On Redis the lease is taken with SET NX EX and renewed or released with
compare-and-set scripts, so two processes can never both hold it. On the
database cache (one machine) `cache.add` is atomic too; renewal there is a
get-then-touch.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from celery.beat import PersistentScheduler
from django.conf import settings
from django.core.cache import cache

from core.counters import shared_redis

logger = logging.getLogger(__name__)

LEADER_KEY = "celery-beat-leader"
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def _redis_key() -> str:
    return cache.make_key(LEADER_KEY)


def beat_leader() -> str | None:
    """The identity of the current leader (hostname:pid:nonce), if any."""
    client = shared_redis()
    if client is not None:
        value = client.get(_redis_key())
        return value.decode() if value else None
    return cache.get(LEADER_KEY)


def lease_hold(identity: str, ttl: int) -> bool:
    """Take or renew the leadership lease for `identity`; True if it holds it now."""
    client = shared_redis()
    if client is not None:
        key = _redis_key()
        return bool(client.eval(_RENEW, 1, key, identity, ttl)) or bool(client.set(key, identity, nx=True, ex=ttl))
    if cache.get(LEADER_KEY) == identity:
        return cache.touch(LEADER_KEY, ttl)
    return cache.add(LEADER_KEY, identity, timeout=ttl)


def lease_release(identity: str) -> None:
    client = shared_redis()
    if client is not None:
        client.eval(_RELEASE, 1, _redis_key(), identity)
    elif cache.get(LEADER_KEY) == identity:
        cache.delete(LEADER_KEY)


class LeaderScheduler(PersistentScheduler):
    def __init__(self, *args, **kwargs):
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leader_ttl = max(3, int(settings.BEAT_LEADER_TTL))
        self.is_leader = False
        super().__init__(*args, **kwargs)
        # The leader must wake up often enough to renew its lease.
        self.max_interval = min(self.max_interval, self.leader_ttl / 3)

    def _hold_lease(self) -> bool:
        try:
            return lease_hold(self.identity, self.leader_ttl)
        except Exception:
            logger.exception("beat: the shared cache is unavailable; not sending the schedule")
            return False

    def tick(self, *args, **kwargs):
        leader = self._hold_lease()
        if leader != self.is_leader:
            self.is_leader = leader
            logger.info("beat %s is now %s", self.identity, "the leader" if leader else "on standby")
        if not leader:
            return self.max_interval
        return super().tick(*args, **kwargs)

    def close(self):
        try:
            if self.is_leader:
                lease_release(self.identity)
                logger.info("beat %s released the leadership", self.identity)
        except Exception:
            logger.exception("beat: could not release the leadership")
        super().close()
