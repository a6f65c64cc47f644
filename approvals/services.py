"""Writes for approvals: deciding an order exactly once, and resolving claims left behind by a crash.

Exactly-one decision: a conditional UpdateItem moves the order from pending_approval to
deciding and records who decided what (the claim). Only the request that wins the claim
sends the callback; everyone else is told who decided and when. The callback id is a
bearer token for the suspended execution: it never leaves this module, the logs, or the
audit (error texts are scrubbed because botocore puts the callback URL in some messages).

Deciding and resolving abandoned claims stay in one module (a little over 300 lines): they are the two halves of
the same claim protocol and write the same audit rows.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError

from approvals import orders_table
from approvals.callbacks import CallbackState, callback_state
from approvals.four_eyes import user_identities, user_is_requester
from approvals.models import Decision, DecisionKind, Outcome
from approvals.order_records import WINDOW_OVER, Order, OrderStatus
from approvals.orders_table import Claim, ClaimLost, OrderAlreadyDecided
from approvals.selectors import pending_count_forget
from core.audit import audit_actor, audit_error
from core.formatting import duration_text
from executions import services as executions
from executions.services import TRANSIENT_ERRORS, CallbackClosed, DurableApiError

logger = logging.getLogger(__name__)


class FourEyesViolation(Exception):
    """The person who requested an order tried to decide it."""


@dataclass(frozen=True)
class DecisionResult:
    outcome: Outcome
    message: str
    order: Order
    decision: Decision

    @property
    def delivered(self) -> bool:
        """The decision reached the workflow (now or by an earlier attempt)."""
        return self.outcome == Outcome.SUCCEEDED

    @property
    def level(self) -> str:
        return {Outcome.SUCCEEDED: "success", Outcome.ALREADY_DECIDED: "warning", Outcome.CLOSED: "warning"}.get(
            self.outcome, "error"
        )


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _audit(
    *,
    order: Order,
    user,
    username: str,
    decision: str,
    comment: str,
    outcome: Outcome,
    error: str = "",
    request_id: str = "",
) -> Decision:
    """Append one decision row. `username` is kept as given (a stale claim's user may no longer exist)."""
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
    )


def _local_time(moment: datetime | None) -> str:
    if moment is None:
        return "an unknown time"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _already_decided_message(order: Order) -> str:
    """What a losing approver is told, from the order as it is now."""
    who = order.claimed_by or order.decided_by
    when = order.claimed_at or order.decided_at
    if order.status in WINDOW_OVER:
        return "The approval window for this order is over: it can no longer be decided."
    if order.status == OrderStatus.PENDING and not order.has_callback:
        return "This order is still being set up (its callback is not stored yet). Try again in a moment."
    if who:
        return f"Already decided by {who} at {_local_time(when)}."
    return f"This order is no longer pending (status: {order.status or 'unknown'})."


# --- deciding ------------------------------------------------------------------------------------


def _send_with_retries(*, callback_id: str, result: dict, started: float) -> int:
    """Send the callback, retrying transient errors with exponential backoff and jitter.

    Returns the number of attempts used. Stops early so that a request never holds a claim
    long enough for the stale-claim release to consider it abandoned.
    """
    attempts = max(1, settings.APPROVALS_CALLBACK_ATTEMPTS)
    budget = settings.APPROVALS_CLAIM_STALE_SECONDS / 3
    for attempt in range(1, attempts + 1):
        try:
            executions.callback_succeed(callback_id=callback_id, result=result)
            return attempt
        except TRANSIENT_ERRORS as error:
            delay = settings.APPROVALS_CALLBACK_BACKOFF_SECONDS * 2 ** (attempt - 1) * (1 + random.random() / 2)
            retry_after = getattr(error, "retry_after", None)
            if retry_after:
                delay = max(delay, min(retry_after, 10.0))
            if attempt == attempts or time.monotonic() - started + delay > budget:
                error.attempts = attempt
                raise
            time.sleep(delay)
        except CallbackClosed as error:
            error.attempts = attempt
            raise
    raise AssertionError("unreachable")


