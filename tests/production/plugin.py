"""The `production` marker: tests that need PostgreSQL and Redis.

Under `make test` (SQLite, no Redis) they are skipped with the reason shown in
the summary. Under `make test-production` (DURABLE_CONSOLE_REQUIRE_SERVICES=1)
a missing service is a failure, never a silent skip.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_ENV = "DURABLE_CONSOLE_REQUIRE_SERVICES"


def production_services_missing() -> str | None:
    """Why the production path is not configured, or None when it is."""
    from django.conf import settings

    problems = []
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        problems.append("DATABASE_URL does not point at PostgreSQL")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL is not set")
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        problems.append("CELERY_BROKER_URL is not Redis")
    return "; ".join(problems) or None


def pytest_runtest_setup(item):
    if item.get_closest_marker("production") is None:
        return
    missing = production_services_missing()
    if missing is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"production test cannot run: {missing}", pytrace=False)
    pytest.skip(f"needs PostgreSQL + Redis ({missing}): run `make test-production`")


@pytest.fixture(autouse=True)
def _fresh_shared_cache():
    """On the production path the cache is Redis, which test transactions do not roll back: start each test
    with an empty one (locks, governor slots, counters), as the database cache would be. Only under
    `make test-production`, whose Redis database index is leased for this run alone."""
    if os.environ.get(REQUIRE_ENV) == "1":
        from django.conf import settings
        from django.core.cache import cache

        if settings.REDIS_URL:
            cache.clear()
    yield
