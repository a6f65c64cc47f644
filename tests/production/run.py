"""`make test-production`: the whole suite on PostgreSQL + Redis, isolated per run.

Each run gets its own PostgreSQL database (pytest-django creates and drops
`test_<name>`, with a name unique to this run) and its own Redis database
index (leased with SET NX on db 0, so concurrent runs never share one, and
flushed afterwards). Everything is cleaned up even when the tests fail or are
interrupted. Missing services are an error here, never a silent skip.

Environment: TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
TEST_REDIS_URL (default redis://127.0.0.1:6379). Arguments go to pytest.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

LEASE_PREFIX = "durable-console-test:redis-db:"
OWNER_KEY = "durable-console-test:owner"
LEASE_SECONDS = 4 * 3600


def _fail(message: str) -> None:
    sys.stderr.write(f"make test-production: {message}\n")
    sys.exit(2)


def postgres_connect(base_url: str) -> tuple[psycopg.Connection, str]:
    """Connect to the maintenance database; try the users `postgres` then `root` when none is given."""
    parts = urlsplit(base_url)
    candidates = [base_url]
    if not parts.username:
        candidates = [urlunsplit(parts._replace(netloc=f"{user}@{parts.netloc}")) for user in ("postgres", "root")]
    errors = []
    for url in candidates:
        try:
            conninfo = urlunsplit(urlsplit(url)._replace(scheme="postgresql"))
            return psycopg.connect(conninfo, autocommit=True, connect_timeout=5), url
        except psycopg.Error as error:
            errors.append(f"{url}: {error}".strip())
    _fail("PostgreSQL is not reachable:\n  " + "\n  ".join(errors))
    raise AssertionError  # unreachable


def stale_databases_drop(maintenance: psycopg.Connection, max_age_hours: float = 6) -> None:
    """Drop databases left by test runs that were killed before cleaning up (names carry their start time)."""
    rows = maintenance.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE 'durable\\_console\\_%' "
        "OR datname LIKE 'test\\_durable\\_console\\_%'"
    ).fetchall()
    for (name,) in rows:
        stamp = name.removeprefix("test_").removeprefix("durable_console_")[:14]
        try:
            started = time.mktime(time.strptime(stamp, "%Y%m%d%H%M%S"))
        except ValueError:
            continue
        if time.time() - started > max_age_hours * 3600:
            maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"test-production: dropped {name}, left by an interrupted run", flush=True)


def redis_db_lease(client: redis.Redis, redis_base: str, run_id: str) -> int:
    """Lease a Redis database index that no one else uses (empty, or left by an earlier test run)."""
    databases = int(client.config_get("databases").get("databases", 16))
    for index in range(1, databases):
        if not client.set(f"{LEASE_PREFIX}{index}", run_id, nx=True, ex=LEASE_SECONDS):
            continue
        db = redis.Redis.from_url(f"{redis_base}/{index}")
        if db.dbsize() and not db.exists(OWNER_KEY):
            client.delete(f"{LEASE_PREFIX}{index}")  # someone's own data: leave it alone
            continue
        db.flushdb()  # leftovers of a crashed test run
        db.set(OWNER_KEY, run_id)
        return index
    _fail("no free Redis database index (all leased or holding other data)")
    raise AssertionError


def main(pytest_args: list[str]) -> int:
    pg_base = os.environ.get("TEST_POSTGRES_URL", "postgres://127.0.0.1:5432/test")
    redis_base = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
    run_id = f"{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}_{secrets.token_hex(3)}"
    db_name = f"durable_console_{run_id}"
    test_db_name = f"test_{db_name}"

    maintenance, pg_url = postgres_connect(pg_base)
    stale_databases_drop(maintenance)
    try:
        redis_client = redis.Redis.from_url(f"{redis_base}/0", socket_connect_timeout=5)
        redis_client.ping()
    except redis.RedisError as error:
        _fail(f"Redis is not reachable at {redis_base}: {error}")
    # Two database indexes: the cache (cleared between tests) and the broker (never cleared under a worker).
    cache_index = redis_db_lease(redis_client, redis_base, run_id)
    broker_index = redis_db_lease(redis_client, redis_base, run_id)

    database_url = urlunsplit(urlsplit(pg_url)._replace(path=f"/{db_name}"))
    redis_url = f"{redis_base}/{cache_index}"
    broker_url = f"{redis_base}/{broker_index}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker_url,
        "CACHE_KEY_PREFIX": f"dc-test-{run_id}",
        "DURABLE_CONSOLE_REQUIRE_SERVICES": "1",
    }
    print(
        f"test-production: PostgreSQL database {test_db_name}, Redis cache {redis_url}, broker {broker_url}", flush=True
    )
    try:
        return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        for name in (test_db_name, db_name):
            maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        maintenance.close()
        for index in (cache_index, broker_index):
            redis.Redis.from_url(f"{redis_base}/{index}").flushdb()
            redis_client.delete(f"{LEASE_PREFIX}{index}")
        print(f"test-production: dropped {test_db_name}, flushed {redis_url} and {broker_url}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