def order_decide(*, order_id: str, user, approve: bool, comment: str = "", request_id: str = "") -> DecisionResult:
    """Decide one order for `user`. Exactly one decision per order is ever sent.

    Raises orders_table.OrderNotFound, FourEyesViolation, OrdersTableUnavailable.
    """
    decision = DecisionKind.APPROVE if approve else DecisionKind.REJECT
    username = user.get_username()
    comment = (comment or "").strip()
    order = orders_table.order_get(order_id=order_id)

    def audit(outcome: Outcome, error: str = "", at_order: Order | None = None) -> Decision:
        return _audit(
            order=at_order or order,
            user=user,
            username=username,
            decision=decision,
            comment=comment,
            outcome=outcome,
            error=error,
            request_id=request_id,
        )

    if user_is_requester(order.requested_by, user):
        audit(Outcome.FORBIDDEN, "four-eyes: the requester cannot decide their own order")
        raise FourEyesViolation(f"{order.requested_by} requested this order, so someone else must decide it.")

    token, claimed_at = uuid.uuid4().hex, _now_iso()
    try:
        claim = orders_table.order_claim(
            order_id=order_id,
            token=token,
            claimed_by=username,
            decision=decision,
            comment=comment,
            claimed_at=claimed_at,
            not_by=user_identities(user),
        )
    except OrderAlreadyDecided as lost:
        current = lost.order or order
        if user_is_requester(current.requested_by, user):  # requestedBy matched exactly inside DynamoDB's condition
            audit(Outcome.FORBIDDEN, "four-eyes: the requester cannot decide their own order", current)
            raise FourEyesViolation(f"{current.requested_by} requested this order, so someone else must decide it.")
        message = _already_decided_message(current)
        closed = current.status in WINDOW_OVER
        record = audit(Outcome.CLOSED if closed else Outcome.ALREADY_DECIDED, message, current)
        return DecisionResult(record.outcome, message, current, record)

    started = time.monotonic()
    result = {"approved": approve, "decidedBy": username, "comment": comment, "decidedAt": claimed_at}
    final_status = OrderStatus.APPROVED if approve else OrderStatus.REJECTED
    try:
        _send_with_retries(callback_id=claim.callback_id, result=result, started=started)
    except CallbackClosed as error:
        return _closed(claim=claim, error=error, result=result, audit=audit)
    except (DurableApiError, Exception) as error:
        detail = audit_error(f"{type(error).__name__}: {error}", claim.callback_id)
        attempts = getattr(error, "attempts", 1)
        logger.warning("decision on order %s not sent after %s attempt(s): %s", order_id, attempts, detail)
        _release(claim, detail)
        pending_count_forget()
        transient = isinstance(error, TRANSIENT_ERRORS)
        message = (
            f"The decision could not be sent to the workflow ({'temporary problem, ' if transient else ''}"
            f"{attempts} attempt{'s' if attempts != 1 else ''}): {detail}. Nothing was decided; the order is "
            "back in the inbox, please try again."
        )
        record = audit(Outcome.FAILED, detail, claim.order)
        if not isinstance(error, DurableApiError):
            raise
        return DecisionResult(Outcome.FAILED, message, claim.order, record)

    _finish(claim, final_status, {"decidedBy": username, "decidedAt": claimed_at, "decisionComment": comment})
    pending_count_forget()
    # The execution resumes now: have the poller read it first in its next cycle (no API call here). Only a
    # hint: the decision stands even if the database cannot take it right now.
    try:
        executions.execution_poll_soon(execution_arn=claim.order.execution_arn)
    except DatabaseError:
        logger.warning("could not mark execution of order %s for an early poll", order_id, exc_info=True)
    record = audit(Outcome.SUCCEEDED, "", claim.order)
    verb = "Approved" if approve else "Rejected"
    logger.info("order %s %s by %s", order_id, final_status, username)
    return DecisionResult(Outcome.SUCCEEDED, f"{verb} order {order_id[:8]}; the workflow resumes.", claim.order, record)


def _release(claim: Claim, detail: str) -> None:
    try:
        orders_table.order_claim_release(order_id=claim.order.order_id, token=claim.token, error=detail)
    except ClaimLost:
        logger.info("claim on order %s already resolved", claim.order.order_id)


def _finish(claim: Claim, status: OrderStatus, attributes: dict | None = None) -> None:
    try:
        orders_table.order_claim_finish(
            order_id=claim.order.order_id, token=claim.token, status=status, attributes=attributes
        )
    except ClaimLost:
        # The resumed workflow already wrote its own outcome: nothing to do.
        logger.info("order %s already finalised by the workflow", claim.order.order_id)


