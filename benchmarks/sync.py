"""Execution-sync benchmark: API calls and wall time of a steady-state cycle vs a naive full re-fetch
(real emulator), and, on a simulated 10,000 running executions at 10 calls/s, the detection delay of the
priority scheduler vs round-robin, then push+poll vs poll-only.

    python -m benchmarks sync                      # both parts
    python -m benchmarks.sync --part sim           # simulation only (under a minute)
    python -m benchmarks.sync --part live --executions 1000 --running 100

The live part runs in a child process on a throw-away database (var/ is untouched).

The simulation runs the real `executions.scheduler` (poll_plan, due_select, push_received_plan) on a fake
clock. Poll-only: one table per mix of idle phases (waits, callbacks answered in the console or elsewhere).
Push+poll: every execution runs the console-push plugin (a report at each invocation's start and end),
EventBridge reports ends (including stops and timeouts, which no invocation reports); each report arrives
after 0.2-2 s and 1 % are lost. A change is visible when a report covering it arrives; the report makes the
execution due at once (NEW) so one fetch confirms it, and pushing executions are otherwise only polled by a
repair poll after their last fetch (poll_plan(pushed=True)), which finds what a lost report hid: the adaptive
interval of `pushed_idle_seconds` (POLL_PUSHED_IDLE_SECONDS, stretched to what REPAIR_SHARE of the budget can
sweep), and a fixed POLL_PUSHED_IDLE_SECONDS for comparison. The comparison prints, per mix, p50/p95/max
change-to-visible, the lost changes apart, the share seen only by the repair poll, API calls per change and
changes never seen, and pass/fail for the goals (adaptive interval): p95 < 5 s for reported changes, at most
1.1 calls per change, no change lost.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import os
import random
import statistics
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks._child import child_run

# --- live: the real emulator ------------------------------------------------------------------------


def _live(executions: int, running: int) -> dict:
    import boto3
    import django
    from botocore.config import Config

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from core.aws import aws_clients_reset
    from executions import durable_api
    from executions.models import Execution
    from executions.sync import execution_history_sync, functions_sync
    from tests.localstack import TEST_REGION, local_stack_start
    from tests.workflows.registry import TEST_FUNCTIONS

    call_command("migrate", verbosity=0)
    stack = local_stack_start(log_dir=Path(os.environ["VAR_DIR"]) / "logs", functions=TEST_FUNCTIONS)
    try:
        settings.LAMBDA_ENDPOINT_URL = stack.gateway_url
        settings.AWS_LOCAL_CREDENTIALS = True
        settings.AWS_REGION = TEST_REGION
        settings.DURABLE_FUNCTIONS = ["SyncQuick", "SyncHold"]
        aws_clients_reset()
        client = boto3.client(
            "lambda",
            endpoint_url=stack.gateway_url,
            region_name=TEST_REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 5, "mode": "standard"}, max_pool_connections=16),
        )
        finished = executions - running

        def start(item):
            function, payload = item
            client.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(payload).encode())

        work = [("SyncHold", {"timeout": 3600})] * running + [("SyncQuick", {"n": n}) for n in range(finished)]
        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(start, work))

        def count(function, status):
            paginator = client.get_paginator("list_durable_executions_by_function")
            pages = paginator.paginate(FunctionName=function, PaginationConfig={"PageSize": 1000})
            return sum(1 for page in pages for e in page["DurableExecutions"] if e["Status"] == status)

        while count("SyncQuick", "SUCCEEDED") < finished:
            time.sleep(2)
        time.sleep(3)  # the held executions reach their callback
        print(f"  started {executions} executions ({finished} finished, {running} on a callback) "
              f"in {time.monotonic() - began:.0f} s", flush=True)  # fmt: skip

        # Measured without the budget's pacing (ratios of calls and of work); the 10 calls/s figure follows.
        settings.DURABLE_API_MAX_RPS = 100_000
        first = functions_sync()
        time.sleep(settings.POLL_IDLE_BASE_SECONDS + 0.5)
        steady_due = functions_sync()  # every running execution is due at once (the worst steady-state cycle)
        steady_idle = functions_sync()  # within their backoff: only the list calls

        # Naive baseline: list everything, re-fetch every history in full (same storage code, known events skipped).
        calls, began = durable_api.api_calls_made(), time.monotonic()
        for function in settings.DURABLE_FUNCTIONS:
            for _ in durable_api.executions_list_pages(function_name=function, page_size=1000):
                pass
        Execution.objects.update(history_marker="", history_complete=False)
        for execution_id in Execution.objects.values_list("pk", flat=True):
            execution_history_sync(execution_id=execution_id)
        baseline = {
            "api_calls": durable_api.api_calls_made() - calls,
            "duration_ms": int((time.monotonic() - began) * 1000),
        }
        for execution in Execution.objects.filter(status="RUNNING"):
            durable_api.execution_stop(execution_arn=execution.arn, error_type="Benchmark", message="done")
        return {"first": first, "steady_due": steady_due, "steady_idle": steady_idle, "baseline": baseline}
    finally:
        stack.stop()


def live_report(executions: int, running: int) -> None:
    code = f"import json, benchmarks.sync as b; print(json.dumps(b._live({executions}, {running})))"
    result = child_run(["-c", code])
    base = result["baseline"]
    print(f"  initial cycle: {json.dumps(result['first'])}")
    for label, key in (
        ("steady state, all running due", "steady_due"),
        ("steady state, within backoff", "steady_idle"),
    ):
        cycle = result[key]
        print(
            f"  {label:32s}: {cycle['api_calls']:5d} calls "
            f"({cycle['api_calls'] / base['api_calls']:.3f}x baseline), {cycle['duration_ms']:6d} ms "
            f"({cycle['duration_ms'] / max(1, base['duration_ms']):.3f}x), "
            f"{cycle['api_calls'] / 10:.1f} s at 10 calls/s"
        )
    print(
        f"  {'naive full re-fetch baseline':32s}: {base['api_calls']:5d} calls, {base['duration_ms']:6d} ms, "
        f"{base['api_calls'] / 10:.1f} s at 10 calls/s"
    )
    # Derived, not measured: once every backoff has reached its cap, each held execution costs one call per cap.
    average = result["steady_idle"]["api_calls"] + running * 10 / 300
    print(f"  long-run average per 10 s cycle with backoffs at the 300 s cap: {average:.1f} calls "
          f"({average / base['api_calls']:.3f}x baseline)")  # fmt: skip


# --- simulation: fake clock, fake API ------------------------------------------------------------------

WAIT, CONSOLE_CALLBACK, EXTERNAL_CALLBACK, ENDED = "wait", "console_callback", "external_callback", "ended"
KINDS = (WAIT, CONSOLE_CALLBACK, EXTERNAL_CALLBACK)


class SimExecution:
    """One running execution of the model, and what the poller knows about it."""

    __slots__ = (
        "backoff",
        "busy_until",
        "done",
        "end_at",
        "ident",
        "kind",
        "news",
        "next_poll",
        "phase_end",
        "planned",
        "priority",
        "reason",
        "unseen",
    )

    def __init__(self, ident: int):
        self.ident = ident
        self.kind = WAIT  # what it is idle on now
        self.phase_end = 0.0  # when it resumes (the change)
        self.end_at: float | None = None  # when it ends instead (stopped or timed out), if it does
        self.busy_until = 0.0  # the resumed invocation writes its events until then
        self.unseen: list[tuple[float, str, bool]] = []  # changes not shown yet: (moment, kind, reported)
        self.news = False  # events the poller has not fetched yet (with push, possibly shown already)
        self.done = False  # finished and fully fetched: never polled again
        self.next_poll: float | None = 0.0  # None while picked for the current cycle
        self.planned = 0.0  # the next_poll_at of its last plan
        self.backoff = 0.0
        self.priority = 0
        self.reason = ""


def simulate(
    *,
    scheduler: str,
    executions: int = 10_000,
    rate: float = 10.0,
    interval: float = 10.0,
    change_per_minute: float = 0.05,
    minutes: float = 120,
    warmup_minutes: float = 30,
    mix: tuple[float, float, float] = (0.80, 0.16, 0.04),
    console_syncs: bool = True,
    seed: int = 7,
    push: bool = False,
    pushed_idle: float = 900.0,
    repair_share: float | None = None,
    push_delay: tuple[float, float] = (0.2, 2.0),
    loss: float = 0.01,
    ends: float = 0.0,
    list_interval: float | None = None,
    repoll_running: bool | None = None,
    tail_minutes: float = 0.0,
) -> dict:
    """Detection delays (seconds) of one scheduler on the model below, with a fake clock and a fake API.

    Model: every execution is idle, then resumes (the change), runs for 0.3-2 s (its invocation writes
    events), and suspends again on its next idle phase. Idle phases last 20 min on average (so 5 % of
    executions change per minute) and are, by `mix`, durable waits (their end is in WaitStarted),
    callbacks answered in the console (which syncs that execution right after answering, or with
    `console_syncs=False` only marks it due after the resumed invocation, without a call) or callbacks
    answered elsewhere (unpredictable). A fetch during the invocation sees a partial change (not
    suspended); after it, the whole change and the next idle phase. With `ends`, that share of idle phases
    is cut short at a uniform moment by the execution's end (stopped, timed out: a change no invocation
    reports), and a new execution takes its place at once (it is fetched once, as new, and is not a measured
    change). Changes come from a random stream of their own, so every scheduler and mode sees the same ones.
    Schedulers: "ours" (scheduler.py), "strict priority" (ours without the overdue share: the policy
    before it), "round-robin". Poller: like `functions_sync`, every `interval` seconds one list call,
    then the due executions picked by the scheduler for the rest of the cycle's budget (minus picks not
    fetched yet), fetched one per 1/rate s after any console sync. "Delay" is from the change to the
    first fetch that sees it; changes still unseen at the end count with their age so far (a lower bound).

    `push`: every execution runs the console-push plugin, which reports each invocation twice (its start,
    with what changed since the last one, and its end, with what it did), each report arriving after a
    uniform `push_delay` and lost with probability `loss`; EventBridge reports ends (same delay and loss)
    and new executions (their first fetch is then due on arrival, else at the next list call). A change is
    visible when a report that covers it arrives (its own or a later one of the same execution) or when a
    fetch sees it. A report makes the execution due at once (`push_received_plan`; reports waiting for the
    same fetch share it), and each fetch plans the next poll with `poll_plan(pushed=True)`: no timer or
    backoff polls, a repair poll `pushed_idle` after the fetch, or with `repair_share` the scheduler's adaptive
    interval for `executions` pushing executions (`pushed_idle_seconds`, `pushed_idle` its floor).
    `repoll_running` overrides poll_plan's choice after a fetch that sees an invocation still running (True:
    re-poll after POLL_ACTIVE_SECONDS, False: wait for its end report or the repair poll). The console marks an
    answered execution due (as `execution_poll_soon`; `console_syncs` does not apply). The list call runs every
    `list_interval` seconds.
    `tail_minutes`: after the measured window, run on (changes no longer measured) until every measured
    change has been seen, for at most that long; those still unseen then are "never seen".
    """
    from executions.scheduler import (
        IDLE,
        NEW,
        OVERDUE_SHARE,
        PUSHED_IDLE,
        REASONS,
        PollConfig,
        due_select,
        poll_plan,
        push_received_plan,
        pushed_idle_seconds,
    )

    share = OVERDUE_SHARE if scheduler == "ours" else 0.0
    rng = random.Random(seed)
    # Ends, then pushes, from streams of their own: every mode sees the changes drawn from `rng` and `ending`.
    ending, side, order = random.Random(seed + 1), random.Random(seed + 2), itertools.count()
    if repair_share is not None:  # every running execution pushes, and an ended one is replaced at once
        pushed_idle = pushed_idle_seconds(pushing=executions, rate=rate, floor=pushed_idle, share=repair_share)
    config = PollConfig(active=2, idle_base=10, cap=300, timer_grace=2, pushed_idle=pushed_idle)
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    mean_idle = 60 / change_per_minute
    warmup, end, tick = warmup_minutes * 60, (warmup_minutes + minutes) * 60, 1.0 / rate
    stop = end + tail_minutes * 60
    list_every = list_interval or interval
    resumes: list[tuple[float, int]] = []  # (phase end or end of the execution, execution)
    arrivals: list[tuple[float, int, int, float]] = []  # reports: (arrival, order, execution, covers changes until)
    console: deque[int] = deque()
    picked: deque[int] = deque()  # this cycle's (and leftover) picks, in order
    delays: dict[str, list[float]] = {kind: [] for kind in (*KINDS, ENDED)[: 4 if ends else 3]}
    seen: list[tuple[float, bool, str]] = []  # measured changes: (delay, reported by their own push, seen by)
    idle_late: list[float] = []  # for fetches planned as IDLE: how late after their next_poll_at
    calls: dict[str, int] = {}
    running_fetches = 0  # with push: fetches that saw an invocation still running (after a change)
    sims = [SimExecution(i) for i in range(executions)]
    queues: list[list] = [[] for _ in range(5)]  # one heap of (next_poll, ident) per priority
    by_due: list = []  # one heap of (next_poll, ident) for all
    pending = 0  # measured changes not seen yet

    def at_time(seconds: float) -> datetime:
        return epoch + timedelta(seconds=seconds)

    def idle_phase(sim: SimExecution, start: float) -> None:
        roll = rng.random()
        sim.kind = WAIT if roll < mix[0] else CONSOLE_CALLBACK if roll < mix[0] + mix[1] else EXTERNAL_CALLBACK
        duration = rng.uniform(0.1, 1.9) * mean_idle if sim.kind == WAIT else rng.expovariate(1 / mean_idle)
        sim.phase_end = start + duration
        if ends and start >= 0 and ending.random() < ends:
            sim.end_at = start + ending.uniform(0, duration)
            heapq.heappush(resumes, (sim.end_at, sim.ident))
        else:
            heapq.heappush(resumes, (sim.phase_end, sim.ident))

    def schedule(sim: SimExecution, at: float, priority: int, reason: str | None = None) -> None:
        sim.next_poll, sim.planned, sim.priority = at, at, priority
        sim.reason = reason or REASONS[priority]
        heapq.heappush(queues[priority], (at, sim.ident))
        heapq.heappush(by_due, (at, sim.ident))

    def delivered(sent: float) -> float | None:
        """When a push (plugin report or EventBridge event) sent at `sent` arrives; None if it is lost."""
        return None if side.random() < loss else sent + side.uniform(*push_delay)

    def report(sim: SimExecution, covers: float, sent: float) -> bool:
        arrival = delivered(sent)
        if arrival is not None:
            heapq.heappush(arrivals, (arrival, next(order), sim.ident, covers))
        return arrival is not None

    def change(sim: SimExecution, moment: float, kind: str) -> None:
        nonlocal pending
        sim.news = True
        reported = report(sim, moment, moment) if push else True  # the invocation's start (EventBridge: an end)
        sim.unseen.append((moment, kind, reported))
        pending += warmup <= moment < end

    def shown(sim: SimExecution, at: float, covers: float, how: str) -> None:
        nonlocal pending
        keep = []
        for moment, kind, reported in sim.unseen:
            if moment > covers:
                keep.append((moment, kind, reported))
            elif warmup <= moment < end:
                delays[kind].append(at - moment)
                seen.append((at - moment, reported, how))
                pending -= 1
        sim.unseen = keep

    # The two orders `executions_due` reads from the database (stale heap entries are skipped).
    def due_by_priority(now: float):
        for priority, queue in enumerate(queues):
            while queue and queue[0][0] <= now:
                at, ident = heapq.heappop(queue)
                if sims[ident].next_poll == at and sims[ident].priority == priority:
                    yield ident

    def due_by_lateness(now: float):
        while by_due and by_due[0][0] <= now:
            at, ident = heapq.heappop(by_due)
            if sims[ident].next_poll == at:
                yield ident

    # Stationary start: every execution is mid-phase and already synced once.
    for sim in sims:
        idle_phase(sim, -rng.uniform(0, mean_idle))
        while sim.phase_end < 0:
            heapq.heappop(resumes)
            idle_phase(sim, sim.phase_end)
        if sim.kind == WAIT:
            at, priority = sim.phase_end + config.timer_grace, 2
        else:
            sim.backoff = config.cap
            at, priority = rng.uniform(0, config.cap), 4
        if push:
            schedule(sim, side.uniform(0, pushed_idle), IDLE, PUSHED_IDLE)
        else:
            schedule(sim, at, priority)

    def fetch(sim: SimExecution, now: float, reason: str) -> None:
        nonlocal running_fetches
        if warmup <= now < end:
            calls[reason] = calls.get(reason, 0) + 1
        changed, sim.news = sim.news, False
        shown(sim, now, now, reason)
        if scheduler == "round-robin":
            return
        if sim.end_at is not None and sim.end_at <= now:  # finished, and this fetch read all of it
            sim.done, sim.next_poll = True, None
            return
        suspended = now >= sim.busy_until
        waiting = sim.kind == WAIT and suspended
        pushed, news = push, changed
        if push and changed and not suspended and warmup <= now < end:
            running_fetches += 1
        if push and changed and not suspended and repoll_running is not None:  # what-if: poll_plan's choice forced
            pushed, news = (False, True) if repoll_running else (True, False)  # ACTIVE re-poll / repair poll only
        plan = poll_plan(
            now=at_time(now),
            terminal=False,
            history_complete=False,
            changed=news,
            timers=[at_time(sim.phase_end)] if waiting else [],
            idle_open=not waiting,
            previous_backoff=sim.backoff,
            config=config,
            suspended=suspended,
            pushed=pushed,
        )
        sim.backoff = plan.backoff_seconds
        schedule(sim, (plan.next_poll_at - epoch).total_seconds(), plan.priority, plan.reason)

    def wake(sim: SimExecution, now: float, at: float, reason: str) -> None:
        """A push (or the console's answer) makes a known execution due; one already picked needs nothing."""
        if sim.done or sim.next_poll is None:
            return
        plan = push_received_plan(now=at_time(at), next_poll_at=at_time(sim.next_poll))
        sim.backoff = plan.backoff_seconds
        schedule(sim, (plan.next_poll_at - epoch).total_seconds(), plan.priority, reason or plan.reason)

    budget = int(rate * interval) - 1  # minus the list call, as in functions_sync
    now, cursor, next_cycle, next_list = 0.0, 0, 0.0, 0.0
    while now < end or (now < stop and pending):
        while resumes and resumes[0][0] <= now:
            moment, ident = heapq.heappop(resumes)
            sim = sims[ident]
            if sim.end_at == moment:  # it ends (stopped, timed out): no invocation, EventBridge only
                change(sim, moment, ENDED)
                new = SimExecution(len(sims))
                sims.append(new)
                idle_phase(new, moment)
                new.busy_until, new.news, new.backoff = moment, True, 0
                found = delivered(moment) if push else None  # EventBridge's RUNNING (or its first report)
                schedule(new, found if found is not None else next_list, NEW)  # else the next list call finds it
                continue
            change(sim, moment, sim.kind)
            if sim.kind == CONSOLE_CALLBACK and push:
                wake(sim, moment, moment + config.active, "answered")
            elif sim.kind == CONSOLE_CALLBACK and console_syncs:
                console.append(ident)
            elif sim.kind == CONSOLE_CALLBACK and scheduler != "round-robin":
                sim.backoff = 0
                schedule(sim, moment + config.active, NEW)
            sim.busy_until = moment + rng.uniform(0.3, 2.0)
            if push:
                report(sim, sim.busy_until, sim.busy_until)  # the invocation's end
            idle_phase(sim, sim.busy_until)
        while arrivals and arrivals[0][0] <= now:
            arrived, _, ident, covers = heapq.heappop(arrivals)
            sim = sims[ident]
            shown(sim, arrived, covers, "push")
            wake(sim, now, now, "")
        listed = False
        if now >= next_cycle:  # a cycle starts: its list call, if any, takes this slot
            next_cycle += interval
            if now >= next_list:
                next_list += list_every
                listed = True
                calls["list"] = calls.get("list", 0) + int(warmup <= now < end)
            limit = budget + (not listed) - len(picked)
            if limit > 0 and scheduler == "round-robin":
                picked.extend((cursor + i) % len(sims) for i in range(limit))
                cursor = (cursor + limit) % len(sims)
            elif limit > 0:
                chosen = due_select(
                    by_priority=due_by_priority(now), by_lateness=due_by_lateness(now), limit=limit, share=share
                )
                for ident in chosen:
                    sims[ident].next_poll = None
                picked.extend(chosen)
        if listed:
            pass  # the list call took this slot
        elif console:
            fetch(sims[console.popleft()], now, "console")
        elif picked:
            sim = sims[picked.popleft()]
            reason = "round-robin" if scheduler == "round-robin" else sim.reason
            if sim.priority == IDLE and scheduler != "round-robin" and warmup <= now < end:
                idle_late.append(now - sim.planned)
            fetch(sim, now, reason)
        now += tick

    final = end if not tail_minutes else now
    unseen = 0
    for sim in sims:
        for moment, kind, reported in sim.unseen:
            if warmup <= moment < end:
                delays[kind].append(final - moment)
                seen.append((final - moment, reported, "never"))
                unseen += 1
        if scheduler != "round-robin" and sim.priority == IDLE and sim.next_poll is not None and sim.next_poll < final:
            idle_late.append(final - sim.next_poll)  # still waiting: late so far
    every = [d for values in delays.values() for d in values]

    def pct(values, q):
        return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else float("nan")

    measured = end - warmup
    reported = [d for d, own, _ in seen if own]
    lost = [d for d, own, _ in seen if not own]
    return {
        "changes": len(every),
        "unseen": unseen,
        "p50": pct(every, 50),
        "p95": pct(every, 95),
        "max": max(every, default=float("nan")),
        "over_30s": sum(d > 30 for d in every) / max(1, len(every)),
        "by_kind": {kind: (len(values), pct(values, 50), pct(values, 95)) for kind, values in delays.items()},
        "idle_late": (pct(idle_late, 50), pct(idle_late, 95), max(idle_late, default=float("nan"))),
        "calls_per_second": {reason: count / measured for reason, count in sorted(calls.items())},
        "calls_per_change": sum(calls.values()) / max(1, len(every)),
        "fetches": sum(count for reason, count in calls.items() if reason != "list"),
        "running_fetches": running_fetches,
        "reported": (len(reported), pct(reported, 50), pct(reported, 95), max(reported, default=float("nan"))),
        "lost": (len(lost), pct(lost, 50), pct(lost, 95), max(lost, default=float("nan"))),
        "seen_by": {how: sum(1 for _, _, h in seen if h == how) for how in sorted({h for _, _, h in seen})},
        "sweep_only": sum(1 for _, own, how in seen if how == PUSHED_IDLE and not own) / max(1, len(seen)),
        "pushed_idle": pushed_idle,
        "lost_by": {h: sum(1 for _, own, how in seen if how == h and not own) for h in sorted({h for _, _, h in seen})},
    }


def budget_arithmetic(mix, *, executions=10_000, rate=10.0, change_per_minute=0.05, cap=300.0) -> dict:
    """Calls/s the policy needs (the backoff's first steps and the wait grace ignored): one per wait end, two
    per console answer (its sync sees the invocation still running, then one more), one list call per 10 s,
    and, to keep every execution on a callback within the backoff cap, one per cap per such execution."""
    changes = executions * change_per_minute / 60
    fixed = changes * (mix[0] + 2 * mix[1]) + 0.1
    on_callbacks = executions * (mix[1] + mix[2])  # idle phases have the same mean length
    return {"changes": changes, "fixed": fixed, "on_callbacks": on_callbacks, "at_cap": on_callbacks / cap}


SIM_MIXES = [
    ("A: 80 % waits, 16 % callbacks answered in the console, 4 % answered elsewhere", (0.80, 0.16, 0.04)),
    ("B: 70 % waits, 20 % callbacks answered in the console, 10 % answered elsewhere", (0.70, 0.20, 0.10)),
    ("C: 60 % waits, 34 % answered in the console, 6 % elsewhere (more due work than calls)", (0.60, 0.34, 0.06)),
]
SIM_ROWS = [  # label, scheduler, the console syncs after answering
    ("ours", "ours", True),
    ("before (strict)", "strict priority", True),
    ("round-robin", "round-robin", True),
    ("ours, console marks due", "ours", False),
]


# Push+poll runs: the same changes, plus ends (stops, timeouts) that only EventBridge reports, and a tail.
SIM_ENDS = 0.02  # share of idle phases cut short by the execution's end
SIM_TAIL_MINUTES = 180
SIM_LIST_INTERVAL = 300  # SYNC_LIST_INTERVAL_SECONDS' default: EventBridge brings new executions in
# POLL_PUSHED_IDLE_SECONDS' default: the floor of the adaptive repair interval (pushed_idle_seconds with
# REPAIR_SHARE: 3000 s for 10,000 pushing executions at 10 calls/s), and the fixed interval it is compared with (the
# policy before it: 11 calls/s to sweep 10,000 executions, more than the budget).
SIM_PUSHED_IDLE = 900
GOAL_P95_SECONDS, GOAL_CALLS_PER_CHANGE = 5.0, 1.1


def push_report(polled: dict[str, dict]) -> None:
    """poll-only vs push+poll, per mix; `polled`: the "ours" rows above, by mix letter (no ends, no tail)."""
    from executions.scheduler import REPAIR_SHARE, pushed_idle_seconds

    push = dict(push=True, ends=SIM_ENDS, list_interval=SIM_LIST_INTERVAL, pushed_idle=SIM_PUSHED_IDLE)
    adaptive = dict(repair_share=REPAIR_SHARE, **push)
    modes = [("adaptive", f"repair adaptive (floor {SIM_PUSHED_IDLE} s)", adaptive)]
    modes.append(("fixed", f"repair fixed {SIM_PUSHED_IDLE} s", push))
    print(
        f"\n  push+poll vs poll-only: the same changes, plus {SIM_ENDS * 100:.0f} % of idle phases cut short by a stop "
        "or a timeout (EventBridge reports it, no invocation does);\n"
        "  plugin reports (an invocation's start and its end) and EventBridge events arrive after 0.2-2 s, 1 % "
        f"lost; with push the list call runs every {SIM_LIST_INTERVAL} s;\n"
        f"  runs go on until every measured change is seen (at most {SIM_TAIL_MINUTES} min), so no delay is a "
        "lower bound except in the first row of each mix\n"
        "  (the run above: no ends, no tail; its never seen are the changes still unseen at its end).\n"
        "  visible: when a report covering the change arrives or a fetch sees it; reported: its own report "
        "arrived; lost: it did not (measured apart);\n"
        "  sweep only: lost and first seen by the repair poll (pushed-idle); calls/change: every API call "
        "(lists and new executions' fetches too) / changes.\n"
        "  repair adaptive: pushed_idle_seconds = max(floor, pushing executions / (calls/s x REPAIR_SHARE)) = "
        f"max({SIM_PUSHED_IDLE}, 10,000 / (10 x {REPAIR_SHARE:.3g})) = "
        f"{pushed_idle_seconds(pushing=10_000, rate=10, floor=SIM_PUSHED_IDLE):.0f} s; "
        f"repair fixed: {SIM_PUSHED_IDLE} s whatever the number (the policy before)."
    )
    print(
        f"    {'':45s}{'visible after (s): p50':>22s}{'p95':>8s}{'max':>8s}{'reported p95':>14s}"
        f"{'lost: n  p50 / p95 / max':>27s}{'sweep only':>12s}{'calls/change':>14s}{'never seen':>12s}"
    )
    rows: dict[tuple[str, str], dict] = {}
    for label, mix in SIM_MIXES:
        letter = label[0]
        runs = [("poll-only (row ours above)", polled[letter])]
        runs.append(("poll-only", simulate(scheduler="ours", mix=mix, ends=SIM_ENDS, tail_minutes=SIM_TAIL_MINUTES)))
        for key, name, mode in modes:
            result = simulate(scheduler="ours", mix=mix, tail_minutes=SIM_TAIL_MINUTES, **mode)
            runs.append((f"push+poll, {name}", result))
            rows[letter, key] = result
        for name, result in runs:
            pushed = name.startswith("push")
            n, p50, p95, worst = result["lost"]
            lost = f"{n:5d}  {p50:.1f} / {p95:.1f} / {worst:.0f}" if pushed else "-"
            sweep = f"{result['sweep_only']:.3%}" if pushed else "-"
            reported = f"{result['reported'][2]:.1f}" if pushed else "-"
            print(
                f"    {letter}  {name:42s}{result['p50']:22.1f}{result['p95']:8.1f}{result['max']:8.0f}"
                f"{reported:>14s}{lost:>27s}"
                f"{sweep:>12s}{result['calls_per_change']:14.2f}{result['unseen']:12d}"
            )
        rows[letter, "what-if"] = simulate(
            scheduler="ours", mix=mix, tail_minutes=SIM_TAIL_MINUTES, repoll_running=False, **adaptive
        )
    letters = [label[0] for label, _ in SIM_MIXES]

    def verdict(ok: bool) -> str:
        return "pass" if ok else "FAIL"

    def per_mix(key: str, field: str, form: str) -> str:
        return " / ".join(format(rows[letter, key][field], form) for letter in letters)

    print(f"\n  goals for push+poll, repair adaptive (mixes {' / '.join(letters)}; the fixed interval for comparison):")
    for key, name, _ in modes:
        results = [rows[letter, key] for letter in letters]
        interval = " / ".join(f"{result['pushed_idle']:.0f}" for result in results)
        p95s = [result["reported"][2] for result in results]
        per_change = [result["calls_per_change"] for result in results]
        never = [result["unseen"] for result in results]
        repair = [result["calls_per_second"].get("pushed-idle", 0) for result in results]
        late = [result["idle_late"][0] for result in results]
        print(
            f"    {name}: interval {interval} s\n"
            f"      p95 of reported changes < {GOAL_P95_SECONDS:.0f} s: "
            f"{verdict(max(p95s) < GOAL_P95_SECONDS)} ({' / '.join(f'{v:.1f}' for v in p95s)} s); "
            f"at most {GOAL_CALLS_PER_CHANGE} calls per change: {verdict(max(per_change) <= GOAL_CALLS_PER_CHANGE)} "
            f"({' / '.join(f'{v:.2f}' for v in per_change)}); "
            f"no change lost: {verdict(not any(never))} ({' / '.join(map(str, never))} never seen)\n"
            f"      repair polls {' / '.join(f'{v:.2f}' for v in repair)} calls/s, "
            f"late p50 {' / '.join(f'{v:.0f}' for v in late)} s after their plan"
        )
    print(
        "  poll_plan(pushed=True) after a fetch that sees the invocation still running: ACTIVE re-poll "
        f"{per_mix('adaptive', 'calls_per_change', '.3f')} calls/change, repair poll only "
        f"{per_mix('what-if', 'calls_per_change', '.3f')} (repair adaptive; such fetches: "
        f"{per_mix('what-if', 'running_fetches', 'd')} of {per_mix('what-if', 'fetches', 'd')})"
    )


def sim_report() -> None:
    print("  simulation: 10,000 running executions, 10 calls/s, 10 s cycles, 5 %/min change, 120 min measured")
    print("  (fake clock; delay from a change to the fetch that sees it, seconds; still unseen at the end: age)")
    polled: dict[str, dict] = {}
    for label, mix in SIM_MIXES:
        need = budget_arithmetic(mix)
        spare, total = 10 - need["fixed"], need["fixed"] + need["at_cap"]
        print(f"\n  mix {label}")
        print(
            f"    budget: {need['changes']:.2f} changes/s; waits (1 call each), console answers (2) and the lister "
            f"need {need['fixed']:.2f} of 10 calls/s, leaving {spare:.2f}/s for the ~{need['on_callbacks']:.0f} "
            f"executions on a callback,\n    which need {need['at_cap']:.2f}/s to stay within the 300 s cap "
            f"({need['fixed'] + need['at_cap']:.1f}/s in all: {'feasible' if total <= 10 else 'impossible'})."
            f" p95 < 30 s allows 5 % of changes seen after 30 s; answers from elsewhere are {mix[2]:.0%},\n"
            f"    and whatever the order at most 30 s x {max(spare, 0):.2f}/s / {need['on_callbacks']:.0f} = "
            f"{30 * max(spare, 0) / need['on_callbacks']:.1%} of them can be seen within 30 s."
        )
        kinds = ("overall", "wait", "console answer", "answer elsewhere")
        print(
            f"    {'p50 / p95 (s)':24s}"
            + "".join(f"{kind:>18s}" for kind in kinds)
            + "  >30 s  idle late p50/max  unseen"
        )
        for row, scheduler, console_syncs in SIM_ROWS:
            result = simulate(scheduler=scheduler, mix=mix, console_syncs=console_syncs)
            if row == "ours":
                polled[label[0]] = result
            cells = [f"{result['p50']:.1f} / {result['p95']:.1f}"]
            cells += [f"{p50:.1f} / {p95:.1f}" for _, p50, p95 in result["by_kind"].values()]
            p50, _, worst = result["idle_late"]
            late = f"{p50:.0f} / {worst:.0f}" if scheduler != "round-robin" else "-"
            print(
                f"    {row:24s}"
                + "".join(f"{cell:>18s}" for cell in cells)
                + f"  {result['over_30s']:5.1%}  {late:>15s}  {result['unseen']:6d}"
            )
    push_report(polled)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sync",
        description=__doc__.split("\n\n")[0],
        epilog="sim: scheduler vs round-robin per mix, then push+poll vs poll-only with pass/fail for the goals "
        "(p95 < 5 s for reported changes, at most 1.1 API calls per change, no change lost).",
    )
    parser.add_argument(
        "--part",
        choices=["all", "live", "sim"],
        default="all",
        help="live: a steady-state cycle on the real local stack vs a full re-fetch (minutes); "
        "sim: the simulations only (fake clock, under a minute); all: both (default)",
    )
    parser.add_argument("--executions", type=int, default=1000, help="live: executions started (default 1000)")
    parser.add_argument("--running", type=int, default=100, help="live: of those, held on a callback (default 100)")
    args = parser.parse_args(argv if argv is not None else [])
    if args.part in ("all", "live"):
        live_report(args.executions, args.running)
    if args.part in ("all", "sim"):
        sim_report()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    main(sys.argv[1:])
