"""When to fetch an execution's history next: by priority, not round-robin.

- new executions: at once (priority NEW);
- finished executions whose history is not complete yet: at once (FINISHING);
- recent activity: again after POLL_ACTIVE_SECONDS, then backing off (ACTIVE);
- idle in a wait (or a step retry delay): not before its scheduled end (TIMER);
- idle on a callback, a running step or a chained invoke: exponential backoff
  from POLL_IDLE_BASE_SECONDS up to POLL_BACKOFF_CAP_SECONDS (IDLE);
- finished with a complete history: never again.
When more executions are due than the budget allows, `due_select` fills each cycle by
priority (lower values first, then the longest overdue), except for a reserved share that
goes to the most overdue executions of any class, so that none starves. Pure functions:
the benchmark's simulation runs this code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

NEW, FINISHING, TIMER, ACTIVE, IDLE = 0, 1, 2, 3, 4
REASONS = {NEW: "new", FINISHING: "finishing", TIMER: "timer", ACTIVE: "active", IDLE: "idle"}


@dataclass(frozen=True)
class PollConfig:
    active: float
    idle_base: float
    cap: float
    timer_grace: float

    @classmethod
    def from_settings(cls) -> PollConfig:
        return cls(
            active=settings.POLL_ACTIVE_SECONDS,
            idle_base=settings.POLL_IDLE_BASE_SECONDS,
            cap=settings.POLL_BACKOFF_CAP_SECONDS,
            timer_grace=settings.POLL_WAIT_GRACE_SECONDS,
        )


@dataclass(frozen=True)
class PollPlan:
    next_poll_at: datetime | None
    backoff_seconds: int
    priority: int
    reason: str


def poll_plan(
    *,
    now: datetime,
    terminal: bool,
    history_complete: bool,
    changed: bool,
    timers: list[datetime],
    idle_open: bool,
    previous_backoff: float,
    config: PollConfig,
    suspended: bool = False,
) -> PollPlan:
    """Plan the next history fetch.

    `timers`: scheduled ends of open waits and next attempts of pending step retries.
    `idle_open`: something open that ends at an unknown time (callback, running step, invoke),
    or nothing open at all (between invocations).
    `suspended`: the last invocation has completed (its InvocationCompleted is the newest event), so
    new events only come from a timer or a callback: no quick re-poll is needed even after a change.
    """
    if terminal and history_complete:
        return PollPlan(None, 0, FINISHING, "done")
    if terminal:
        return PollPlan(now, 0, FINISHING, REASONS[FINISHING])
    future_timers = [moment + timedelta(seconds=config.timer_grace) for moment in timers if moment > now]
    overdue_timers = any(moment <= now for moment in timers)
    if changed and suspended:
        previous_backoff = 0  # fresh news: an idle callback starts again from the shortest backoff
    if changed and not suspended:
        backoff = config.active
        plan_at, priority = now + timedelta(seconds=backoff), ACTIVE
    elif idle_open or overdue_timers or not future_timers:
        backoff = min(config.cap, max(config.idle_base, previous_backoff * 2))
        plan_at, priority = now + timedelta(seconds=backoff), IDLE
    else:
        backoff = previous_backoff
        plan_at, priority = min(future_timers), TIMER
    if future_timers and min(future_timers) < plan_at:
        plan_at, priority = min(future_timers), TIMER
    return PollPlan(plan_at, int(backoff), priority, REASONS[priority])


# Share of each cycle's budget for the most overdue executions, whatever their class: a floor, not a boost
# (5 of the 99 fetches of a 10 calls/s x 10 s cycle). Each call it takes beyond what idle executions get
# anyway comes from due waits, which are then late in turn: in benchmarks/sync.py's mix A a 10 % share
# made 1 % more changes late beyond 30 s, a 20 % share made waits' p95 264 s.
OVERDUE_SHARE = 0.05


def overdue_reserve(limit: int, share: float = OVERDUE_SHARE) -> int:
    return min(limit, math.ceil(limit * share)) if share > 0 else 0


def due_select(*, by_priority: Iterable, by_lateness: Iterable, limit: int, share: float = OVERDUE_SHARE) -> list:
    """Pick at most `limit` of the due executions for this cycle.

    Strict priority starves the lowest class (idle callbacks) for as long as higher classes fill
    the budget, so `overdue_reserve(limit)` calls of every cycle go to the most overdue executions
    (`by_lateness`: oldest next_poll_at first, any class) and the rest to `by_priority` (priority,
    then oldest next_poll_at). Each execution waits at most (executions due before it) / reserve
    cycles. When the lower classes get more than the reserve anyway, the order is plain priority.
    Both iterables hold due ids and are read lazily; `by_priority` must offer limit + reserve ids.
    The reserved picks come last: they are already late and a few seconds more cost them little.
    """
    reserved: dict = {}
    late = iter(by_lateness)
    while len(reserved) < overdue_reserve(limit, share) and (ident := next(late, None)) is not None:
        reserved[ident] = None
    chosen: dict = {}
    ranked = iter(by_priority)
    while len(chosen) + len(reserved) < limit and (ident := next(ranked, None)) is not None:
        if ident not in reserved:
            chosen[ident] = None
    return [*chosen, *reserved]
