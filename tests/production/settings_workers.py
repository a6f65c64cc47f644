"""Settings for the worker processes the distributed tests start: the real settings plus instrumentation."""

from dashboard.settings import *  # noqa: F403

CELERY_IMPORTS = ["tests.production.worker_probe", "tests.production.probe_tasks"]
# The tests shorten CELERY_VISIBILITY_TIMEOUT; sweep for abandoned messages as often (kombu's default
# sweep is about every 100 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
    "unacked_restore_interval": 2,
    "unacked_restore_throttle": 1,
}
