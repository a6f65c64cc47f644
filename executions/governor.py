"""One API budget for every process and machine: a shared, fixed-slot rate governor.

Time is cut into slots of 1/DURABLE_API_MAX_RPS seconds. A call may go once it owns
a slot: it claims the first free slot from now on with `cache.add(slot_key)` and
sleeps until the slot begins. `cache.add` is atomic on Redis (SET NX) and on the
database cache (the key is the table's primary key: a concurrent insert loses),
so two workers never share a slot and the budget holds across processes.

Every time the governor reads (slot numbers, sleeps, pauses) is the shared store's: on Redis its `TIME`,
so machines whose clocks disagree still share one timeline; a clock ahead can't claim future slots early
(exceeding the budget) and a clock behind can't wait for slots that began long ago (stalling). The
database-cache path (one laptop, one clock) keeps the local clock.

`TooManyRequestsException` pauses every caller until the retry delay has passed
and halves the rate for a while (only every other slot is used), doubling the
slowdown on repeated throttles.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache

from core.aws import aws_interactive_active
from core.counters import shared_redis

logger = logging.getLogger(__name__)

PREFIX = "durable-api-governor"
PAUSE_KEY = f"{PREFIX}:pause-until"
SLOWDOWN_KEY = f"{PREFIX}:slowdown"
HINT_KEY = f"{PREFIX}:next-slot"
MAX_SLOWDOWN = 16


class BudgetExhausted(Exception):
    """No slot could be claimed within the caller's patience (the task retries later)."""


def _rate() -> float:
    return max(0.1, float(settings.DURABLE_API_MAX_RPS))


def _now(clock=None) -> float:
    """Seconds since the epoch on the shared store's clock: Redis TIME, or this machine's clock without Redis.

    `clock` replaces the time source entirely (simulations with a fake clock)."""
    if clock is not None:
        return clock()
    client = shared_redis()
    if client is None:
        return time.time()
    seconds, microseconds = client.time()
    return seconds + microseconds / 1_000_000


def _slowdown() -> int:
    try:
        return max(1, min(MAX_SLOWDOWN, int(cache.get(SLOWDOWN_KEY) or 1)))
    except (TypeError, ValueError):
        return 1


def governor_acquire(*, max_wait: float | None = None, clock=None, sleep=time.sleep) -> float:
    """Block until this process owns one call slot; return the seconds waited.

    Raises BudgetExhausted when no slot is free within `max_wait` seconds. If the
    shared cache itself is down the call goes ahead (fail open, logged): losing
    the budget for a moment beats losing every read and admin action.
    """
    try:
        return _acquire(max_wait=max_wait, clock=clock, sleep=sleep)
    except BudgetExhausted:
        raise
    except Exception:  # the cache backend's own errors vary
        logger.exception("rate governor unavailable; calling without it")
        return 0.0


# A person waiting on a page (inside core.aws.aws_interactive) waits this long at most for a slot: a decision or
# an admin action has a time budget of its own (DECISION_TIMEOUT_SECONDS), background work waits longer.
INTERACTIVE_MAX_WAIT_SECONDS = 2.0


def _acquire(*, max_wait: float | None, clock, sleep) -> float:
    if max_wait is None:
        max_wait = settings.DURABLE_API_MAX_WAIT_SECONDS
        if aws_interactive_active():
            max_wait = min(max_wait, INTERACTIVE_MAX_WAIT_SECONDS)
    width = 1.0 / _rate()
    began = _now(clock)
    while True:
        now = _now(clock)
        pause_until = cache.get(PAUSE_KEY)
        if pause_until and float(pause_until) > now:
            if float(pause_until) - began > max_wait:
                raise BudgetExhausted(f"Lambda API throttled until {pause_until:.0f}")
            sleep(float(pause_until) - now)
            continue
        step = _slowdown()
        first = math.ceil(now / width)
        hint = cache.get(HINT_KEY)
        slot = max(first, int(hint)) if hint else first
        horizon = math.ceil((began + max_wait) / width)
        while slot <= horizon:
            if slot % step == 0 and cache.add(f"{PREFIX}:slot:{slot}", 1, timeout=max(5, int(max_wait) + 5)):
                cache.set(HINT_KEY, slot + 1, timeout=60)
                delay = slot * width - _now(clock)
                if delay > 0:
                    sleep(delay)
                return _now(clock) - began
            slot += 1
        if _now(clock) - began >= max_wait:
            raise BudgetExhausted(f"no Lambda API slot free within {max_wait:.0f}s")
        sleep(width)


def governor_throttled(*, retry_after: float | None = None) -> None:
    """Record a TooManyRequestsException: pause everyone, then run at a reduced rate."""
    delay = retry_after if retry_after and retry_after > 0 else 1.0
    until = _now() + min(delay, settings.DURABLE_API_MAX_WAIT_SECONDS)
    current = cache.get(PAUSE_KEY)
    if not current or float(current) < until:
        cache.set(PAUSE_KEY, until, timeout=int(delay) + 5)
    slowdown = min(MAX_SLOWDOWN, _slowdown() * 2)
    cache.set(SLOWDOWN_KEY, slowdown, timeout=settings.DURABLE_API_SLOWDOWN_SECONDS)
    logger.warning("Lambda API throttled: pausing %.1fs, running at 1/%d of the budget", delay, slowdown)


def governor_state() -> dict:
    """For admin and diagnostics."""
    pause_until = cache.get(PAUSE_KEY)
    return {
        "max_rps": _rate(),
        "slowdown": _slowdown(),
        "paused_for_seconds": max(0.0, float(pause_until) - _now()) if pause_until else 0.0,
    }


def governor_reset() -> None:
    cache.delete_many([PAUSE_KEY, SLOWDOWN_KEY, HINT_KEY])
