"""The `production` marker: tests that need PostgreSQL and Redis.

They belong to the production path: under `make test` (SQLite, no Redis) they
are not collected into the run, and the summary says so and where they run.
Under `make test-production` (DURABLE_CONSOLE_REQUIRE_SERVICES=1), and whenever
one of them runs, a missing service is a failure. None of them ever skips.
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


_LEFT_FOR_PRODUCTION = pytest.StashKey[tuple[int, str]]()


def pytest_collection_modifyitems(config, items):
    """On the embedded defaults, leave the production tests to `make test-production`."""
    if os.environ.get(REQUIRE_ENV) == "1":
        return
    production = [item for item in items if item.get_closest_marker("production")]
    missing = production_services_missing() if production else None
    if missing is None:
        return
    config.hook.pytest_deselected(items=production)
    items[:] = [item for item in items if not item.get_closest_marker("production")]
    config.stash[_LEFT_FOR_PRODUCTION] = (len(production), missing)


def pytest_terminal_summary(terminalreporter, config):
    left = config.stash.get(_LEFT_FOR_PRODUCTION, None)
    if left:
        count, missing = left
        terminalreporter.write_line(
            f"{count} production-path tests were not run here ({missing}): `make test-production` runs them"
        )


def pytest_runtest_setup(item):
    if item.get_closest_marker("production") is None:
        return
    missing = production_services_missing()
    if missing is not None:
        pytest.fail(f"production test cannot run: {missing}", pytrace=False)


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
