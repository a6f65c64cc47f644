"""Approvals: inbox paging and refresh, decision retries, stale-claim release."""

from .base import env

APPROVALS_PAGE_SIZE = env.int("APPROVALS_PAGE_SIZE", default=50)
# The currency order amounts are in (the order workflow records a number only).
APPROVALS_CURRENCY = env.str("APPROVALS_CURRENCY", default="USD")
APPROVALS_REFRESH_SECONDS = env.int("APPROVALS_REFRESH_SECONDS", default=10)
APPROVALS_BADGE_CACHE_SECONDS = env.int("APPROVALS_BADGE_CACHE_SECONDS", default=5)
APPROVALS_CALLBACK_ATTEMPTS = env.int("APPROVALS_CALLBACK_ATTEMPTS", default=3)
APPROVALS_CALLBACK_BACKOFF_SECONDS = env.float("APPROVALS_CALLBACK_BACKOFF_SECONDS", default=0.5)
# A claim (order in `deciding`) older than this is treated as abandoned by a crash.
APPROVALS_CLAIM_STALE_SECONDS = env.int("APPROVALS_CLAIM_STALE_SECONDS", default=300)
APPROVALS_CLAIM_RELEASE_INTERVAL_SECONDS = env.int("APPROVALS_CLAIM_RELEASE_INTERVAL_SECONDS", default=60)
# A decision answers within this many seconds; an outcome still unknown then is resolved by the reconciler.
DECISION_TIMEOUT_SECONDS = env.float("DECISION_TIMEOUT_SECONDS", default=15.0)
