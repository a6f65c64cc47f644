"""Settings for the beat test: the real settings plus a 1-second probe entry on its own queue."""

from dashboard.settings import *  # noqa: F403

CELERY_BEAT_SCHEDULE = {
    "beat-probe": {"task": "tests.production.beat_probe", "schedule": 1.0, "options": {"queue": "beat-probe"}}
}
BEAT_LEADER_TTL = 3
