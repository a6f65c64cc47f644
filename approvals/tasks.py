"""Periodic work for approvals: the reconciler (claims abandoned by a crash, decisions left `sending`)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from approvals import reconcile
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
    """Idempotent: every write is conditional on the claim token (or on a row still `sending`), one run at a time."""
    if settings.READ_ONLY:
        logger.info("READ_ONLY is on: release_stale_claims skipped (no approvals write)")
        return {"skipped_read_only": 1}
    with cache_lock(LOCK_KEY, ttl=LOCK_SECONDS) as held:
        if not held:
            logger.info("release_stale_claims already running elsewhere; skipped")
            return {"skipped_locked": 1}
        stale = settings.APPROVALS_CLAIM_STALE_SECONDS
        counts = reconcile.claims_release_stale(older_than_seconds=stale)
        counts["sending"] = reconcile.decisions_sending_resolve(older_than_seconds=stale)
    if any(counts[key] for key in ("released", "recovered", "closed", "undetermined")) or any(
        counts["sending"].values()
    ):
        logger.info("stale decision claims: %s", counts)
    return counts
