"""A Celery beat scheduler that sends the schedule from one process only.

Run as many `celery beat` processes as you like (one per machine, for
failover): they elect a leader through a lock in the shared cache (Redis in
production). Only the leader sends due tasks; the others stay on standby and
take over within BEAT_LEADER_TTL seconds if the leader dies. A leader that
shuts down cleanly hands over at once.

`cache.add` is atomic (SET NX on Redis, a primary-key insert on the database
cache), so two processes can never both become leader.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from celery.beat import PersistentScheduler
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

LEADER_KEY = "celery-beat-leader"


def beat_leader() -> str | None:
    """The identity of the current leader (hostname:pid:nonce), if any."""
    return cache.get(LEADER_KEY)


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
            if cache.get(LEADER_KEY) == self.identity:
                cache.touch(LEADER_KEY, self.leader_ttl)
                return True
            return cache.add(LEADER_KEY, self.identity, timeout=self.leader_ttl)
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
            if self.is_leader and cache.get(LEADER_KEY) == self.identity:
                cache.delete(LEADER_KEY)
                logger.info("beat %s released the leadership", self.identity)
        except Exception:
            logger.exception("beat: could not release the leadership")
        super().close()
