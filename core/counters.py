"""Counters shared by every process (web, workers, beat), kept in the Django cache.

`counter_incr("durable_api_calls", operation="get_durable_execution")` adds one
to a labelled series; `/metrics` reads them all back with `counter_series`.
A histogram is three such counters (`histogram_observe`, `histogram_read`): one
series per bucket, the count, and the sum in milliseconds (counters are integers).

On Redis each counter is one hash (field = the labels, value = the count) and
increments are atomic HINCRBY, so counts are exact across processes and
machines. On other caches (the local DatabaseCache) each series is its own key
and increments are best-effort: good enough for one laptop.

Counting must never break the work it counts: errors are logged, not raised.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

_NAMESPACE = "counters"


def _field(labels: dict[str, object]) -> str:
    return json.dumps(sorted((str(k), str(v)) for k, v in labels.items()), separators=(",", ":"))


def shared_redis():
    """The raw redis-py client behind Django's RedisCache, or None on other caches."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return backend._cache.get_client(write=True)
    return None


def _hash_key(name: str) -> str:
    # make_key applies the cache's KEY_PREFIX, so each deployment (and test run) has its own counters.
    return cache.make_key(f"{_NAMESPACE}:{name}")


def counter_incr(name: str, amount: int = 1, **labels: object) -> None:
    """Add `amount` to the series `name{labels}`."""
    try:
        client = shared_redis()
        field = _field(labels)
        if client is not None:
            client.hincrby(_hash_key(name), field, amount)
            return
        index_key = f"{_NAMESPACE}:{name}:series"
        series_key = f"{_NAMESPACE}:{name}:{field}"
        if not cache.add(series_key, amount, timeout=None):
            cache.incr(series_key, amount)
        series = cache.get(index_key) or []
        if field not in series:
            cache.set(index_key, [*series, field], timeout=None)
    except Exception:  # a counter must never break the work it counts
        logger.warning("counter %s not incremented", name, exc_info=True)


def counter_series(name: str) -> list[tuple[dict[str, str], int]]:
    """Every series of counter `name` as (labels, value), sorted by labels."""
    client = shared_redis()
    if client is not None:
        raw = client.hgetall(_hash_key(name))
        pairs = [(field.decode(), int(value)) for field, value in raw.items()]
    else:
        fields = cache.get(f"{_NAMESPACE}:{name}:series") or []
        values = cache.get_many([f"{_NAMESPACE}:{name}:{field}" for field in fields])
        pairs = [(field, int(values.get(f"{_NAMESPACE}:{name}:{field}", 0))) for field in fields]
    return [(dict(json.loads(field)), value) for field, value in sorted(pairs)]


def counter_total(name: str, **labels: object) -> int:
    """Sum of the series of `name` whose labels include `labels`."""
    wanted = {str(k): str(v) for k, v in labels.items()}
    return sum(value for series, value in counter_series(name) if wanted.items() <= series.items())


def counters_clear(*names: str) -> None:
    """Forget counters (tests)."""
    client = shared_redis()
    for name in names:
        if client is not None:
            client.delete(_hash_key(name))
            continue
        fields = cache.get(f"{_NAMESPACE}:{name}:series") or []
        cache.delete_many([f"{_NAMESPACE}:{name}:{field}" for field in fields] + [f"{_NAMESPACE}:{name}:series"])


@dataclass(frozen=True)
class HistogramSnapshot:
    buckets: list[tuple[str, int]]  # (upper bound as Prometheus writes it, cumulative count), "+Inf" last
    count: int
    sum: float


def _bound(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def histogram_observe(name: str, values: Iterable[float], *, buckets: tuple[float, ...]) -> None:
    """Add observations to the histogram `name` (a batch at once: one increment per bucket touched).

    Negative values (clocks a little apart) count as 0. `buckets` are the finite upper bounds, ascending.
    """
    per_bucket: Counter[str] = Counter()
    count, total = 0, 0.0
    for value in values:
        value = max(0.0, float(value))
        per_bucket[_bound(next((bound for bound in buckets if value <= bound), math.inf))] += 1
        count += 1
        total += value
    if not count:
        return
    for bound, amount in per_bucket.items():
        counter_incr(f"{name}_bucket", amount, le=bound)
    counter_incr(f"{name}_count", count)
    counter_incr(f"{name}_sum_ms", round(total * 1000))


def histogram_read(name: str, *, buckets: tuple[float, ...]) -> HistogramSnapshot:
    """The histogram `name` with cumulative buckets, as Prometheus expects them."""
    per_bucket = {series.get("le", ""): value for series, value in counter_series(f"{name}_bucket")}
    cumulative, running = [], 0
    for bound in (*buckets, math.inf):
        running += per_bucket.get(_bound(bound), 0)
        cumulative.append((_bound(bound), running))
    return HistogramSnapshot(
        buckets=cumulative, count=counter_total(f"{name}_count"), sum=counter_total(f"{name}_sum_ms") / 1000
    )


API_CALLS = "durable_api_calls"
API_THROTTLES = "durable_api_throttles"
API_ERRORS = "durable_api_errors"
PUSH_EVENTS = "push_events"  # {source}: plugin, eventbridge
PUSH_REJECTED = "push_rejected"  # {reason}
PUSH_LAG = "push_lag_seconds"  # histogram: event time to stored
PUSH_LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
