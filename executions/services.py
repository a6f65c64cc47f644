"""The executions app's public API: what other apps (approvals, dashboard commands) may use.

Everything else in `executions` is internal. Names are re-exported from the modules that own them, so each
idea still lives in one place; this module only draws the boundary.
"""

from __future__ import annotations

from executions.durable_api import (
    TRANSIENT_ERRORS,
    CallbackClosed,
    DurableApiError,
    callback_succeed,
    execution_describe,
    execution_history_pages,
    execution_start,
    lambda_endpoint_ping,
)
from executions.governor import BudgetExhausted
from executions.models import Execution
from executions.statuses import ExecutionStatus
from executions.sync.planning import execution_poll_soon

__all__ = [
    "TRANSIENT_ERRORS",
    "BudgetExhausted",
    "CallbackClosed",
    "DurableApiError",
    "ExecutionStatus",
    "callback_succeed",
    "execution_describe",
    "execution_history_pages",
    "execution_pk_for_arn",
    "execution_poll_soon",
    "execution_start",
    "lambda_endpoint_ping",
    "order_ids_with_prefix",
]


def order_ids_with_prefix(*, prefix: str, limit: int) -> list[str]:
    """Order ids starting with `prefix` among the synced order-approval executions (indexed), newest first."""
    if not prefix:
        return []
    rows = Execution.objects.filter(order_id__startswith=prefix).order_by("-started_at", "-id")
    return list(dict.fromkeys(rows.values_list("order_id", flat=True)[: limit * 2]))[:limit]


def execution_pk_for_arn(*, execution_arn: str) -> int | None:
    """The console's copy of an execution (None until the poller has stored it)."""
    if not execution_arn:
        return None
    return Execution.objects.filter(arn=execution_arn).values_list("pk", flat=True).first()
