"""Deployment checks (`manage.py check --deploy`): a multi-process deployment needs shared services.

Web, worker and beat processes on several machines must share the database, the broker and the cache
(locks, the API rate governor and the metrics counters live there). The embedded local defaults are
per-machine, so they are flagged in production.
"""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def shared_services_check(app_configs, **kwargs):
    if not settings.PRODUCTION:
        return []
    problems = []
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        problems.append(
            Warning(
                "DATABASE_URL is SQLite: processes on other machines cannot share it.",
                hint="Set DATABASE_URL=postgres://user:password@host:5432/name.",
                id="dashboard.W001",
            )
        )
    if settings.CELERY_BROKER_URL.startswith("sqla+"):
        problems.append(
            Warning(
                "CELERY_BROKER_URL is the embedded SQLite broker: workers on other machines never see its tasks.",
                hint="Set CELERY_BROKER_URL (or REDIS_URL) to redis://host:6379/0.",
                id="dashboard.W002",
            )
        )
    if not settings.REDIS_URL:
        problems.append(
            Warning(
                "REDIS_URL is not set: locks, the API rate governor and metrics counters use the database cache.",
                hint="Set REDIS_URL=redis://host:6379/1 for atomic, fast shared state.",
                id="dashboard.W003",
            )
        )
    return problems
