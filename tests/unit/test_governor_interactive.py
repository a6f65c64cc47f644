"""The rate governor makes a waiting person wait briefly: inside core.aws.aws_interactive() a call waits at most
INTERACTIVE_MAX_WAIT_SECONDS for a slot, background work DURABLE_API_MAX_WAIT_SECONDS (fake clock, locmem cache)."""

import pytest
from django.core.cache import cache

from core.aws import aws_interactive
from executions import governor


@pytest.fixture(autouse=True)
def locmem_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests-unit-governor"}
    }
    cache.clear()
    yield
    cache.clear()


def throttled_for(settings, seconds: float):
    """A fake clock whose budget is paused (as after a throttle) for `seconds`, and the time waited so far."""
    settings.DURABLE_API_MAX_RPS = 10
    settings.DURABLE_API_MAX_WAIT_SECONDS = 30
    clock = {"t": 1_000_000.0}
    cache.set(governor.PAUSE_KEY, clock["t"] + seconds, timeout=None)

    def sleep(delay):
        clock["t"] += max(delay, 0)

    return clock, sleep


def test_a_waiting_person_gets_budget_exhausted_quickly(settings):
    clock, sleep = throttled_for(settings, 10)
    with aws_interactive(), pytest.raises(governor.BudgetExhausted):
        governor.governor_acquire(clock=lambda: clock["t"], sleep=sleep)
    assert clock["t"] - 1_000_000.0 <= governor.INTERACTIVE_MAX_WAIT_SECONDS


def test_background_work_waits_out_the_pause(settings):
    clock, sleep = throttled_for(settings, 10)
    governor.governor_acquire(clock=lambda: clock["t"], sleep=sleep)
    assert clock["t"] - 1_000_000.0 >= 10
