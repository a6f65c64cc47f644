"""Deployment checks (`manage.py check --deploy`): a multi-process deployment needs shared services, and the
ingest endpoints need their token.

Web, worker and beat processes on several machines must share the database, the broker and the cache
(locks, the API rate governor, the ingest rate limit and the metrics counters live there). The embedded local
defaults are per-machine, so they are flagged in production.
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
                "REDIS_URL is not set: locks, the API rate governor, the ingest rate limit and metrics counters use "
                "the database cache.",
                hint="Set REDIS_URL=redis://host:6379/1 for atomic, fast shared state.",
                id="dashboard.W003",
            )
        )
    return problems


# Long enough that guessing it within the ingest rate limit is hopeless (secrets.token_urlsafe(32) gives 43).
INGEST_TOKEN_MIN_LENGTH = 32


@register(Tags.security, deploy=True)
def ingest_token_check(app_configs, **kwargs):
    """POST /ingest/operations and /ingest/eventbridge answer only a bearer INGEST_TOKEN: without one (or with a short
    one) in production, pushes are refused (401) and the console falls back to polling alone."""
    if not settings.PRODUCTION:
        return []
    token = settings.INGEST_TOKEN
    if len(token) >= INGEST_TOKEN_MIN_LENGTH:
        return []
    problem = "INGEST_TOKEN is not set" if not token else f"INGEST_TOKEN is shorter than {INGEST_TOKEN_MIN_LENGTH}"
    return [
        Warning(
            f"{problem}: the push plugin and EventBridge cannot report to /ingest/ (401); polling alone keeps "
            "the console in sync, later.",
            hint="Set INGEST_TOKEN to a long random string (python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))') and give the same value to the functions (DURABLE_CONSOLE_PUSH_TOKEN) "
            "and to the EventBridge connection (Authorization: Bearer <token>).",
            id="dashboard.W004",
        )
    ]
