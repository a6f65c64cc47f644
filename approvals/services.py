"""Writes for approvals: deciding an order exactly once, audited before it is sent, told as it is.

Exactly-one decision: a conditional UpdateItem moves the order from pending_approval to deciding and records who
decided what (the claim). Only the request that wins the claim sends the callback; everyone else is told who
decided and when. The callback id is a bearer token for the suspended execution: it never leaves this module, the
logs, or the audit (error texts are scrubbed because botocore puts the callback URL in some messages).

The network may lie: every send is one attempt (botocore retries off; only this loop retries), the result carries
the claim token as `decisionId`, and after an ambiguous failure (read timeout, reset connection, 5xx, a "closed"
answer) the execution history decides: our decisionId delivered -> succeeded; still open -> not sent (retry or
report); ended otherwise -> closed or expired; unreadable -> the claim and the `sending` audit row are kept for the
reconciler (approvals/reconcile.py) and the approver is told the decision is sent but not yet confirmed. A person
waits at most DECISION_TIMEOUT_SECONDS: every call is bounded by `core.aws.aws_interactive`.

About 340 lines, kept together: claim, send, judge and conclude are one decision's steps and share its
invariants (who holds the claim, what was delivered); split apart, each would need the others to be read.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from django.conf import settings
from django.db import DatabaseError

from approvals import orders_table
from approvals.callbacks import ENDED, CallbackReading, CallbackState, callback_reading
from approvals.decision_audit import decision_audit, decision_complete
from approvals.four_eyes import user_identities, user_is_requester
from approvals.models import Decision, DecisionKind, Outcome
from approvals.order_records import WINDOW_OVER, Order, OrderStatus
from approvals.orders_table import Claim, ClaimLost, OrderAlreadyDecided, OrdersTableUnavailable
from approvals.selectors import pending_count_forget
from core.audit import audit_error
from core.aws import aws_interactive, aws_request_never_sent
from executions import services as executions
from executions.services import TRANSIENT_ERRORS, BudgetExhausted, CallbackClosed, DurableApiError

logger = logging.getLogger(__name__)

UNCONFIRMED_MESSAGE = "Sent, not yet confirmed: it will be resolved automatically."


class FourEyesViolation(Exception):
    """The person who requested an order tried to decide it."""


class ReadOnlyMode(Exception):
    """READ_ONLY is on: approvals accept no decision."""


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
        warnings = {Outcome.ALREADY_DECIDED, Outcome.CLOSED, Outcome.SENDING}
        return "success" if self.outcome == Outcome.SUCCEEDED else "warning" if self.outcome in warnings else "error"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


# --- sending ------------------------------------------------------------------------------------------


class Delivery(StrEnum):
    DELIVERED = "delivered"  # the history (or the service's answer) proves our decision reached the workflow
    CLOSED = "closed"  # the history proves the callback ended without our decision
    NOT_SENT = "not_sent"  # proven not delivered (refused, throttled, or still open after an ambiguous error)
    BUDGET = "budget"  # the shared Lambda API budget is used up: nothing was sent
    UNCONFIRMED = "unconfirmed"  # may have been delivered; the history could not tell (yet)


@dataclass(frozen=True)
class Sent:
    delivery: Delivery
    attempts: int
    detail: str = ""
    reading: CallbackReading | None = None
    transient: bool = False


def _read(claim: Claim) -> CallbackReading | None:
    """The callback as the history proves it, or None when the history cannot be read now."""
    try:
        return callback_reading(execution_arn=claim.order.execution_arn, callback_id=claim.callback_id)
    except (DurableApiError, BudgetExhausted) as error:
        logger.warning("history of order %s unreadable: %s", claim.order.order_id, audit_error(str(error)))
        return None


def _judge(claim: Claim, reading: CallbackReading | None, attempt: int, why: str) -> Sent | None:
    """What the history proves after an ambiguous answer; None when the callback is still open (not delivered)."""
    if reading is not None and reading.delivered(claim.token):
        return Sent(Delivery.DELIVERED, attempt, f"delivered ({why}; confirmed by the history)")
    if reading is None or reading.state == CallbackState.UNKNOWN:
        return Sent(Delivery.UNCONFIRMED, attempt, f"{why}; the history does not tell yet")
    if reading.state == CallbackState.SUCCEEDED and not reading.answered_by_other(claim.token):
        return Sent(Delivery.UNCONFIRMED, attempt, f"{why}; the callback succeeded, result unreadable")
    if reading.state in ENDED:
        return Sent(Delivery.CLOSED, attempt, why, reading)
    return None


def _send(*, claim: Claim, result: dict, deadline: float) -> Sent:
    """Send the callback, one botocore attempt per try, retrying what is proven undelivered with backoff and jitter.

    Stops early so that a request neither outlives its deadline (room is kept for one more send and one history
    read) nor holds a claim long enough for the reconciler to consider it abandoned.
    """
    attempts = max(1, settings.APPROVALS_CALLBACK_ATTEMPTS)
    per_call = float(settings.AWS_INTERACTIVE_TIMEOUT_SECONDS)
    deadline = min(deadline, time.monotonic() + settings.APPROVALS_CLAIM_STALE_SECONDS / 3)
    for attempt in range(1, attempts + 1):
        try:
            executions.callback_succeed(callback_id=claim.callback_id, result=result)
            return Sent(Delivery.DELIVERED, attempt, "" if attempt == 1 else f"delivered on attempt {attempt}")
        except BudgetExhausted as error:
            return Sent(Delivery.BUDGET, attempt, str(error))
        except CallbackClosed as error:
            judged = _judge(claim, _read(claim), attempt, f"callback reported closed ({error.code or 'closed'})")
            if judged is not None:
                return judged
            detail = f"callback reported closed ({error.code}) but still open in the history; not decided"
            return Sent(Delivery.NOT_SENT, attempt, detail)
        except TRANSIENT_ERRORS as error:
            detail = audit_error(f"{type(error).__name__}: {error}", claim.callback_id)
            throttled = hasattr(error, "retry_after")  # Throttled: AWS refused the call, nothing was done
            if not throttled and not aws_request_never_sent(error):
                judged = _judge(claim, _read(claim), attempt, detail)
                if judged is not None:
                    return judged
            delay = settings.APPROVALS_CALLBACK_BACKOFF_SECONDS * 2 ** (attempt - 1) * (1 + random.random() / 2)
            if getattr(error, "retry_after", None):
                delay = max(delay, min(error.retry_after, 10.0))
            if attempt == attempts or time.monotonic() + delay + 2 * per_call > deadline:
                return Sent(Delivery.NOT_SENT, attempt, detail, transient=True)
            time.sleep(delay)
        except DurableApiError as error:
            return Sent(Delivery.NOT_SENT, attempt, audit_error(f"{type(error).__name__}: {error}", claim.callback_id))
        except Exception as error:  # unexpected, maybe after the request left: keep the claim, let history decide
            logger.exception("decision on order %s: unexpected error while sending", claim.order.order_id)
            return Sent(
                Delivery.UNCONFIRMED, attempt, audit_error(f"{type(error).__name__}: {error}", claim.callback_id)
            )
    raise AssertionError("unreachable")


# --- deciding -------------------------------------------------------------------------------------------


def order_decide(*, order_id: str, user, approve: bool, comment: str = "", request_id: str = "") -> DecisionResult:
    """Decide one order for `user`, within DECISION_TIMEOUT_SECONDS. Exactly one decision per order is ever sent.

    Raises ReadOnlyMode, orders_table.OrderNotFound, FourEyesViolation, OrdersTableUnavailable (before anything
    was sent; after a send, DynamoDB trouble is logged and left to the reconciler).
    """
    if settings.READ_ONLY:
        raise ReadOnlyMode("The console is in read-only mode (READ_ONLY): no decision can be made now.")
    deadline = time.monotonic() + float(settings.DECISION_TIMEOUT_SECONDS)
    with aws_interactive():
        return _decide(
            order_id=order_id, user=user, approve=approve, comment=comment, request_id=request_id, deadline=deadline
        )


def _decide(*, order_id: str, user, approve: bool, comment: str, request_id: str, deadline: float) -> DecisionResult:
    decision = DecisionKind.APPROVE if approve else DecisionKind.REJECT
    username = user.get_username()
    comment = (comment or "").strip()
    order = orders_table.order_get(order_id=order_id)

    def audit(outcome: Outcome, error: str = "", at_order: Order | None = None, decision_id: str = "") -> Decision:
        return decision_audit(
            order=at_order or order,
            user=user,
            username=username,
            decision=decision,
            comment=comment,
            outcome=outcome,
            error=error,
            request_id=request_id,
            decision_id=decision_id,
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
        if user_is_requester(current.requested_by, user):  # the claim condition matched the requester
            audit(Outcome.FORBIDDEN, "four-eyes: the requester cannot decide their own order", current)
            raise FourEyesViolation(f"{current.requested_by} requested this order, so someone else must decide it.")
        message = _already_decided_message(current)
        closed = current.status in WINDOW_OVER
        record = audit(Outcome.CLOSED if closed else Outcome.ALREADY_DECIDED, message, current)
        return DecisionResult(record.outcome, message, current, record)

    try:  # recorded before it is sent
        record = audit(Outcome.SENDING, "", claim.order, decision_id=token)
    except DatabaseError:
        _release(claim, "the decision audit could not be written; nothing was sent")
        raise
    result = {
        "approved": approve,
        "decidedBy": username,
        "comment": comment,
        "decidedAt": claimed_at,
        "decisionId": token,
    }
    sent = _send(claim=claim, result=result, deadline=deadline)
    return _conclude(claim=claim, sent=sent, record=record, result=result)


@dataclass(frozen=True)
class BulkOutcome:
    """What became of one row of a bulk approval: `outcome` is an Outcome value or "not_found"/"unavailable"."""

    order_id: str
    outcome: str
    message: str
    result: DecisionResult | None = None

    @property
    def delivered(self) -> bool:
        return self.result is not None and self.result.delivered


def orders_approve_bulk(*, order_ids: list[str], user, comment: str = "", request_id: str = "") -> list[BulkOutcome]:
    """Approve each order with `order_decide`, one full decision per row (four-eyes, claim, audit, reconciliation).

    A row that cannot be decided (requested by `user`, decided already, gone, DynamoDB unreachable) is reported and
    the others go on. Raises ReadOnlyMode before any row when the console is frozen.
    """
    if settings.READ_ONLY:
        raise ReadOnlyMode("The console is in read-only mode (READ_ONLY): no decision can be made now.")
    outcomes = []
    for order_id in dict.fromkeys(order_ids):
        try:
            result = order_decide(order_id=order_id, user=user, approve=True, comment=comment, request_id=request_id)
        except FourEyesViolation as error:
            outcomes.append(BulkOutcome(order_id, Outcome.FORBIDDEN, f"Not decided: four-eyes rule, {error}"))
        except orders_table.OrderNotFound:
            outcomes.append(BulkOutcome(order_id, "not_found", "No order with this id."))
        except OrdersTableUnavailable as error:
            outcomes.append(BulkOutcome(order_id, "unavailable", f"Nothing was decided: {error}"))
        else:
            outcomes.append(BulkOutcome(order_id, result.outcome, result.message, result))
    return outcomes


def _conclude(*, claim: Claim, sent: Sent, record: Decision, result: dict) -> DecisionResult:
    order, approve = claim.order, result["approved"]
    short = order.order_id[:8]
    if sent.delivery == Delivery.DELIVERED:
        decision_complete(record=record, outcome=Outcome.SUCCEEDED, error=sent.detail)
        final = OrderStatus.APPROVED if approve else OrderStatus.REJECTED
        _finish(
            claim,
            final,
            {"decidedBy": result["decidedBy"], "decidedAt": result["decidedAt"], "decisionComment": result["comment"]},
        )
        pending_count_forget()
        try:  # only a hint for the poller: the decision stands even if the database cannot take it now
            executions.execution_poll_soon(execution_arn=order.execution_arn)
        except DatabaseError:
            logger.warning("could not mark execution of order %s for an early poll", order.order_id, exc_info=True)
        logger.info("order %s %s by %s", order.order_id, final, result["decidedBy"])
        verb = "Approved" if approve else "Rejected"
        return DecisionResult(Outcome.SUCCEEDED, f"{verb} order {short}; the workflow resumes.", order, record)
    if sent.delivery == Delivery.UNCONFIRMED:
        logger.warning(
            "decision on order %s unconfirmed (%s): claim kept for the reconciler", order.order_id, sent.detail
        )
        return DecisionResult(Outcome.SENDING, UNCONFIRMED_MESSAGE, order, record)
    if sent.delivery == Delivery.CLOSED:
        state = sent.reading.state
        if state == CallbackState.TIMED_OUT:
            status = OrderStatus.EXPIRED
            when = f" (deadline {_local_time(order.approval_deadline)})" if order.approval_deadline else ""
            message = f"The approval window for this order is over{when}: it can no longer be decided."
        else:
            status = OrderStatus.CLOSED
            message = "This order's callback was already answered outside the dashboard: it can no longer be decided."
        decision_complete(record=record, outcome=Outcome.CLOSED, error=f"callback closed ({state}): {sent.detail}")
        _finish(claim, status)
        pending_count_forget()
        return DecisionResult(Outcome.CLOSED, message, order, record)
    # NOT_SENT or BUDGET: proven undelivered, so the order goes back to the inbox
    _release(claim, sent.detail)
    pending_count_forget()
    decision_complete(record=record, outcome=Outcome.FAILED, error=sent.detail)
    if sent.delivery == Delivery.BUDGET:
        message = (
            "The shared Lambda API budget is used up right now: nothing was sent and the order is back in the "
            "inbox. Please try again in a minute."
        )
    elif sent.detail.startswith("callback reported closed"):
        message = "The workflow did not accept the decision; please try again."
    else:
        attempts = f"{sent.attempts} attempt{'s' if sent.attempts != 1 else ''}"
        message = (
            f"The decision could not be sent to the workflow ({'temporary problem, ' if sent.transient else ''}"
            f"{attempts}): {sent.detail}. Nothing was decided; the order is back in the inbox, please try again."
        )
    logger.warning("decision on order %s not sent after %s attempt(s): %s", order.order_id, sent.attempts, sent.detail)
    return DecisionResult(Outcome.FAILED, message, order, record)


def _release(claim: Claim, detail: str) -> None:
    try:
        orders_table.order_claim_release(order_id=claim.order.order_id, token=claim.token, error=detail)
    except ClaimLost:
        logger.info("claim on order %s already resolved", claim.order.order_id)
    except OrdersTableUnavailable:
        logger.warning("claim on order %s not released now: the reconciler will", claim.order.order_id)


def _finish(claim: Claim, status: OrderStatus, attributes: dict | None = None) -> None:
    try:
        orders_table.order_claim_finish(
            order_id=claim.order.order_id, token=claim.token, status=status, attributes=attributes
        )
    except ClaimLost:
        # The resumed workflow already wrote its own outcome: nothing to do.
        logger.info("order %s already finalised by the workflow", claim.order.order_id)
    except OrdersTableUnavailable:
        # After a send: the decision stands; the workflow (or the reconciler) writes the order's outcome.
        logger.warning("order %s not finalised now (DynamoDB unavailable): the reconciler will", claim.order.order_id)
