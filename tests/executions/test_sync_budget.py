"""The rate governor (across processes, on the database cache and on Redis), the poll scheduler,
and the API-free attention re-check."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from executions import governor
from executions.models import Execution
from executions.scheduler import (
    ACTIVE,
    FINISHING,
    IDLE,
    NEW,
    TIMER,
    PollConfig,
    due_select,
    overdue_reserve,
    poll_plan,
)
from executions.sync import (
    attention_refresh,
    execution_poll_soon,
    executions_due,
    fetch_budget,
    history_import,
)

PROJECT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CONFIG = PollConfig(active=2, idle_base=10, cap=300, timer_grace=0.5)


def plan(**overrides):
    kwargs = {
        "now": NOW,
        "terminal": False,
        "history_complete": False,
        "changed": False,
        "timers": [],
        "idle_open": True,
        "previous_backoff": 0,
        "config": CONFIG,
    }
    return poll_plan(**{**kwargs, **overrides})


def test_poll_plan_priorities():
    assert plan(terminal=True, history_complete=True).next_poll_at is None
    assert plan(terminal=True).next_poll_at == NOW and plan(terminal=True).priority == FINISHING
    active = plan(changed=True, previous_backoff=300)
    assert (active.next_poll_at, active.priority, active.backoff_seconds) == (NOW + timedelta(seconds=2), ACTIVE, 2)
    # News, but the invocation has completed (suspended on a callback): the idle backoff starts over.
    news = plan(changed=True, suspended=True, previous_backoff=300)
    assert (news.priority, news.backoff_seconds) == (IDLE, 10)
    # News and suspended in a wait: straight to the wait's end, no confirmation poll.
    wait_news = plan(changed=True, suspended=True, idle_open=False, timers=[NOW + timedelta(minutes=5)])
    assert (wait_news.priority, wait_news.next_poll_at) == (TIMER, NOW + timedelta(minutes=5, seconds=0.5))
    # Idle on a callback: exponential backoff up to the cap.
    backoffs, previous = [], 2
    for _ in range(8):
        step = plan(previous_backoff=previous)
        assert step.priority == IDLE and step.next_poll_at == NOW + timedelta(seconds=step.backoff_seconds)
        backoffs.append(previous := step.backoff_seconds)
    assert backoffs == [10, 20, 40, 80, 160, 300, 300, 300]
    # Idle in a wait: not before its scheduled end (plus a grace), even after a long backoff.
    wait_end = NOW + timedelta(hours=2)
    timer = plan(timers=[wait_end], idle_open=False, previous_backoff=40)
    assert (timer.next_poll_at, timer.priority) == (wait_end + timedelta(seconds=0.5), TIMER)
    # A wait that ends before the callback backoff wakes the poller first.
    soon = NOW + timedelta(seconds=5)
    both = plan(timers=[soon], idle_open=True, previous_backoff=300)
    assert (both.next_poll_at, both.priority) == (soon + timedelta(seconds=0.5), TIMER)
    # A wait past its end without news: backoff, not a hot loop.
    overdue = plan(timers=[NOW - timedelta(seconds=30)], idle_open=False, previous_backoff=10)
    assert overdue.priority == IDLE and overdue.next_poll_at == NOW + timedelta(seconds=20)


@pytest.mark.django_db
def test_due_executions_come_by_priority_then_age():
    rows = {
        "idle-old": (IDLE, NOW - timedelta(minutes=9)),
        "new": (0, NOW - timedelta(seconds=1)),
        "timer": (TIMER, NOW - timedelta(seconds=5)),
        "active": (ACTIVE, NOW - timedelta(seconds=3)),
        "future": (0, NOW + timedelta(seconds=30)),
    }
    ids = {
        name: Execution.objects.create(arn=name, status="RUNNING", poll_priority=p, next_poll_at=at).pk
        for name, (p, at) in rows.items()
    }
    Execution.objects.create(arn="done", status="SUCCEEDED", history_complete=True, next_poll_at=None)
    due = executions_due(limit=10, now=NOW)
    assert due == [ids["new"], ids["timer"], ids["active"], ids["idle-old"]]
    # Short of budget: the reserved call goes to the longest overdue (idle for 9 min), the rest by priority.
    assert executions_due(limit=2, now=NOW) == [ids["new"], ids["idle-old"]]


@pytest.mark.django_db
def test_fetch_budget_counts_fetches_still_queued(settings):
    settings.DURABLE_API_MAX_RPS, settings.SYNC_INTERVAL_SECONDS = 10, 10
    assert fetch_budget(list_calls=2, now=NOW) == 98
    lease = NOW + timedelta(seconds=60)
    for n in range(30):
        Execution.objects.create(arn=f"queued-{n}", status="RUNNING", poll_reason="queued", next_poll_at=lease)
    Execution.objects.create(arn="lost", status="RUNNING", poll_reason="queued", next_poll_at=NOW)  # lease over
    assert fetch_budget(list_calls=2, now=NOW) == 68
    assert fetch_budget(list_calls=2, now=lease) == 98  # leases past: those are due again, not queued
    Execution.objects.filter(arn__startswith="queued-").update(next_poll_at=lease + timedelta(seconds=1))
    for n in range(80):
        Execution.objects.create(arn=f"more-{n}", status="RUNNING", poll_reason="queued", next_poll_at=lease)
    assert fetch_budget(list_calls=2, now=NOW) == 0


@pytest.mark.django_db
def test_an_answered_callback_is_polled_first_after_its_invocation(settings):
    settings.POLL_ACTIVE_SECONDS = 2
    waiting = Execution.objects.create(
        arn="waiting",
        status="RUNNING",
        poll_priority=IDLE,
        poll_backoff_seconds=300,
        next_poll_at=NOW + timedelta(minutes=4),
    )
    older = Execution.objects.create(arn="older", status="RUNNING", poll_priority=TIMER, next_poll_at=NOW)
    done = Execution.objects.create(arn="done", status="SUCCEEDED", next_poll_at=None, history_complete=True)
    assert execution_poll_soon(execution_arn="waiting", now=NOW)
    assert not execution_poll_soon(execution_arn="done", now=NOW) and not execution_poll_soon(execution_arn="nope")
    waiting.refresh_from_db()
    assert (waiting.next_poll_at, waiting.poll_priority, waiting.poll_backoff_seconds) == (
        NOW + timedelta(seconds=2),
        NEW,
        0,
    )
    assert executions_due(limit=1, now=NOW + timedelta(seconds=1)) == [older.pk]  # not before the invocation ends
    assert executions_due(limit=2, now=NOW + timedelta(seconds=2)) == [waiting.pk, older.pk]
    done.refresh_from_db()
    assert done.next_poll_at is None


def test_due_select_reserves_a_share_for_the_most_overdue():
    ranked = ["new", "timer-1", "timer-2", "active", "idle-late", "idle-later"]  # priority, then age
    by_age = ["idle-later", "idle-late", "timer-1", "new", "timer-2", "active"]  # oldest next_poll_at first
    assert overdue_reserve(10) == 1 and overdue_reserve(99) == 5 and overdue_reserve(5, share=0) == 0
    assert due_select(by_priority=ranked, by_lateness=by_age[:1], limit=3) == ["new", "timer-1", "idle-later"]
    assert due_select(by_priority=ranked, by_lateness=by_age, limit=3, share=0) == ["new", "timer-1", "timer-2"]
    # Enough budget for everything due: each once, nothing invented.
    assert sorted(due_select(by_priority=ranked, by_lateness=by_age[:2], limit=20, share=0.1)) == sorted(ranked)
    # The most overdue is also high in priority: it is not counted twice and the budget is filled.
    assert due_select(by_priority=ranked, by_lateness=["timer-1"], limit=3) == ["new", "timer-2", "timer-1"]
    # Lazy: no more is read from either order than is used (the database slices them to these sizes).
    ranked_reads, late_reads = iter(ranked), iter(by_age)
    due_select(by_priority=ranked_reads, by_lateness=late_reads, limit=3)
    assert next(ranked_reads) == "timer-2" and next(late_reads) == "idle-late"


def test_strict_priority_would_starve_idle_callbacks_forever():
    """Without the reserved share (share=0), 25 due timers re-armed every cycle keep a budget of 10 busy forever."""
    rows = {f"timer-{n}": (TIMER, NOW - timedelta(seconds=30)) for n in range(25)}
    rows["idle"] = (IDLE, NOW - timedelta(minutes=20))
    for cycle in range(30):
        now = NOW + timedelta(seconds=10 * cycle)
        due = [name for name, (_, at) in rows.items() if at <= now]
        ranked = sorted(due, key=lambda name: (*rows[name], name))
        chosen = due_select(
            by_priority=ranked, by_lateness=sorted(due, key=lambda name: rows[name][1]), limit=10, share=0
        )
        assert "idle" not in chosen
        for name in chosen:
            rows[name] = (TIMER, now + timedelta(seconds=1))


@pytest.mark.django_db
def test_idle_callbacks_past_their_cap_are_polled_within_bounded_cycles():
    """25 higher-priority executions are due every cycle, 2.5x a budget of 10; three executions idle on a
    callback are past their 300 s cap. The share reserved for the most overdue (here 1 call of 10) polls them
    one per cycle, longest overdue first, while the other 9 calls keep going by priority."""
    rows = {f"hot-{n}": ((NEW, TIMER, ACTIVE)[n % 3], NOW - timedelta(seconds=30)) for n in range(25)}
    rows |= {f"idle-{minutes}": (IDLE, NOW - timedelta(minutes=minutes)) for minutes in (10, 8, 6)}
    ids = {
        name: Execution.objects.create(arn=name, status="RUNNING", poll_priority=p, next_poll_at=at).pk
        for name, (p, at) in rows.items()
    }
    names = {pk: name for name, pk in ids.items()}
    seen_at = {}
    for cycle in range(6):
        now = NOW + timedelta(seconds=10 * cycle)
        due = [names[pk] for pk in executions_due(limit=10, now=now)]
        assert len(due) == 10 and len(set(due)) == 10
        hot = [name for name in due if name.startswith("hot-")]
        assert len(hot) >= 9
        priorities = [rows[name][0] for name in hot]
        assert priorities == sorted(priorities)  # the rest of the budget still goes by priority
        for name in due:
            seen_at.setdefault(name, cycle)
            back_off = 300 if name.startswith("idle-") else 1  # the hot ones are due again next cycle
            Execution.objects.filter(pk=ids[name]).update(next_poll_at=now + timedelta(seconds=back_off))
    # Polled within ceil(executions overdue before it / reserve) cycles: one per cycle, longest overdue first.
    assert [seen_at.get(name) for name in ("idle-10", "idle-8", "idle-6")] == [0, 1, 2]


@pytest.mark.django_db
def test_governor_spaces_calls_with_a_fake_clock(settings):
    settings.DURABLE_API_MAX_RPS = 10
    governor.governor_reset()
    clock = {"t": 1_000_000.0}
    started = clock["t"]

    def sleep(seconds):
        clock["t"] += max(seconds, 0)

    times = []
    for _ in range(25):
        governor.governor_acquire(clock=lambda: clock["t"], sleep=sleep)
        times.append(clock["t"])
    assert times == sorted(times)
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.1 - 1e-9
    assert clock["t"] - started >= 2.4 - 1e-9

    # A throttle pauses everyone for the retry delay and halves the rate.
    governor.governor_throttled(retry_after=3)
    state = governor.governor_state()
    assert state["slowdown"] == 2 and state["paused_for_seconds"] > 2
    governor.governor_reset()


WORKER = """
import json, os, sys, time
import django
django.setup()
from executions.governor import governor_acquire
stamps = []
for _ in range(int(sys.argv[1])):
    governor_acquire()
    stamps.append(time.time())
