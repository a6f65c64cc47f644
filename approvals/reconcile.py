"""The reconciler: resolve what a crash, a worker recycled mid-request or an unconfirmed decision left behind.

Two kinds of leftovers, both resolved only from what the execution history proves:
- orders left in `deciding` (a claim whose outcome nobody recorded), by `claims_release_stale`;
- decision audit rows left `sending` (the send's outcome was never written), completed by the same pass when
  their claim is found, or by `decisions_sending_resolve` from the order, its claim token and the history.
READ_ONLY stops it (logged and skipped): the freeze switch blocks every approvals write.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from approvals import orders_table
from approvals.callbacks import ENDED, CallbackState, callback_reading
from approvals.decision_audit import decision_audit, decision_complete
from approvals.models import Decision, DecisionKind, Outcome
from approvals.order_records import OrderStatus
from approvals.orders_table import ClaimLost, OrderNotFound
from approvals.selectors import pending_count_forget
from core.formatting import duration_text
from executions.services import BudgetExhausted, DurableApiError

logger = logging.getLogger(__name__)


def _sending_row(token: str) -> Decision | None:
    if not token:
        return None
    return Decision.objects.filter(decision_id=token, outcome=Outcome.SENDING).first()


def _record(*, row: Decision | None, token: str, outcome: Outcome, detail: str, **common) -> None:
    """Complete the claim's own `sending` row when there is one (one row per attempt), else append a row, unless
    the attempt's row already says it was delivered (only the order's finish was missing: no second row)."""
    if row is not None:
        final = Outcome.SUCCEEDED if outcome == Outcome.RECOVERED else outcome
        final = Outcome.FAILED if final == Outcome.RELEASED else final
        decision_complete(record=row, outcome=final, error=f"resolved by the reconciler: {detail}")
    elif not (
        outcome == Outcome.RECOVERED
        and token
        and Decision.objects.filter(decision_id=token, outcome=Outcome.SUCCEEDED).exists()
    ):
        decision_audit(outcome=outcome, error=detail, **common)


def claims_release_stale(*, older_than_seconds: int, limit: int = 100) -> dict[str, int]:
    """Resolve orders left in `deciding` longer than `older_than_seconds`.

    - callback still open and execution running -> the decision was never delivered: back to pending_approval;
    - callback succeeded with this claim's decisionId (or, for claims made before decisionId, any result) ->
      delivered: finalise the order as the claim says (the workflow writes the same);
    - callback succeeded with another decision, timed out, failed, or execution over -> closed / expired;
    - history unreadable or callback not found -> left alone (and counted), to be retried next run.
    `older_than_seconds` must exceed the longest a decision request can hold a claim.
    """
    counts = {"released": 0, "recovered": 0, "closed": 0, "undetermined": 0, "skipped": 0}
    if settings.READ_ONLY:
        logger.info("READ_ONLY: stale decision claims are not resolved")
        return {**counts, "read_only": 1}
    now = datetime.now(UTC)
    users = get_user_model()
    for stale in orders_table.orders_deciding(limit=limit):
        order = stale.order
        if order.claimed_at and (now - order.claimed_at).total_seconds() < older_than_seconds:
            counts["skipped"] += 1
            continue
        try:
            reading = callback_reading(execution_arn=order.execution_arn, callback_id=stale.callback_id)
        except (DurableApiError, BudgetExhausted) as error:
            logger.warning("stale claim on order %s: history unavailable (%s)", order.order_id, error)
            counts["undetermined"] += 1
            continue
        state, row = reading.state, _sending_row(stale.token)
        age = duration_text((now - order.claimed_at).total_seconds()) if order.claimed_at else "unknown time"
        user = users.objects.filter(**{users.USERNAME_FIELD: order.claimed_by}).first() if order.claimed_by else None
        decision = order.claim_decision if order.claim_decision in DecisionKind.values else DecisionKind.APPROVE
        common = {
            "order": order,
            "user": user,
            "username": order.claimed_by or "unknown",
            "decision": decision,
            "comment": order.attributes.get("claimComment", "") or "",
        }
        ours = reading.delivered(stale.token) or (state == CallbackState.SUCCEEDED and reading.decision_id is None)
        try:
            if state == CallbackState.OPEN:
                detail = f"claim abandoned for {age} with the callback still open: released back to the inbox"
                orders_table.order_claim_release(order_id=order.order_id, token=stale.token, error=detail)
                _record(row=row, token=stale.token, outcome=Outcome.RELEASED, detail=detail, **common)
                counts["released"] += 1
            elif ours:
                final = OrderStatus.APPROVED if decision == DecisionKind.APPROVE else OrderStatus.REJECTED
                orders_table.order_claim_finish(
                    order_id=order.order_id,
                    token=stale.token,
                    status=final,
                    attributes={
                        "decidedBy": order.claimed_by,
                        "decidedAt": order.attributes.get("claimedAt", ""),
                        "decisionComment": common["comment"],
                    },
                )
                detail = f"callback had been delivered; order finalised {final}"
                _record(row=row, token=stale.token, outcome=Outcome.RECOVERED, detail=detail, **common)
                counts["recovered"] += 1
            elif state in ENDED:
                final = OrderStatus.EXPIRED if state == CallbackState.TIMED_OUT else OrderStatus.CLOSED
                orders_table.order_claim_finish(order_id=order.order_id, token=stale.token, status=final)
                detail = f"stale claim: callback {state}; order set {final}"
                _record(row=row, token=stale.token, outcome=Outcome.CLOSED, detail=detail, **common)
                counts["closed"] += 1
            else:
                logger.warning("stale claim on order %s: callback not found in the history; left alone", order.order_id)
                counts["undetermined"] += 1
        except ClaimLost:
            counts["skipped"] += 1
    if counts["released"] or counts["recovered"] or counts["closed"]:
        pending_count_forget()
    return counts


def decisions_sending_resolve(*, older_than_seconds: int, limit: int = 100) -> dict[str, int]:
    """Complete audit rows left `sending` whose claim is gone (the workflow or a later step already moved the
    order on), from the history: our decisionId delivered -> succeeded; still open -> failed (never delivered);
    ended otherwise -> closed; unreadable -> left for the next run."""
    counts = {"succeeded": 0, "failed": 0, "closed": 0, "undetermined": 0}
    if settings.READ_ONLY:
        return counts
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    for row in Decision.objects.filter(outcome=Outcome.SENDING, created_at__lt=cutoff).order_by("created_at")[:limit]:
        try:
            claim = orders_table.order_claim_read(order_id=row.order_id)
        except OrderNotFound:
            decision_complete(record=row, outcome=Outcome.FAILED, error="resolved by the reconciler: order not found")
            counts["failed"] += 1
            continue
        if claim.token == row.decision_id and claim.order.is_deciding:
            counts["undetermined"] += 1  # its claim is still held: claims_release_stale resolves both
            continue
        try:
            reading = callback_reading(execution_arn=claim.order.execution_arn, callback_id=claim.callback_id)
        except (DurableApiError, BudgetExhausted) as error:
            logger.warning("sending decision %s: history unavailable (%s)", row.pk, error)
            counts["undetermined"] += 1
            continue
        if reading.delivered(row.decision_id):
            decision_complete(record=row, outcome=Outcome.SUCCEEDED, error="resolved by the reconciler: delivered")
            counts["succeeded"] += 1
        elif reading.state == CallbackState.OPEN:
            decision_complete(record=row, outcome=Outcome.FAILED, error="resolved by the reconciler: never delivered")
            counts["failed"] += 1
        elif reading.state in ENDED and (reading.state != CallbackState.SUCCEEDED or reading.decision_id is not None):
            detail = f"resolved by the reconciler: callback {reading.state} without this decision"
            decision_complete(record=row, outcome=Outcome.CLOSED, error=detail)
            counts["closed"] += 1
        else:
            counts["undetermined"] += 1
    return counts
