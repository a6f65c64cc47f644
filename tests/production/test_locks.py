"""core.locks on the configured cache (the database cache in make test, Redis in make test-production):
one holder at a time, and only the owner releases (a lock that expired and was taken over is left alone)."""

from __future__ import annotations

import time
import uuid

import pytest

from core import locks


@pytest.fixture
def key(db):
    name = f"test-lock:{uuid.uuid4().hex}"
    yield name
    locks._release(name, "the-next-owner")


def test_one_holder_and_released_after(key):
    with locks.cache_lock(key, ttl=30) as first:
        assert first and locks.lock_held(key)
        with locks.cache_lock(key, ttl=30) as second:
            assert not second
        assert locks.lock_held(key), "a loser does not release the holder's lock"
    assert not locks.lock_held(key)


def test_an_expired_lock_taken_over_is_not_released_by_the_first_owner(key):
    with locks.cache_lock(key, ttl=1) as first:
        assert first
        time.sleep(1.3)
        assert not locks.lock_held(key), "the TTL freed the lock"
        assert locks._acquire(key, "the-next-owner", 30)
    assert locks.lock_held(key), "the first owner's release left the next owner's lock alone"
    locks._release(key, "the-next-owner")
    assert not locks.lock_held(key)
