"""Periodic work for approvals: resolve decision claims abandoned by a crash."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from approvals import services
from approvals.orders_table import OrdersTableUnavailable
from core.locks import cache_lock
from executions.services import TRANSIENT_ERRORS

logger = logging.getLogger(__name__)

LOCK_KEY = "approvals:release-stale-claims:lock"
LOCK_SECONDS = 120  # longer than the task's hard time limit


@shared_task(
    name="approvals.release_stale_claims",
    soft_time_limit=50,
    time_limit=60,
    ignore_result=True,
    autoretry_for=(OrdersTableUnavailable, *TRANSIENT_ERRORS),
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=3,
)
def release_stale_claims() -> dict:
    """Idempotent: every write is conditional on the claim token, and one run at a time holds the lock."""
    with cache_lock(LOCK_KEY, ttl=LOCK_SECONDS) as held:
        if not held:
            logger.info("release_stale_claims already running elsewhere; skipped")
            return {"skipped_locked": 1}
        counts = services.claims_release_stale(older_than_seconds=settings.APPROVALS_CLAIM_STALE_SECONDS)
    if any(counts[key] for key in ("released", "recovered", "closed", "undetermined")):
        logger.info("stale decision claims: %s", counts)
    return counts
