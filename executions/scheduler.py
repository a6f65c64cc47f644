"""When to fetch an execution's history next: by priority, not round-robin.

- new executions: at once (priority NEW);
- finished executions whose history is not complete yet: at once (FINISHING);
- recent activity: again after POLL_ACTIVE_SECONDS, then backing off (ACTIVE);
- idle in a wait (or a step retry delay): not before its scheduled end (TIMER);
- idle on a callback, a running step or a chained invoke: exponential backoff
  from POLL_IDLE_BASE_SECONDS up to POLL_BACKOFF_CAP_SECONDS (IDLE);
- finished with a complete history: never again;
- pushed (the function reports its own changes through the console-push plugin, EventBridge its ends):
  no timer or backoff polls, one repair poll after the last fetch (IDLE, "pushed-idle") to find a lost
  push, POLL_PUSHED_IDLE_SECONDS or, with more pushing executions than REPAIR_SHARE of the budget can
  sweep in that time, longer (`pushed_idle_seconds`); a received push makes the execution due at once
  (`push_received_plan`: NEW, "pushed"), so one fetch confirms what the push showed.
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
PUSHED, PUSHED_IDLE = "pushed", "pushed-idle"  # reasons of a push's fetch (NEW) and of the repair poll (IDLE)


# Share of the API budget the repair sweep of pushing executions may take at most: `pushed_idle_seconds` stretches
# the interval so that polling every pushing execution once per interval costs no more. A ceiling: the sweep spends
# far less, as every push's fetch restarts an execution's interval. In benchmarks/sync.py's push+poll runs (10,000
# pushing executions, 10 calls/s, 8.3 changes/s, mixes A / B / C, goal at most 1.1 calls per change):
#   share 1/2 (2000 s): 1.15 / 1.16 / 1.17 calls per change (fails: waits last up to 38 min);
#   share 0.4 (2500 s): 1.045 / 1.057 / 1.070;  share 1/3 (3000 s): 1.035 / 1.043 / 1.050;
#   share 1/4 (4000 s): 1.026 / 1.028 / 1.031, while the rare change whose reports were all lost is seen up to 4000 s
#   late instead of 3000 s. Every share kept reported changes' p95 at 1.9 s and lost no change; the fixed 900 s
#   (11 calls/s to sweep 10,000) cost 1.18-1.19 calls per change, its repair polls ~1,050 s late anyway.
# 1/3: the goal with a margin in every mix, and a lost change still found within the hour at that scale.
REPAIR_SHARE = 1 / 3


def pushed_idle_seconds(*, pushing: int, rate: float, floor: float, share: float = REPAIR_SHARE) -> float:
    """Seconds from a pushing execution's last fetch to its repair poll: `floor` (POLL_PUSHED_IDLE_SECONDS), or
    longer when `pushing` executions (running ones that push) polled once per `floor` would take more than
    `share` of the budget (`rate`: DURABLE_API_MAX_RPS, calls/s): max(floor, pushing / (rate * share)).

    A shorter interval than the budget allows buys nothing: the repair polls (IDLE, behind every other class in
    `due_select`) are only late, and their calls are taken from other work. `pushing` below 0 counts as 0; `rate`
    is clamped as the governor does (at least 0.1 calls/s); `share` must be positive.
    """
    if share <= 0:
        raise ValueError(f"share must be positive, not {share}")
    return max(float(floor), max(0, pushing) / (max(0.1, rate) * share))


@dataclass(frozen=True)
class PollConfig:
    active: float
    idle_base: float
    cap: float
    timer_grace: float
    pushed_idle: float = 900.0  # the effective repair interval (`pushed_idle_seconds`), not only the floor

    @classmethod
    def from_settings(cls, pushing: int = 0) -> PollConfig:
        """The settings' intervals; `pushing`: running executions that push, which stretch the repair interval
        beyond POLL_PUSHED_IDLE_SECONDS when the budget (DURABLE_API_MAX_RPS) can't sweep them that often."""
        return cls(
            active=settings.POLL_ACTIVE_SECONDS,
            idle_base=settings.POLL_IDLE_BASE_SECONDS,
            cap=settings.POLL_BACKOFF_CAP_SECONDS,
            timer_grace=settings.POLL_WAIT_GRACE_SECONDS,
            pushed_idle=pushed_idle_seconds(
                pushing=pushing,
                rate=float(settings.DURABLE_API_MAX_RPS),
                floor=getattr(settings, "POLL_PUSHED_IDLE_SECONDS", 900),
            ),
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
    pushed: bool = False,
) -> PollPlan:
    """Plan the next history fetch.

    `timers`: scheduled ends of open waits and next attempts of pending step retries.
    `idle_open`: something open that ends at an unknown time (callback, running step, invoke),
    or nothing open at all (between invocations).
    `suspended`: the last invocation has completed (its InvocationCompleted is the newest event), so
    new events only come from a timer or a callback: no quick re-poll is needed even after a change.
    `pushed`: the execution reports its changes itself (console-push plugin; EventBridge reports its end), so
    its timers and backoff are not polled: the invocation after a timer or a callback reports itself. Only a
    repair poll `config.pushed_idle` after this fetch (`pushed_idle_seconds`), which finds a push that was lost.
    """
    if terminal and history_complete:
        return PollPlan(None, 0, FINISHING, "done")
    if terminal:
        return PollPlan(now, 0, FINISHING, REASONS[FINISHING])
    if pushed:
        # After a change with the invocation still running: the ACTIVE re-poll, as without push. Its end report
        # would make the execution due anyway, and benchmarks/sync.py measures the same calls per change either
        # way (a report's fetch waits for the next cycle, so under 4 fetches in 10,000 see an invocation running,
        # and the end report comes before either plan is due); the re-poll reads the rest of the invocation at
        # once when that report is lost, instead of after pushed_idle.
        if changed and not suspended:
            return PollPlan(now + timedelta(seconds=config.active), int(config.active), ACTIVE, REASONS[ACTIVE])
        return PollPlan(now + timedelta(seconds=config.pushed_idle), int(previous_backoff), IDLE, PUSHED_IDLE)
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


def push_received_plan(*, now: datetime, next_poll_at: datetime | None = None) -> PollPlan:
    """What a push does to the schedule of a running execution (a report of the console-push plugin, or an
    EventBridge status change): due at once, ahead of timers and idle polls (NEW, "pushed"), so that the next
    cycle's fetch confirms what the push showed; the console shows the pushed state before that fetch.

    Pushes coalesce: `next_poll_at` is the execution's current plan, and an earlier one is kept (a fetch is
    due already and will see this push's news; it keeps its place among the most overdue). The backoff
    starts again from the shortest, as after any news. The caller ignores pushes for executions it does
    not poll any more (finished with a complete history, imported).
    """
    at = next_poll_at if next_poll_at is not None and next_poll_at < now else now
    return PollPlan(at, 0, NEW, PUSHED)


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
