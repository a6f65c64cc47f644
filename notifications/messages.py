"""What a notification says: its subject line, plain text, HTML and webhook fields, from the row's context.

The templates own the words and the HTML (templates/notifications/email/<kind>.txt and .html; `digest` for the
digests the engine builds from digest-mode rows); this module turns the stored context into the data they show.
Links are absolute (CONSOLE_BASE_URL) and go to pages that need a login. Nothing here reads a callback id.

Context keys, as the scheduler writes them (every one optional; unknown keys are ignored):
- orders (order_pending, order_reminder, order_escalation, order_outcome): `order_id`, `customer`, `amount`,
  `currency`, `items` (the order's list), `requested_by`, `deadline` (ISO 8601), `fraction` (of the window, for
  reminders and escalations), `outcome` (approved, rejected, expired, failed), `reason`;
- order_digest: `orders`, a list of order contexts as above;
- execution_attention: `execution_pk`, `execution_arn`, `name`, `function`, `status`, `reasons` (a list of text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from core.formatting import duration_text, money_text
from core.time import timestamp_iso, timestamp_parse
from notifications.models import Kind, Notification
from notifications.preferences import unsubscribe_token

DIGEST_PREFIX = "digest:"
UNSUBSCRIBE_PATH = "/account/notifications/unsubscribe/{token}/"
PREFERENCES_PATH = "/account/notifications/"
SUBJECT_CHARS = 150
ITEM_LINES = 20  # an order's items listed in a message (the page has all of them)
OUTCOME_WORDS = frozenset({"approved", "rejected", "expired", "failed"})
FAILED_STATUSES = {"FAILED": "failed", "TIMED_OUT": "timed out"}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    url: str  # the page it is about (absolute)
    unsubscribe_url: str  # "" when the recipient is not a user
    summary: str  # one or a few lines: the webhook's Slack-compatible `text`
    fields: dict = field(default_factory=dict)  # the webhook's structured fields


def absolute(path: str) -> str:
    return f"{settings.CONSOLE_BASE_URL}{path}"


def _path(name: str, fallback: str, **kwargs) -> str:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:  # an id that is no valid path segment: the list it belongs to
        return reverse(fallback)


def one_line(text: object, limit: int = SUBJECT_CHARS) -> str:
    """Text for a header: control characters and runs of whitespace become one space, clipped."""
    text = re.sub(r"[\s\x00-\x1f\x7f]+", " ", str(text or "")).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _moment_text(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


def _item_line(item) -> str:
    if isinstance(item, dict):
        parts = [str(item.get(key)) for key in ("sku", "description") if item.get(key) not in (None, "")]
        if item.get("quantity") not in (None, ""):
            parts.append(f"qty {item['quantity']}")
        if item.get("unitPrice") not in (None, ""):
            parts.append(f"at {money_text(item['unitPrice'])}")
        return one_line(" ".join(parts) or ", ".join(f"{k}: {v}" for k, v in item.items()), 200)
    return one_line(item, 200)


def order_facts(context: dict, *, now: datetime) -> dict:
    """An order's context as the templates show it."""
    order_id = str(context.get("order_id") or "")
    items = context.get("items") if isinstance(context.get("items"), list) else []
    deadline = timestamp_parse(context.get("deadline"))
    amount = money_text(context.get("amount"))
    currency = one_line(context.get("currency"), 8)
    fraction = context.get("fraction")
    outcome = str(context.get("outcome") or "").lower()
    count = context.get("items_count") if isinstance(context.get("items_count"), int) else len(items)
    return {
        "order_id": order_id,
        "customer": one_line(context.get("customer"), 200),
        "amount_text": f"{amount} {currency}".strip(),
        "items": [_item_line(item) for item in items[:ITEM_LINES]],
        "items_more": max(0, count - min(len(items), ITEM_LINES)),
        "items_count": count,
        "requested_by": one_line(context.get("requested_by"), 200),
        "deadline": deadline,
        "deadline_iso": timestamp_iso(deadline),
        "deadline_text": _moment_text(deadline),
        "time_left": duration_text((deadline - now).total_seconds()) if deadline and deadline > now else "",
        "percent": round(float(fraction) * 100) if isinstance(fraction, (int, float)) else None,
        "outcome": outcome if outcome in OUTCOME_WORDS else one_line(context.get("outcome"), 40),
        "reason": str(context.get("reason") or "")[:2000],
        "url": absolute(_path("approvals:order", "approvals:inbox", order_id=order_id)),
    }


def execution_facts(context: dict) -> dict:
    reasons = context.get("reasons") if isinstance(context.get("reasons"), list) else []
    status = str(context.get("status") or "")
    pk = context.get("execution_pk")
    path = _path("executions:detail", "executions:attention", execution_id=pk) if isinstance(pk, int) else None
    return {
        "execution_arn": str(context.get("execution_arn") or ""),
        "name": one_line(context.get("name") or context.get("execution_arn"), 200),
        "function": one_line(context.get("function"), 200),
        "status": status,
        "reasons": [one_line(reason, 300) for reason in reasons],
        "headline": FAILED_STATUSES.get(status) or "needs attention",
        "url": absolute(path or reverse("executions:attention")),
    }


