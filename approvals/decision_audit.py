"""The decision audit rows: one per attempt, written `sending` before a callback is sent and completed after.

Shared by the decision (approvals/services.py) and the reconciler (approvals/reconcile.py), which write the same
rows. `username` is kept as given (a stale claim's user may no longer exist).
"""

from __future__ import annotations

import logging

from django.db import DatabaseError

from approvals.models import Decision, Outcome
from approvals.order_records import Order
from core.audit import audit_actor, audit_error

logger = logging.getLogger(__name__)


def decision_audit(
    *,
    order: Order,
    user,
    username: str,
    decision: str,
    comment: str,
    outcome: Outcome,
    error: str = "",
    request_id: str = "",
    decision_id: str = "",
) -> Decision:
    """Append one decision row."""
    return Decision.objects.create(
        order_id=order.order_id,
        execution_arn=order.execution_arn,
        decision=decision,
        comment=comment,
        user=audit_actor(user)["user"],
        username=username,
        outcome=outcome,
        error=audit_error(error),
        customer_name=order.customer_name[:256],
        amount=order.amount,
        requested_by=order.requested_by[:256],
        order_created_at=order.created_at,
        approval_deadline=order.approval_deadline,
        request_id=request_id or "",
        decision_id=decision_id,
    )


def decision_complete(*, record: Decision, outcome: Outcome, error: str = "") -> bool:
    """Complete a `sending` row once. A database that cannot take it now is logged, not raised: the row stays
    `sending` and the reconciler completes it from the history (the decision itself stands)."""
    try:
        return record.complete(outcome=outcome, error=audit_error(error))
    except DatabaseError:
        logger.warning(
            "decision %s on order %s: audit row not completed now", record.pk, record.order_id, exc_info=True
        )
        return False
