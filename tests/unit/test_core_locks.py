"""core.locks.cache_lock on the local-memory cache: one holder, TTL, compare-and-delete release."""

import time

import pytest
from django.core.cache import cache

from core.locks import cache_lock


@pytest.fixture(autouse=True)
def locmem_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests-unit-locks"}
    }
    cache.clear()
    yield
    cache.clear()


def test_one_holder_at_a_time_and_released_after():
    with cache_lock("lock:a", ttl=30) as first:
        assert first is True
        with cache_lock("lock:a", ttl=30) as second:
            assert second is False
        assert cache.get("lock:a") is not None, "a loser does not release the holder's lock"
        with cache_lock("lock:b", ttl=30) as other:
            assert other is True, "keys are independent"
    assert cache.get("lock:a") is None
    with cache_lock("lock:a", ttl=30) as again:
        assert again is True


def test_released_when_the_work_raises():
    with pytest.raises(RuntimeError), cache_lock("lock:raise", ttl=30) as held:
        assert held
        raise RuntimeError("boom")
    assert cache.get("lock:raise") is None


def test_an_expired_lock_can_be_taken():
    with cache_lock("lock:ttl", ttl=1) as first:
        assert first
        time.sleep(1.1)
        with cache_lock("lock:ttl", ttl=30) as second:
            assert second is True, "a holder killed mid-work blocks the others for its TTL only"


def test_a_lock_taken_over_after_expiry_is_not_released_by_the_old_holder():
    with cache_lock("lock:over", ttl=1) as first:
        assert first
        time.sleep(1.1)
        cache.add("lock:over", "someone-else", timeout=30)
    assert cache.get("lock:over") == "someone-else"
