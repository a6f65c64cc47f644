"""Periodic work for approvals: resolve decision claims abandoned by a crash."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from approvals import services
from approvals.orders_table import OrdersTableUnavailable
from executions.services import TRANSIENT_ERRORS

logger = logging.getLogger(__name__)

LOCK_KEY = "approvals:release-stale-claims:lock"


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
    if not cache.add(LOCK_KEY, "1", timeout=120):
        logger.info("release_stale_claims already running elsewhere; skipped")
        return {"skipped_locked": 1}
    try:
        counts = services.claims_release_stale(older_than_seconds=settings.APPROVALS_CLAIM_STALE_SECONDS)
    finally:
        cache.delete(LOCK_KEY)
    if any(counts[key] for key in ("released", "recovered", "closed", "undetermined")):
        logger.info("stale decision claims: %s", counts)
    return counts
