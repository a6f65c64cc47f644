"""One activity trail per order: its decision attempts (approvals), the admin actions on its execution (executions)
and the notifications about it (notifications), merged in time order.

It lives at the top of the graph because it reads all three apps. The order page and the execution page load the
same fragment (`activity_order` / `activity_execution`), so both show the same list. Outcomes are stated against
the order's final state, read from the execution the order ran in: a decision still marked "sending" on an order
that another decision (or the deadline) settled says it did not take effect, never "sending".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from approvals.models import Decision, Outcome
from approvals.selectors import decisions_list
from executions import selectors as executions_selectors
from executions.attention import outcome_words
from executions.models import Execution, OperatorAction
from notifications.models import Kind, Notification

LIMIT = 100  # of each kind; a trail longer than this is an incident, and the audit pages list everything
DECIDED = {"approve": "approved", "reject": "rejected"}
NOT_APPLIED = {
    Outcome.ALREADY_DECIDED: "not applied: another decision came first",
    Outcome.CLOSED: "not applied: the approval window was closed",
    Outcome.FAILED: "not applied: the callback could not be sent; the order went back to pending",
    Outcome.FORBIDDEN: "refused: requesters cannot decide their own order",
    Outcome.RELEASED: "not applied: the stuck claim was given back",
}


@dataclass(frozen=True)
class ActivityItem:
    at: datetime
    kind: str  # decision, admin, notification, outcome
    title: str
    outcome: str  # words
    tone: str  # ok, warn, bad, pending, info (the pill's colour; the words carry the meaning)
    who: str = ""
    detail: str = ""
    link: str = ""
    anchor: str = ""


@dataclass(frozen=True)
class Trail:
    order_id: str
    execution: Execution | None
    final_outcome: str  # approved, rejected, expired, failed, invalid; "" while undecided
    items: list[ActivityItem]


def _decision_item(decision: Decision, *, final: str, decision_id: str) -> ActivityItem:
    verb = decision.get_decision_display()
    effect = DECIDED.get(decision.decision, decision.decision)
    if decision.outcome in (Outcome.SUCCEEDED, Outcome.RECOVERED):
        if final and final != effect:
            words, tone = f"sent; the order was {outcome_words(final)} before it applied", "warn"
        else:
            words, tone = (f"took effect: order {effect}", "ok") if final else ("sent: the order resumes", "ok")
    elif decision.outcome == Outcome.SENDING:
        if final and decision.decision_id and decision.decision_id == decision_id:
            words, tone = f"took effect: order {effect}", "ok"
        elif final:
            words, tone = f"did not take effect: the order was {outcome_words(final)}", "warn"
        else:
            words, tone = "being sent", "pending"
    else:
        words, tone = NOT_APPLIED.get(decision.outcome, decision.get_outcome_display()), "bad"
    return ActivityItem(
        at=decision.created_at,
        kind="decision",
        title=f"{verb} attempt",
        outcome=words,
        tone=tone,
        who=decision.username,
        detail=decision.comment[:300],
    )


ACTION_TONES = {"succeeded": "ok", "unknown": "pending", "closed": "warn", "not_running": "warn"}


def _action_item(action: OperatorAction) -> ActivityItem:
    target = f" on {action.operation_name or action.operation_id}" if action.operation_id else ""
    return ActivityItem(
        at=action.created_at,
        kind="admin",
        title=f"{action.get_action_display()}{target}",
        outcome=action.get_outcome_display(),
        tone=ACTION_TONES.get(action.outcome, "bad"),
        who=action.username,
        detail=action.reason[:300],
        anchor=f"action-{action.pk}",
    )


NOTIFICATION_TONES = {"sent": "ok", "digested": "ok", "pending": "pending", "sending": "pending", "skipped": "info"}


def _notification_item(notification: Notification, *, show_recipient: bool) -> ActivityItem:
    recipient = notification.recipient if show_recipient else notification.get_channel_display().lower()
    return ActivityItem(
        at=notification.sent_at or notification.created_at,
        kind="notification",
        title=notification.get_kind_display(),
        outcome=notification.get_status_display().lower(),
        tone=NOTIFICATION_TONES.get(notification.status, "bad"),
        who=recipient[:120],
        detail=notification.error[:200] if notification.error else "",
    )


def _execution_for_order(order_id: str, execution_pk: int | None) -> Execution | None:
    """The order's execution: the one the caller names when it really is this order's, else the one the decision
    audit names."""
    if execution_pk:
        execution = Execution.objects.filter(pk=execution_pk).first()
        if execution and executions_selectors.execution_order_id(execution=execution) == order_id:
            return execution
    arn = (
        Decision.objects.filter(order_id=order_id)
        .exclude(execution_arn="")
        .values_list("execution_arn", flat=True)
        .first()
    )
    return Execution.objects.filter(arn=arn).first() if arn else None


def activity_trail(
    *,
    user,
    show_recipients: bool,
    order_id: str = "",
    execution: Execution | None = None,
    execution_pk: int | None = None,
) -> Trail:
    """The merged trail of an order (by id) or of an execution (its order's, when it is an order approval)."""
    if execution is None and order_id:
        execution = _execution_for_order(order_id, execution_pk)
    final, decision_id = "", ""
    if execution is not None:
        facts = executions_selectors.execution_order_facts(execution=execution)
        if not order_id:
            order_id = (facts.order_id if facts else "") or executions_selectors.execution_order_id(execution=execution)
        final = executions_selectors.execution_outcome(execution=execution, facts=facts)
        result = execution.result if isinstance(execution.result, dict) else {}
        decision_id = str(result.get("decisionId") or "")

    items: list[ActivityItem] = []
    if order_id:
        decisions = decisions_list(user=user).filter(order_id=order_id)[:LIMIT]
        items += [_decision_item(d, final=final, decision_id=decision_id) for d in decisions]
    if execution is not None:
        items += [_action_item(a) for a in execution.actions.order_by("-created_at")[:LIMIT]]
    about = Q()
    if order_id:
        about |= Q(context__order_id=order_id)
    if execution is not None:
        about |= Q(kind=Kind.EXECUTION_ATTENTION, context__execution_pk=execution.pk)
    if about:
        notifications = Notification.objects.filter(about).exclude(kind=Kind.ORDER_DIGEST).order_by("-created_at")
        items += [_notification_item(n, show_recipient=show_recipients) for n in notifications[:LIMIT]]
    if execution is not None and final and execution.ended_at:
        items.append(
            ActivityItem(
                at=execution.ended_at,
                kind="outcome",
                title=f"Order {final}",
                outcome=outcome_words(final),
                tone="ok" if final == "approved" else "warn" if final in ("rejected", "expired") else "bad",
                detail=f"the execution ended {execution.status.lower().replace('_', ' ')}",
            )
        )
    items.sort(key=lambda item: item.at)
    return Trail(order_id=order_id, execution=execution, final_outcome=final, items=items)
