"""Settings for the notifications failover test: the real settings with the real `notifications.check` beat entry
alone (its interval is NOTIFY_CHECK_SECONDS, set by the test), so the workers run nothing else."""

from dashboard.settings import *  # noqa: F403

CELERY_BEAT_SCHEDULE = {"notifications.check": CELERY_BEAT_SCHEDULE["notifications.check"]}  # noqa: F405