def _subject(kind: str, facts: dict, count: int = 0) -> str:
    if kind == Kind.ORDER_PENDING:
        return f"Approval needed: order {facts['order_id']} ({facts['customer']}, {facts['amount_text']})"
    if kind == Kind.ORDER_DIGEST:
        return f"Approval needed: {count} new orders"
    if kind == Kind.ORDER_REMINDER:
        left = f", {facts['time_left']} left" if facts["time_left"] else ""
        return f"Reminder: order {facts['order_id']} still awaits approval{left}"
    if kind == Kind.ORDER_ESCALATION:
        left = f"closes in {facts['time_left']}" if facts["time_left"] else "is closing"
        return f"Escalation: order {facts['order_id']} still pending, its approval window {left}"
    if kind == Kind.ORDER_OUTCOME:
        return f"Your order {facts['order_id']} was {facts['outcome'] or 'decided'}"
    if kind == Kind.EXECUTION_ATTENTION:
        listed = facts["reasons"] and facts["headline"] == "needs attention"
        reasons = f": {', '.join(facts['reasons'])}" if listed else ""
        return f"Execution {facts['name']} {facts['headline']}{reasons}"
    return f"Notification: {kind}"


def _facts(kind: str, context: dict, *, now: datetime) -> dict:
    if kind == Kind.EXECUTION_ATTENTION:
        return execution_facts(context)
    if kind == Kind.ORDER_DIGEST:
        orders = [order_facts(o, now=now) for o in context.get("orders") or [] if isinstance(o, dict)]
        return {"orders": orders, "url": absolute(reverse("approvals:inbox"))}
    return order_facts(context, now=now)


def _reason(kind: str, facts: dict) -> str:
    if kind in (Kind.ORDER_REMINDER, Kind.ORDER_ESCALATION) and facts.get("percent") is not None:
        return f"{facts['percent']}% of the approval window has passed"
    if kind == Kind.ORDER_OUTCOME:
        return facts["reason"] or facts["outcome"]
    if kind == Kind.EXECUTION_ATTENTION:
        return "; ".join(facts["reasons"]) or facts["status"]
    return ""


def _fields(kind: str, facts: dict, subject: str) -> dict:
    fields = {"kind": kind, "subject": subject, "url": facts["url"], "reason": _reason(kind, facts)}
    if kind == Kind.EXECUTION_ATTENTION:
        fields.update(execution_arn=facts["execution_arn"], status=facts["status"], deadline=None)
    elif kind == Kind.ORDER_DIGEST:
        fields.update(order_ids=[o["order_id"] for o in facts["orders"]], deadline=None)
    else:
        fields.update(order_id=facts["order_id"], deadline=facts["deadline_iso"])
        if kind == Kind.ORDER_OUTCOME:
            fields["outcome"] = facts["outcome"]
    return fields


def _digest_subject(kind: str, count: int) -> str:
    if kind == Kind.EXECUTION_ATTENTION:
        return f"Digest: {count} execution{'s' if count != 1 else ''} need{'' if count != 1 else 's'} attention"
    label = Kind(kind).label.lower() if kind in Kind.values else kind
    return f"Digest: {count} notification{'s' if count != 1 else ''} ({label})"


def message_render(*, notification: Notification, items: list[Notification] | None = None, now=None) -> Message:
    """The message of one row; `items` for a digest row (the rows it lists)."""
    now = now or timezone.now()
    kind = notification.kind
    unsubscribe = ""
    if notification.user_id and notification.channel == "email":
        unsubscribe = absolute(
            UNSUBSCRIBE_PATH.format(token=unsubscribe_token(user_id=notification.user_id, kind=kind))
        )
    common = {
        "console_url": settings.CONSOLE_BASE_URL,
        "preferences_url": absolute(PREFERENCES_PATH),
        "unsubscribe_url": unsubscribe,
        "kind_label": Kind(kind).label if kind in Kind.values else kind,
    }
    if items is not None:
        entries = []
        for item in items:
            facts = _facts(item.kind, item.context, now=now)
            count = len(facts.get("orders", []))
            entries.append({"kind": item.kind, "subject": one_line(_subject(item.kind, facts, count), 300), **facts})
        url = absolute(reverse("executions:attention" if kind == Kind.EXECUTION_ATTENTION else "approvals:inbox"))
        subject = one_line(_digest_subject(kind, len(entries)))
        data = {**common, "subject": subject, "entries": entries, "url": url, "count": len(entries)}
        template = "digest"
        summary = "\n".join([subject, *(f"• {e['subject']} {e['url']}" for e in entries), url])
        fields = {
            "kind": kind,
            "subject": subject,
            "url": url,
            "reason": f"{len(entries)} notifications since the last digest",
            "deadline": None,
            "items": [_fields(e["kind"], e, e["subject"]) for e in entries],
        }
    else:
        facts = _facts(kind, notification.context, now=now)
        subject = one_line(_subject(kind, facts, len(facts.get("orders", []))))
        data = {**common, **facts, "subject": subject, "reason_text": _reason(kind, facts)}
        template = kind
        url = facts["url"]
        summary = f"{subject}\n{url}"
        fields = _fields(kind, facts, subject)
    text = render_to_string(f"notifications/email/{template}.txt", data)
    html = render_to_string(f"notifications/email/{template}.html", data)
    return Message(subject, text, html, url, unsubscribe, summary, fields)