print(json.dumps(stamps))
"""


@pytest.mark.slow
# The Redis variant belongs to the production path: `make test-production` runs it on its own Redis database.
@pytest.mark.parametrize("backend", ["database", pytest.param("redis", marks=pytest.mark.production)])
def test_governor_holds_across_processes(tmp_path, backend, settings):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings", "DURABLE_API_MAX_RPS": "10"}
    env["VAR_DIR"] = str(tmp_path)
    env.pop("REDIS_URL", None)
    if backend == "redis":
        env["REDIS_URL"] = settings.REDIS_URL
        env["CACHE_KEY_PREFIX"] = f"governor-test-{os.getpid()}-{tmp_path.name}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'governor.sqlite3'}"
        subprocess.run([sys.executable, "manage.py", "createcachetable"], cwd=PROJECT, env=env, check=True)
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, "12"], cwd=PROJECT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    stamps = sorted(stamp for worker in workers for stamp in json.loads(worker.communicate(timeout=60)[0]))
    assert all(worker.returncode == 0 for worker in workers)
    assert len(stamps) == 36

    # 36 calls at 10 calls/s across three processes. The stamps are taken after each grant, and a process that
    # was descheduled between picking a slot and claiming it runs as soon as it wakes, so a loaded machine can
    # bunch up to a few calls at a window's edge; over longer windows and the whole run the rate must hold.
    def worst(window: float) -> int:
        return max(sum(1 for s in stamps if start <= s < start + window) for start in stamps)

    assert worst(1.0) <= 13, worst(1.0)
    assert worst(2.0) <= 22, worst(2.0)
    assert stamps[-1] - stamps[0] >= 3.3


@pytest.mark.django_db
def test_attention_is_rechecked_without_api_calls():
    start = datetime.now(UTC) - timedelta(seconds=30)
    events = [
        {"EventType": "ExecutionStarted", "EventId": 1, "Id": "e", "EventTimestamp": start.isoformat(),
         "ExecutionStartedDetails": {"Input": {"Payload": "{}"}}},
        {"EventType": "CallbackStarted", "EventId": 2, "Id": "cb", "Name": "approval", "SubType": "Callback",
         "EventTimestamp": (start + timedelta(seconds=1)).isoformat(),
         "CallbackStartedDetails": {"CallbackId": "x", "Timeout": 120}},
    ]  # fmt: skip
    execution = history_import(events=events, function_name="Imported")
    assert execution.attention_reasons == [] and not execution.needs_attention
    deadline = start + timedelta(seconds=121)
    assert execution.attention_check_at == deadline
    assert attention_refresh(now=deadline - timedelta(seconds=1)) == 0
    assert attention_refresh(now=deadline + timedelta(seconds=1)) == 1
    execution.refresh_from_db()
    assert [r["code"] for r in execution.attention_reasons] == ["callback_overdue"]
    assert execution.attention_check_at == start + timedelta(seconds=1, hours=24)  # next: the SLA
