"""The execution sync (the poller): API budget, paging, poll scheduling, and stuck/overdue detection."""

from .base import env
from .celery import CELERY_TASK_TIME_LIMIT

# Every durable-API call of every process shares this budget (calls per second).
DURABLE_API_MAX_RPS = env.float("DURABLE_API_MAX_RPS", default=10.0)
DURABLE_API_MAX_WAIT_SECONDS = env.float("DURABLE_API_MAX_WAIT_SECONDS", default=30.0)
DURABLE_API_SLOWDOWN_SECONDS = env.int("DURABLE_API_SLOWDOWN_SECONDS", default=60)
SYNC_INTERVAL_SECONDS = env.int("SYNC_INTERVAL_SECONDS", default=10)
SYNC_LIST_OVERLAP_SECONDS = env.int("SYNC_LIST_OVERLAP_SECONDS", default=300)
SYNC_LIST_PAGE_SIZE = env.int("SYNC_LIST_PAGE_SIZE", default=1000)
SYNC_HISTORY_PAGE_SIZE = env.int("SYNC_HISTORY_PAGE_SIZE", default=1000)
# History marker age after which the sync restarts from the first page (AWS markers live 24 h).
SYNC_MARKER_MAX_AGE_SECONDS = env.int("SYNC_MARKER_MAX_AGE_SECONDS", default=23 * 3600)
POLL_ACTIVE_SECONDS = env.int("POLL_ACTIVE_SECONDS", default=2)
POLL_IDLE_BASE_SECONDS = env.int("POLL_IDLE_BASE_SECONDS", default=10)
POLL_BACKOFF_CAP_SECONDS = env.int("POLL_BACKOFF_CAP_SECONDS", default=300)
POLL_WAIT_GRACE_SECONDS = env.float("POLL_WAIT_GRACE_SECONDS", default=2.0)
# Push, then poll (executions/push/): an execution whose function reports through the push plugin is polled only
# as a repair sweep, this long after its last poll, as long as the history confirms what it pushed.
POLL_PUSHED_IDLE_SECONDS = env.int("POLL_PUSHED_IDLE_SECONDS", default=900)
# A function whose EventBridge status events arrived within this many seconds is listed at most this often (new
# executions are announced by their events); otherwise every cycle. 300 s: the listing overlap
# (SYNC_LIST_OVERLAP_SECONDS) and the staleness limit (SYNC_STALE_SECONDS) are the same 5 minutes, so an execution
# whose event was lost is still found within 5 minutes, at 1 list call per function per 5 minutes instead of 30.
SYNC_LIST_INTERVAL_SECONDS = env.int("SYNC_LIST_INTERVAL_SECONDS", default=300)
EXECUTION_SYNC_LOCK_TTL = env.int("EXECUTION_SYNC_LOCK_TTL", default=CELERY_TASK_TIME_LIMIT + 30)
# Stuck and overdue detection.
ATTENTION_CALLBACK_SLA_SECONDS = env.int("ATTENTION_CALLBACK_SLA_SECONDS", default=24 * 3600)
ATTENTION_NO_PROGRESS_SECONDS = env.int("ATTENTION_NO_PROGRESS_SECONDS", default=15 * 60)
ATTENTION_WAIT_GRACE_SECONDS = env.int("ATTENTION_WAIT_GRACE_SECONDS", default=5 * 60)
ATTENTION_STEP_FAILED_ATTEMPTS = env.int("ATTENTION_STEP_FAILED_ATTEMPTS", default=3)
ATTENTION_PAUSED_SECONDS = env.int("ATTENTION_PAUSED_SECONDS", default=24 * 3600)
