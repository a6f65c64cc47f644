"""Shared counters: labelled series, and exact counts across processes on Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.counters import counter_incr, counter_series, counter_total, counters_clear

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean(db):
    counters_clear("test_counter")
    yield
    counters_clear("test_counter")


def test_series_are_kept_per_label_set():
    counter_incr("test_counter", operation="a")
    counter_incr("test_counter", operation="a")
    counter_incr("test_counter", 5, operation="b", code="429")
    series = dict((tuple(sorted(labels.items())), v) for labels, v in counter_series("test_counter"))
    assert series == {(("operation", "a"),): 2, (("code", "429"), ("operation", "b")): 5}
    assert counter_total("test_counter") == 7
    assert counter_total("test_counter", operation="b") == 5


def test_a_broken_cache_never_breaks_the_counted_work(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    counter_incr("test_counter", operation="a")  # logged, not raised


@pytest.mark.production
def test_increments_from_many_processes_add_up_exactly(transactional_db):
    """Four processes x 250 increments on Redis: exactly 1,000 (HINCRBY is atomic)."""
    script = (
        "import django; django.setup()\n"
        "from core.counters import counter_incr\n"
        "for _ in range(250): counter_incr('test_counter', operation='shared')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings"}
    processes = [subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT, env=env) for _ in range(4)]
    assert [p.wait(timeout=120) for p in processes] == [0, 0, 0, 0]
    assert counter_total("test_counter", operation="shared") == 1000
