"""Execution-sync benchmark: API calls and wall time of a steady-state cycle vs a naive full re-fetch
(real emulator), and detection delay of the priority scheduler vs round-robin (simulation).

    python -m benchmarks sync                      # both parts
    python -m benchmarks.sync --part sim           # simulation only (seconds)
    python -m benchmarks.sync --part live --executions 1000 --running 100

The live part runs in a child process on a throw-away database (var/ is untouched).
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


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
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "VAR_DIR": tmp,
            "DURABLE_CONSOLE_ENV": "local",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("REDIS_URL", None)
        code = f"import json, benchmarks.sync as b; print('RESULT', json.dumps(b._live({executions}, {running})))"
        process = subprocess.run(
            [sys.executable, "-c", code], cwd=PROJECT, env=env, stdout=subprocess.PIPE, text=True, check=True
        )
    lines = process.stdout.splitlines()
    for line in lines:
        if not line.startswith("RESULT "):
            print(line)
    result = json.loads(next(line for line in lines if line.startswith("RESULT "))[7:])
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

WAIT, CONSOLE_CALLBACK, EXTERNAL_CALLBACK = "wait", "console_callback", "external_callback"
KINDS = (WAIT, CONSOLE_CALLBACK, EXTERNAL_CALLBACK)


class SimExecution:
    """One running execution of the model, and what the poller knows about it."""

    __slots__ = ("backoff", "busy_until", "ident", "kind", "next_poll", "phase_end", "planned", "priority", "unseen")

    def __init__(self, ident: int):
        self.ident = ident
        self.kind = WAIT  # what it is idle on now
        self.phase_end = 0.0  # when it resumes (the change)
        self.busy_until = 0.0  # the resumed invocation writes its events until then
        self.unseen: list[tuple[float, str]] = []  # changes the poller has not seen yet
        self.next_poll: float | None = 0.0  # None while picked for the current cycle
        self.planned = 0.0  # the next_poll_at of its last plan
        self.backoff = 0.0
        self.priority = 0


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
) -> dict:
    """Detection delays (seconds) of one scheduler on the model below, with a fake clock and a fake API.

    Model: every execution is idle, then resumes (the change), runs for 0.3-2 s (its invocation writes
    events), and suspends again on its next idle phase. Idle phases last 20 min on average (so 5 % of
    executions change per minute) and are, by `mix`, durable waits (their end is in WaitStarted),
    callbacks answered in the console (which syncs that execution right after answering, or with
    `console_syncs=False` only marks it due after the resumed invocation, without a call) or callbacks
    answered elsewhere (unpredictable). A fetch during the invocation sees a partial change (not
    suspended); after it, the whole change and the next idle phase.
    Schedulers: "ours" (scheduler.py), "strict priority" (ours without the overdue share: the policy
    before it), "round-robin". Poller: like `functions_sync`, every `interval` seconds one list call,
    then the due executions picked by the scheduler for the rest of the cycle's budget (minus picks not
    fetched yet), fetched one per 1/rate s after any console sync. "Delay" is from the change to the
    first fetch that sees it; changes still unseen at the end count with their age so far (a lower bound).
    """
    from executions.scheduler import IDLE, NEW, OVERDUE_SHARE, REASONS, PollConfig, due_select, poll_plan

    share = OVERDUE_SHARE if scheduler == "ours" else 0.0
    rng = random.Random(seed)
    config = PollConfig(active=2, idle_base=10, cap=300, timer_grace=2)
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    mean_idle = 60 / change_per_minute
    warmup, end, tick = warmup_minutes * 60, (warmup_minutes + minutes) * 60, 1.0 / rate
    resumes: list[tuple[float, int]] = []  # (phase end, execution)
    console: deque[int] = deque()
    picked: deque[int] = deque()  # this cycle's (and leftover) picks, in order
    delays: dict[str, list[float]] = {kind: [] for kind in KINDS}
    idle_late: list[float] = []  # for fetches planned as IDLE: how late after their next_poll_at
    calls: dict[str, int] = {}
    sims = [SimExecution(i) for i in range(executions)]
    queues: list[list] = [[] for _ in range(5)]  # one heap of (next_poll, ident) per priority
    by_due: list = []  # one heap of (next_poll, ident) for all

    def idle_phase(sim: SimExecution, start: float) -> None:
        roll = rng.random()
        sim.kind = WAIT if roll < mix[0] else CONSOLE_CALLBACK if roll < mix[0] + mix[1] else EXTERNAL_CALLBACK
        duration = rng.uniform(0.1, 1.9) * mean_idle if sim.kind == WAIT else rng.expovariate(1 / mean_idle)
        sim.phase_end = start + duration
        heapq.heappush(resumes, (sim.phase_end, sim.ident))

    def schedule(sim: SimExecution, at: float, priority: int) -> None:
        sim.next_poll, sim.planned, sim.priority = at, at, priority
        heapq.heappush(queues[priority], (at, sim.ident))
        heapq.heappush(by_due, (at, sim.ident))

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
            schedule(sim, sim.phase_end + config.timer_grace, 2)
        else:
            sim.backoff = config.cap
            schedule(sim, rng.uniform(0, config.cap), 4)

    def fetch(sim: SimExecution, now: float, reason: str) -> None:
        if now >= warmup:
            calls[reason] = calls.get(reason, 0) + 1
        changed = bool(sim.unseen)
        for moment, kind in sim.unseen:
            if moment >= warmup:
                delays[kind].append(now - moment)
        sim.unseen.clear()
        if scheduler == "round-robin":
            return
        suspended = now >= sim.busy_until
        waiting = sim.kind == WAIT and suspended
        plan = poll_plan(
            now=epoch + timedelta(seconds=now),
            terminal=False,
            history_complete=False,
            changed=changed,
            timers=[epoch + timedelta(seconds=sim.phase_end)] if waiting else [],
            idle_open=not waiting,
            previous_backoff=sim.backoff,
            config=config,
            suspended=suspended,
        )
        sim.backoff = plan.backoff_seconds
        schedule(sim, (plan.next_poll_at - epoch).total_seconds(), plan.priority)

    budget = int(rate * interval) - 1  # minus the list call, as in functions_sync
    now, cursor, next_cycle = 0.0, 0, 0.0
    while now < end:
        while resumes and resumes[0][0] <= now:
            moment, ident = heapq.heappop(resumes)
            sim = sims[ident]
            sim.unseen.append((moment, sim.kind))
            if sim.kind == CONSOLE_CALLBACK and console_syncs:
                console.append(ident)
            elif sim.kind == CONSOLE_CALLBACK and scheduler != "round-robin":
                sim.backoff = 0
                schedule(sim, moment + config.active, NEW)
            sim.busy_until = moment + rng.uniform(0.3, 2.0)
            idle_phase(sim, sim.busy_until)
        if now >= next_cycle:  # a cycle starts: its list call takes this slot
            next_cycle += interval
            calls["list"] = calls.get("list", 0) + int(now >= warmup)
            limit = budget - len(picked)
            if limit > 0 and scheduler == "round-robin":
                picked.extend((cursor + i) % executions for i in range(limit))
                cursor = (cursor + limit) % executions
            elif limit > 0:
                chosen = due_select(
                    by_priority=due_by_priority(now), by_lateness=due_by_lateness(now), limit=limit, share=share
                )
                for ident in chosen:
                    sims[ident].next_poll = None
                picked.extend(chosen)
        elif console:
            fetch(sims[console.popleft()], now, "console")
        elif picked:
            sim = sims[picked.popleft()]
            reason = "round-robin" if scheduler == "round-robin" else REASONS[sim.priority]
            if sim.priority == IDLE and scheduler != "round-robin" and now >= warmup:
                idle_late.append(now - sim.planned)
            fetch(sim, now, reason)
        now += tick

    unseen = 0
    for sim in sims:
        for moment, kind in sim.unseen:
            if moment >= warmup:
                delays[kind].append(end - moment)
                unseen += 1
        if scheduler != "round-robin" and sim.priority == IDLE and sim.next_poll is not None and sim.next_poll < end:
            idle_late.append(end - sim.next_poll)  # still waiting: late so far
    every = [d for values in delays.values() for d in values]

    def pct(values, q):
        return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else float("nan")

    measured = end - warmup
    return {
        "changes": len(every),
        "unseen": unseen,
        "p50": pct(every, 50),
        "p95": pct(every, 95),
        "over_30s": sum(d > 30 for d in every) / max(1, len(every)),
        "by_kind": {kind: (len(values), pct(values, 50), pct(values, 95)) for kind, values in delays.items()},
        "idle_late": (pct(idle_late, 50), pct(idle_late, 95), max(idle_late, default=float("nan"))),
        "calls_per_second": {reason: count / measured for reason, count in sorted(calls.items())},
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


def sim_report() -> None:
    print("  simulation: 10,000 running executions, 10 calls/s, 10 s cycles, 5 %/min change, 120 min measured")
    print("  (fake clock; delay from a change to the fetch that sees it, seconds; still unseen at the end: age)")
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
            cells = [f"{result['p50']:.1f} / {result['p95']:.1f}"]
            cells += [f"{p50:.1f} / {p95:.1f}" for _, p50, p95 in result["by_kind"].values()]
            p50, _, worst = result["idle_late"]
            late = f"{p50:.0f} / {worst:.0f}" if scheduler != "round-robin" else "-"
            print(
                f"    {row:24s}"
                + "".join(f"{cell:>18s}" for cell in cells)
                + f"  {result['over_30s']:5.1%}  {late:>15s}  {result['unseen']:6d}"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=["all", "live", "sim"], default="all")
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--running", type=int, default=100)
    args = parser.parse_args(argv if argv is not None else [])
    if args.part in ("all", "live"):
        live_report(args.executions, args.running)
    if args.part in ("all", "sim"):
        sim_report()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    main(sys.argv[1:])