def _closed(*, claim: Claim, error: CallbackClosed, result: dict, audit) -> DecisionResult:
    """The callback was not open. Find out why (history), never leave the order in deciding."""
    order = claim.order
    try:
        state = callback_state(execution_arn=order.execution_arn, callback_id=claim.callback_id)
    except DurableApiError as history_error:
        logger.warning("could not read the history of %s: %s", order.execution_arn, history_error)
        state = CallbackState.UNKNOWN
    past_deadline = order.approval_deadline is not None and order.approval_deadline <= datetime.now(UTC)
    if state == CallbackState.SUCCEEDED and getattr(error, "attempts", 1) > 1:
        # An earlier attempt timed out on our side but reached the service: our decision was delivered.
        _finish(
            claim,
            OrderStatus.APPROVED if result["approved"] else OrderStatus.REJECTED,
            {"decidedBy": result["decidedBy"], "decidedAt": result["decidedAt"], "decisionComment": result["comment"]},
        )
        pending_count_forget()
        record = audit(Outcome.SUCCEEDED, "delivered by an earlier attempt", order)
        return DecisionResult(Outcome.SUCCEEDED, "Decision recorded; the workflow resumes.", order, record)
    if state == CallbackState.OPEN and not past_deadline:
        # The service said closed but the history still shows it open: do not guess, give the order back.
        detail = f"callback reported closed ({error.code}) but still open in the history; not decided"
        _release(claim, detail)
        pending_count_forget()
        record = audit(Outcome.FAILED, detail, order)
        return DecisionResult(
            Outcome.FAILED, "The workflow did not accept the decision; please try again.", order, record
        )
    if state == CallbackState.TIMED_OUT or past_deadline:
        status = OrderStatus.EXPIRED
        when = f" (deadline {_local_time(order.approval_deadline)})" if order.approval_deadline else ""
        message = f"The approval window for this order is over{when}: it can no longer be decided."
    else:
        status = OrderStatus.CLOSED
        message = "This order's callback was already answered outside the dashboard: it can no longer be decided."
    _finish(claim, status)
    pending_count_forget()
    record = audit(Outcome.CLOSED, f"callback closed ({state}): {error.code or 'closed'}", order)
    return DecisionResult(Outcome.CLOSED, message, order, record)


# --- claims left behind by a crash ------------------------------------------------------------------


def claims_release_stale(*, older_than_seconds: int, limit: int = 100) -> dict[str, int]:
    """Resolve orders left in `deciding` longer than `older_than_seconds` (a crash between claim and outcome).

    Safe because it only acts on what the execution history proves:
    - callback still open and execution running -> the decision was never delivered: back to pending_approval;
    - callback succeeded -> it was delivered: finalise the order as the claim says (the workflow writes the same);
    - callback timed out / failed / execution over -> expired / closed;
    - history unreadable or callback not found -> left alone (and counted), to be retried next run.
    `older_than_seconds` must exceed the longest a decision request can hold a claim (the request
    gives up retrying after a third of APPROVALS_CLAIM_STALE_SECONDS).
    """
    counts = {"released": 0, "recovered": 0, "closed": 0, "undetermined": 0, "skipped": 0}
    now = datetime.now(UTC)
    users = get_user_model()
    for stale in orders_table.orders_deciding(limit=limit):
        order = stale.order
        if order.claimed_at and (now - order.claimed_at).total_seconds() < older_than_seconds:
            counts["skipped"] += 1
            continue
        try:
            state = callback_state(execution_arn=order.execution_arn, callback_id=stale.callback_id)
        except DurableApiError as error:
            logger.warning("stale claim on order %s: history unavailable (%s)", order.order_id, error)
            counts["undetermined"] += 1
            continue
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
        try:
            if state == CallbackState.OPEN:
                detail = f"claim abandoned for {age} with the callback still open: released back to the inbox"
                orders_table.order_claim_release(order_id=order.order_id, token=stale.token, error=detail)
                _audit(outcome=Outcome.RELEASED, error=detail, **common)
                counts["released"] += 1
            elif state == CallbackState.SUCCEEDED:
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
                _audit(
                    outcome=Outcome.RECOVERED, error=f"callback had been delivered; order finalised {final}", **common
                )
                counts["recovered"] += 1
            elif state in {CallbackState.TIMED_OUT, CallbackState.FAILED, CallbackState.CLOSED}:
                final = OrderStatus.EXPIRED if state == CallbackState.TIMED_OUT else OrderStatus.CLOSED
                orders_table.order_claim_finish(order_id=order.order_id, token=stale.token, status=final)
                _audit(outcome=Outcome.CLOSED, error=f"stale claim: callback {state}; order set {final}", **common)
                counts["closed"] += 1
            else:
                logger.warning("stale claim on order %s: callback not found in the history; left alone", order.order_id)
                counts["undetermined"] += 1
        except ClaimLost:
            counts["skipped"] += 1
    if counts["released"] or counts["recovered"] or counts["closed"]:
        pending_count_forget()
    return counts
