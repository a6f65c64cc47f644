"""Celery tasks of the poller. Thin: they take ids and call executions.sync."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from executions.durable_api import DurableApiUnavailable, Throttled
from executions.governor import BudgetExhausted
from executions.sync.cycle import functions_sync
from executions.sync.history import execution_history_sync, history_sync_failed

logger = logging.getLogger(__name__)

RETRYABLE = (Throttled, DurableApiUnavailable, BudgetExhausted)


@shared_task(
    name="executions.sync_functions",
    ignore_result=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def sync_functions(function_name: str | None = None) -> dict:
    """Beat: list every monitored function and fan out one history sync per due execution."""
    stats = functions_sync(function_name=function_name, dispatch=sync_execution_history.delay)
    logger.info("sync cycle %s", stats)
    return stats


@shared_task(
    name="executions.sync_execution_history",
    ignore_result=True,
    autoretry_for=RETRYABLE,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def sync_execution_history(execution_id: int) -> int:
    """Fetch one execution's new history events (idempotent; one worker per execution at a time).

    Throttling, an unreachable Lambda and an exhausted budget are retried by Celery with backoff; any other
    failure is recorded on the execution, which is then polled again only after an exponential backoff
    (`history_sync_failed`), instead of at every cycle's lease."""
    try:
        return execution_history_sync(execution_id=execution_id)
    except RETRYABLE:
        raise
    except Exception as error:
        logger.exception("history sync of execution %s failed", execution_id)
        history_sync_failed(execution_id=execution_id, error=error)
        return 0
