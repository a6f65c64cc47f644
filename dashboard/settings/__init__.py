"""Settings for Durable Console, one module per topic.

Every value comes from the environment with a safe local default (django-environ). Production
differs only by environment variables (DURABLE_CONSOLE_ENV=production, DATABASE_URL,
CELERY_BROKER_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS, ...). `DJANGO_SETTINGS_MODULE=dashboard.settings`
is the whole product; `dashboard.settings.test` adds what only the test suite wants.

    base        environment, apps, middleware, templates, database, cache, auth, static files
    security    HTTPS, HSTS and cookies in production; the /metrics token
    aws         region, endpoints, timeouts, table and function names
    celery      broker, task limits, workers
    sync        the execution poller: API budget, paging, poll scheduling, stuck detection
    approvals   inbox and decisions
    executions  execution pages and admin actions
    notifications  email, webhooks, reminders, digests
    beat        the beat schedule and leader election
    logging     log format and levels
"""

from .approvals import *  # noqa: F403
from .aws import *  # noqa: F403
from .base import *  # noqa: F403
from .beat import *  # noqa: F403
from .celery import *  # noqa: F403
from .executions import *  # noqa: F403
from .logging import *  # noqa: F403
from .notifications import *  # noqa: F403
from .security import *  # noqa: F403
from .sync import *  # noqa: F403
