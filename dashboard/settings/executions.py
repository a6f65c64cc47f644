"""Execution pages and admin actions. READ_ONLY: no admin action is offered or accepted."""

from .base import env

READ_ONLY = env.bool("READ_ONLY", default=False)
EXECUTIONS_PAGE_SIZE = env.int("EXECUTIONS_PAGE_SIZE", default=50)
HISTORY_PAGE_SIZE = env.int("HISTORY_PAGE_SIZE", default=50)
ACTIONS_PAGE_SIZE = env.int("ACTIONS_PAGE_SIZE", default=50)
LIST_REFRESH_SECONDS = env.int("LIST_REFRESH_SECONDS", default=15)
# After an admin action the execution's history is re-read for up to this long, until it settles.
ACTION_RESYNC_SECONDS = env.float("ACTION_RESYNC_SECONDS", default=3.0)
# A sync older than this is shown as stale (warning banner).
SYNC_STALE_SECONDS = env.int("SYNC_STALE_SECONDS", default=300)
# Big executions: a group with more children than this is one summary lane on the timeline (children on
# demand), and the first load draws at most TIMELINE_ROW_BUDGET rows; the operations table is paged.
TIMELINE_GROUP_LIMIT = env.int("TIMELINE_GROUP_LIMIT", default=50)
TIMELINE_ROW_BUDGET = env.int("TIMELINE_ROW_BUDGET", default=150)
OPERATIONS_PAGE_SIZE = env.int("OPERATIONS_PAGE_SIZE", default=50)
# A running execution's timeline is re-fetched this often (a 304 when nothing changed).
TIMELINE_REFRESH_SECONDS = env.int("TIMELINE_REFRESH_SECONDS", default=10)
