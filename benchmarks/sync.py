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

    from dashboard.aws import aws_clients_reset
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


class SimExecution:
    """One running execution of the model, and what the poller knows about it."""

    __slots__ = ("backoff", "busy_until", "ident", "kind", "next_poll", "phase_end", "priority", "unseen")

    def __init__(self, ident: int):
        self.ident = ident
        self.kind = WAIT  # what it is idle on now
        self.phase_end = 0.0  # when it resumes (the change)
        self.busy_until = 0.0  # the resumed invocation writes its events until then
        self.unseen: list[tuple[float, str]] = []  # changes the poller has not seen yet
        self.next_poll = 0.0
        self.backoff = 0.0
        self.priority = 0


def simulate(
    *,
    scheduler: str,
    executions: int = 10_000,
    rate: float = 10.0,
    change_per_minute: float = 0.05,
    minutes: float = 120,
    warmup_minutes: float = 30,
    mix: tuple[float, float, float] = (0.80, 0.16, 0.04),
    seed: int = 7,
) -> dict:
    """Detection delays (seconds) of one scheduler on the model below, with a fake clock and a fake API.

    Model: every execution is idle, then resumes (the change), runs for 0.3-2 s (its invocation writes
    events), and suspends again on its next idle phase. Idle phases last 20 min on average (so 5 % of
    executions change per minute) and are, by default, 80 % durable waits (their end is in WaitStarted),
    16 % callbacks answered in the console (which syncs that execution right after answering), 4 %
    callbacks answered elsewhere (unpredictable). A fetch during the invocation sees a partial change
    (not suspended); after it, the whole change and the next idle phase. The lister spends one call
    every 10 s. Both schedulers get the same budget and the same console syncs; "delay" is from the
    change to the first fetch that sees it.
    """
    from executions.scheduler import PollConfig, poll_plan

    rng = random.Random(seed)
    config = PollConfig(active=2, idle_base=10, cap=300, timer_grace=2)
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    mean_idle = 60 / change_per_minute
    warmup, end, tick = warmup_minutes * 60, (warmup_minutes + minutes) * 60, 1.0 / rate
    resumes: list[tuple[float, int]] = []  # (phase end, execution)
    console: list[int] = []
    delays: dict[str, list[float]] = {WAIT: [], CONSOLE_CALLBACK: [], EXTERNAL_CALLBACK: []}
    sims = [SimExecution(i) for i in range(executions)]
    queues: list[list] = [[] for _ in range(5)]  # one heap of (next_poll, ident) per priority

    def idle_phase(sim: SimExecution, start: float) -> None:
        roll = rng.random()
        sim.kind = WAIT if roll < mix[0] else CONSOLE_CALLBACK if roll < mix[0] + mix[1] else EXTERNAL_CALLBACK
        duration = rng.uniform(0.1, 1.9) * mean_idle if sim.kind == WAIT else rng.expovariate(1 / mean_idle)
        sim.phase_end = start + duration
        heapq.heappush(resumes, (sim.phase_end, sim.ident))

    def schedule(sim: SimExecution, at: float, priority: int) -> None:
        sim.next_poll, sim.priority = at, priority
        heapq.heappush(queues[priority], (at, sim.ident))

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

    def fetch(sim: SimExecution, now: float) -> None:
        changed = bool(sim.unseen)
        for moment, kind in sim.unseen:
            if moment >= warmup:
                delays[kind].append(now - moment)
        sim.unseen.clear()
        if scheduler != "priority":
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

    now, cursor, next_list = 0.0, 0, 0.0
    while now < end:
        while resumes and resumes[0][0] <= now:
            moment, ident = heapq.heappop(resumes)
            sim = sims[ident]
            sim.unseen.append((moment, sim.kind))
            if sim.kind == CONSOLE_CALLBACK:
                console.append(ident)
            sim.busy_until = moment + rng.uniform(0.3, 2.0)
            idle_phase(sim, sim.busy_until)
        if now >= next_list:
            next_list += 10.0  # the lister's call
        elif console:
            fetch(sims[console.pop(0)], now)
        elif scheduler == "priority":
            for queue in queues:
                while queue and sims[queue[0][1]].next_poll != queue[0][0]:
                    heapq.heappop(queue)  # superseded entry
                if queue and queue[0][0] <= now:
                    fetch(sims[heapq.heappop(queue)[1]], now)
                    break
        else:
            fetch(sims[cursor], now)
            cursor = (cursor + 1) % executions
        now += tick

    every = [d for values in delays.values() for d in values]

    def pct(values, q):
        return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else float("nan")

    return {
        "changes": len(every),
        "p50": pct(every, 50),
        "p95": pct(every, 95),
        "by_kind": {kind: (len(values), pct(values, 50), pct(values, 95)) for kind, values in delays.items()},
    }


def sim_report() -> None:
    scenarios = [
        ("80 % waits / 16 % console-answered callbacks / 4 % external callbacks", (0.80, 0.16, 0.04)),
        ("harder: 70 % waits / 20 % console-answered / 10 % external callbacks", (0.70, 0.20, 0.10)),
    ]
    print("  simulation: 10,000 running executions, 10 calls/s, 5 %/min change, 120 min measured (fake clock)")
    for label, mix in scenarios:
        print(f"  idle on {label}")
        results = {name: simulate(scheduler=name, mix=mix) for name in ("priority", "round-robin")}
        for name, result in results.items():
            kinds = ", ".join(
                f"{kind} n={n} p50={p50:.1f}s p95={p95:.1f}s" for kind, (n, p50, p95) in result["by_kind"].items()
            )
            print(
                f"    {name:12s}: p50 {result['p50']:7.1f} s  p95 {result['p95']:7.1f} s  ({result['changes']} changes)"
            )
            print(f"    {'':12s}  {kinds}")
        print(f"    p95 round-robin / priority = {results['round-robin']['p95'] / results['priority']['p95']:.1f}x")


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
