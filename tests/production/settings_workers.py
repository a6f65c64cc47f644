"""Settings for the worker processes the distributed tests start: the real settings plus instrumentation."""

from dashboard.settings import *  # noqa: F403

CELERY_IMPORTS = ["tests.production.worker_probe", "tests.production.probe_tasks"]
