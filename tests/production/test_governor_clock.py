"""The rate governor keeps time on Redis (TIME), so machines whose clocks disagree share one budget.

Two worker processes stand for two machines: each one's clock (`time.time`) is skewed before anything is
imported, one 4 s ahead and one 4 s behind. Each then takes 15 call slots; the stamps are read from the real
clock. With the machines' own clocks the one ahead would claim slots early and the one behind would wait
for slots 8 s in its future; with the store's clock they interleave within the budget.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

WORKER = """
import json, sys, time
real_time = time.time
skew = float(sys.argv[1])
time.time = lambda: real_time() + skew  # this machine's clock
import django
django.setup()
from executions.governor import governor_acquire
began = real_time()
stamps = []
for _ in range(15):
    governor_acquire()
    stamps.append(real_time())
print(json.dumps({"began": began, "stamps": stamps}))
"""


@pytest.mark.production
@pytest.mark.slow
def test_skewed_machine_clocks_neither_stall_nor_exceed_the_budget(tmp_path, settings):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings", "DURABLE_API_MAX_RPS": "10"}
    env["VAR_DIR"] = str(tmp_path)
    env["REDIS_URL"] = settings.REDIS_URL
    env["CACHE_KEY_PREFIX"] = f"governor-clock-{os.getpid()}-{tmp_path.name}"
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, skew], cwd=PROJECT, env=env, stdout=subprocess.PIPE, text=True)
        for skew in ("4", "-4")
    ]
    runs = [json.loads(worker.communicate(timeout=90)[0]) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)

    stamps = sorted(stamp for run in runs for stamp in run["stamps"])
    assert len(stamps) == 30

    def worst(window: float) -> int:
        return max(sum(1 for s in stamps if start <= s < start + window) for start in stamps)

    # Within the budget (10/s; a loaded machine may bunch a few at a window's edge, as in the budget test).
    assert worst(1.0) <= 13, worst(1.0)
    assert worst(2.0) <= 22, worst(2.0)
    assert stamps[-1] - stamps[0] >= 2.5
    # Neither machine stalls: each gets its first slot at once and keeps getting its share.
    for run, skew in zip(runs, ("ahead", "behind"), strict=True):
        own = run["stamps"]
        assert own[0] - run["began"] < 2.0, (skew, own[0] - run["began"])
        assert max(b - a for a, b in itertools.pairwise(own)) < 2.0, skew
