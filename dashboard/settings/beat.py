"""Celery beat: the schedule (each entry expires after its own interval) and the leader election.

Any number of beat processes may run: they elect one leader in the shared cache (dashboard/beat.py).
"""

from .approvals import APPROVALS_CLAIM_RELEASE_INTERVAL_SECONDS
from .base import VAR_DIR, env
from .notifications import NOTIFY_CHECK_SECONDS
from .sync import SYNC_INTERVAL_SECONDS

CELERY_BEAT_SCHEDULER = "dashboard.beat:LeaderScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
BEAT_LEADER_TTL = env.int("BEAT_LEADER_TTL", default=30)
CELERY_BEAT_SCHEDULE = {
    "sync-durable-functions": {
        "task": "executions.sync_functions",
        "schedule": SYNC_INTERVAL_SECONDS,
        "options": {"expires": SYNC_INTERVAL_SECONDS},
    },
    "approvals.release_stale_claims": {
        "task": "approvals.release_stale_claims",
        "schedule": APPROVALS_CLAIM_RELEASE_INTERVAL_SECONDS,
        "options": {"expires": APPROVALS_CLAIM_RELEASE_INTERVAL_SECONDS},
    },
    "notifications.check": {
        "task": "notifications.check",
        "schedule": NOTIFY_CHECK_SECONDS,
        "options": {"expires": NOTIFY_CHECK_SECONDS},
    },
}
