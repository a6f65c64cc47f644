"""Beat runs once: several `celery beat` processes elect one leader in the shared cache."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from dashboard.beat import LEADER_KEY, LeaderScheduler, beat_leader
from dashboard.celery import app
from tests.conftest import wait_until

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_leader(db):
    cache.delete(LEADER_KEY)
    yield
    cache.delete(LEADER_KEY)


def test_only_one_scheduler_holds_the_lease_and_a_clean_shutdown_hands_it_over(clean_leader, tmp_path):
    first = LeaderScheduler(app=app, schedule_filename=str(tmp_path / "a"), lazy=True)
    second = LeaderScheduler(app=app, schedule_filename=str(tmp_path / "b"), lazy=True)
    assert first._hold_lease() is True
    assert second._hold_lease() is False
    assert first._hold_lease() is True  # renewing its own lease
    assert beat_leader() == first.identity
    assert second.tick() == second.max_interval  # standby: sends nothing, checks again soon
    assert second.max_interval <= settings.BEAT_LEADER_TTL / 3
    first.is_leader = True
    first.close()
    assert beat_leader() is None
    assert second._hold_lease() is True


def _beat(tmp_path: Path, name: str) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.production.settings_beat", "PYTHONPATH": str(PROJECT)}
    log = open(tmp_path / f"beat-{name}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "dashboard", "beat", "--loglevel", "INFO",
            "--schedule", str(tmp_path / f"schedule-{name}"),
        ],
        cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


@pytest.mark.production
def test_two_beat_processes_send_the_schedule_once_and_fail_over(clean_leader, tmp_path):
    import redis

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("beat-probe")
    beats = {"a": _beat(tmp_path, "a"), "b": _beat(tmp_path, "b")}
    try:
        wait_until(lambda: broker.llen("beat-probe") > 0, timeout=60, message="the first probe message")
        time.sleep(3)  # both processes are up by now
        start, sent_before = time.monotonic(), broker.llen("beat-probe")
        time.sleep(8)
        elapsed, sent = time.monotonic() - start, broker.llen("beat-probe") - sent_before
        # One sender at 1/s: about `elapsed` messages; two senders would make twice as many.
        assert elapsed * 0.6 <= sent <= elapsed * 1.3 + 1, (sent, elapsed)

        # SIGKILL the leader (no clean hand-over): the standby takes over when the lease expires.
        leader = beat_leader()
        pid = int(leader.split(":")[1])
        (killed,) = [name for name, p in beats.items() if p.pid == pid]
        os.kill(pid, signal.SIGKILL)
        beats[killed].wait(timeout=10)
        survivor = wait_until(
            lambda: (current := beat_leader()) and current != leader and current,
            timeout=settings.BEAT_LEADER_TTL + 15,
            message="the standby beat taking over",
        )
        assert int(survivor.split(":")[1]) != pid
        before = broker.llen("beat-probe")
        time.sleep(4)
        assert broker.llen("beat-probe") - before >= 2
    finally:
        for process in beats.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
        broker.delete("beat-probe")
