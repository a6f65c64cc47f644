"""The notifications check: what is due now, written as notification rows (`notifications_create`) for delivery.

One check (the Celery beat task "notifications.check", every NOTIFY_CHECK_SECONDS) reads:
  - the pending orders with a callback (DynamoDB, one Query per page through `orders_page`), and the open
    `TrackedOrder` rows: new orders are announced to the approvers (except the requester, four-eyes); reminders at
    the fractions NOTIFY_REMINDER_AT of each window and an escalation to Admins at NOTIFY_ESCALATE_AT;
  - batching: an approver who would be told of more than NOTIFY_BATCH_SIZE orders within NOTIFY_BATCH_SECONDS
    (counting the orders listed in order digests too) gets one digest of this check's new orders instead; after a
    digest, further new orders within the window are gathered into one waiting digest (an ORDER_DIGEST row due
    when the window of the last digest ends, to which later checks add their orders while nobody has claimed it),
    so a busy approver gets at most about one email per window;
  - the tracked orders that left the pending set: approved, rejected, expired or failed tells the requester once
    and closes the row; `deciding` is not decided yet and stays open. The orders created within
    NOTIFY_OUTCOME_LOOKBACK_HOURS in those four statuses (one Query per status and page) close their tracked rows
    without a read, and those never tracked (decided within one check of their callback, while DynamoDB was down,
    or before the first check) without an ORDER_OUTCOME row are told too; the others get one `order_get` each,
    bounded (one attempt, short timeouts) and none after the first failure in a check;
  - the executions needing attention, or failed / timed out in the last 24 hours (one query, never imported
    copies): each attention reason once per execution, and the failure, to the operators (digest by default).
Every event also goes to each URL of NOTIFY_WEBHOOK_URLS (channel webhook, immediate).

It calls no Lambda API. Its SQL is a constant number of queries whatever the number of pending orders and
executions (bulk reads, one existence query over the dedupe keys of what is due, bulk writes); only the outcomes
(one row update each, in one bulk update) and the orders added to waiting digests (one conditional update per
digest) grow with what is actually due. Exactly once comes from the rows'
unique dedupe key; the check also runs under a cache lock, so two beat processes do not both compute digests.

Contexts (JSON, no callback id, no secret), read by notifications/messages.py:
  orders: order_id, path (/approvals/<order_id>/), customer, amount (text), items (at most the ITEM_LINES a
  message lists, or [] when only counted), items_count (all of them), requested_by, created_at, deadline (ISO
  8601); reminders and escalations add fraction; outcomes add outcome, reason, decided_by, decided_at; digests:
  orders (a list of order contexts), count.
  executions: execution_arn, execution_pk, name, function, path (/executions/<id>/), status, reason (a code, or
  the status for a failure), reasons (its message, as a list of one), operation_id, ended_at.

About 560 lines, kept together: orders and executions are read once per check and their due notifications are
checked against existing rows in one query, so the parts share one pass; each part is its own function.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from approvals.four_eyes import requested_by_any
from approvals.order_records import Order, OrderStatus
from approvals.orders_table import OrderNotFound, OrdersTableUnavailable, order_get, orders_page
from core.aws import aws_interactive
from core.locks import cache_lock
from core.roles import ADMINS, APPROVERS, OPERATORS
from core.time import timestamp_iso
from executions.models import Execution
from executions.statuses import ExecutionStatus
from functions.order_approval.validation import identity_key
from notifications.delivery import Draft, dedupe_key, notifications_create
from notifications.messages import ITEM_LINES
from notifications.models import Channel, Kind, Mode, Notification, Preference, Status, TrackedOrder
from notifications.preferences import Recipient, recipients_for

logger = logging.getLogger(__name__)

CHECK_LOCK = "notifications:check"
# The check lock outlives the task's hard time limit by this much: a killed check never leaves a second one running.
CHECK_LOCK_MARGIN_SECONDS = 30
ORDERS_PAGE_SIZE = 1000
# Outcomes the requester is told; other statuses that are not pending end the tracking silently
# (`closed`: answered elsewhere; `invalid`, unknown values), and `deciding` keeps it open.
OUTCOMES = (OrderStatus.APPROVED, OrderStatus.REJECTED, OrderStatus.EXPIRED, OrderStatus.FAILED)
EXECUTION_FAILURES = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT)
FAILURE_LOOKBACK = timedelta(hours=24)
# Dedupe keys asked per existence query: one query up to this many due notifications.
KEYS_PER_QUERY = 10_000
SUBJECT_MAX = Notification._meta.get_field("subject").max_length


def notifications_check(*, now: datetime | None = None) -> dict:
    """Find what is due and write it as notification rows; returns counts of what it created.

    `now` (tests, benchmarks) moves the clock the fractions are measured with; rows keep their real creation time.
    """
    now = now or timezone.now()
    with cache_lock(CHECK_LOCK, ttl=check_lock_ttl()) as acquired:
        if not acquired:
            return {"skipped": 1}
        return _check(now)


def check_lock_ttl() -> int:
    """The check lock's TTL: longer than the task's hard time limit (a check killed at the limit still holds it)."""
    return max(60, 4 * settings.NOTIFY_CHECK_SECONDS, settings.CELERY_TASK_TIME_LIMIT + CHECK_LOCK_MARGIN_SECONDS)


class _OrderReads:
    """The check's GetItem calls: each bounded like a request a person waits on (one attempt, short timeouts,
    `aws_interactive`), and none after the first failure in a check (DynamoDB slow or down: what is left waits for
    the next check), so a slow table cannot hold the task past its time limit."""

    def __init__(self):
        self.failed: OrdersTableUnavailable | None = None

    def get(self, order_id: str) -> Order:
        """The order; raises OrderNotFound, or OrdersTableUnavailable (also for every read after a failure)."""
        if self.failed is not None:
            raise self.failed
        try:
            with aws_interactive():
                return order_get(order_id=order_id)
        except OrdersTableUnavailable as error:
            logger.warning("notifications check: no more order reads in this check: %s", error)
            self.failed = error
            raise


def _check(now: datetime) -> dict:
    urls = [url for url in settings.NOTIFY_WEBHOOK_URLS if url]
    reads = _OrderReads()
    try:
        pending = _pending_orders()
    except OrdersTableUnavailable as error:
        # Orders wait for the next check (nothing is taken as decided); executions are still told.
        logger.warning("notifications check: orders skipped: %s", error)
        pending, tracked, recent = {}, {}, {}
    else:
        tracked = {row.order_id: row for row in TrackedOrder.objects.filter(open=True)}
        try:
            with aws_interactive():  # bounded like the reads: a slow table costs this check seconds, not minutes
                recent = _recent_outcomes(now)
        except OrdersTableUnavailable as error:
            logger.warning("notifications check: recent outcomes skipped: %s", error)
            recent = {}
    new = [order for order_id, order in pending.items() if order_id not in tracked]
    gone = [row for order_id, row in tracked.items() if order_id not in pending]

    drafts: list[Draft] = []
    announcements, appends = _announcements(new, urls, now, reads)
    drafts += announcements
    checked = _reminders(pending, tracked, urls, now)
    closing, outcome_drafts = _outcomes(gone, recent, urls, now, reads)
    drafts += outcome_drafts
    checked += _execution_events(urls, now)
    drafts += _not_existing(checked)

    created = 0
    with transaction.atomic():  # empty when there is nothing to write
        if new:
            TrackedOrder.objects.bulk_create(
                [
                    TrackedOrder(
                        order_id=order.order_id,
                        requested_by=order.requested_by[:320],
                        window_start=order.created_at,
                        deadline=order.approval_deadline,
                        first_seen_at=now,
                        announced_at=now,
                    )
                    for order in new
                ],
                ignore_conflicts=True,
            )
        if closing:
            TrackedOrder.objects.bulk_update(closing, ["open", "outcome", "closed_at"])
        drafts += _digest_append(appends)
        created = notifications_create(drafts=drafts) if drafts else 0
    counts = Counter(d.kind if d.channel == Channel.EMAIL else Channel.WEBHOOK for d in drafts)
    return {
        "orders_pending": len(pending),
        "orders_new": len(new),
        "orders_closed": len(closing),
        **{str(key): n for key, n in sorted(counts.items())},
        "created": created,
    }


# --- orders ------------------------------------------------------------------------------------


def _pending_orders() -> dict[str, Order]:
    """Every pending order that has its callback (one Query per page), by id."""
    found: dict[str, Order] = {}
    start = None
    while True:
        page = orders_page(status=OrderStatus.PENDING, limit=ORDERS_PAGE_SIZE, start_key=start)
        found.update((order.order_id, order) for order in page.orders if order.has_callback)
        start = page.next_key
        if not start:
            return found


def _recent_outcomes(now: datetime) -> dict[str, Order]:
    """The orders created within NOTIFY_OUTCOME_LOOKBACK_HOURS that are now approved, rejected, expired or failed
    (one Query per status and page on the status/createdAt index), by id: also those never seen pending."""
    since = now - timedelta(hours=settings.NOTIFY_OUTCOME_LOOKBACK_HOURS)
    after = since.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    found: dict[str, Order] = {}
    for status in OUTCOMES:
        start = None
        while True:
            page = orders_page(status=status, limit=ORDERS_PAGE_SIZE, start_key=start, created_after=after)
            found.update((order.order_id, order) for order in page.orders)
            start = page.next_key
            if not start:
                break
    return found


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def _order_context(order: Order) -> dict:
    return {
        "order_id": order.order_id,
        "path": reverse("approvals:order", args=[order.order_id]),
        "customer": order.customer_name,
        "amount": str(order.amount) if order.amount is not None else "",
        # Summaries from the orders list count the items without reading them (None placeholders). Only the items a
        # message lists are stored; items_count has the total.
        "items": _jsonable([item for item in order.items if item is not None][:ITEM_LINES]),
        "items_count": order.items_count,
        "requested_by": order.requested_by,
        "created_at": timestamp_iso(order.created_at) or "",
        "deadline": timestamp_iso(order.approval_deadline) or "",
    }


class _Audience:
    """Recipients of one kind, with the four-eyes exclusion done in memory (each recipient carries its folded names)."""

    def __init__(self, recipients: list[Recipient]):
        self.recipients = recipients

    def excluding(self, requester: str) -> list[Recipient]:
        return [r for r in self.recipients if not requested_by_any(requester, r.identities)]


def _webhooks(kind: str, subject: str, context: dict, urls: list[str]) -> list[Draft]:
    return [Draft(kind, subject, url, Channel.WEBHOOK, None, Mode.IMMEDIATE, context) for url in urls]


def _email(kind: str, subject: str, recipient: Recipient, context: dict) -> Draft:
    return Draft(kind, subject, recipient.email, Channel.EMAIL, recipient.user_id, recipient.mode, context)


def _announcements(
    new: list[Order], urls: list[str], now: datetime, reads: _OrderReads
) -> tuple[list[Draft], list[tuple[int, dict, Draft]]]:
    """New pending orders: one email per approver per order, or digests when too many arrive (module docstring).

    Returns the drafts, and the orders to add to a waiting digest: (its pk, its new context, the draft to write
    instead if it was claimed meanwhile)."""
    if not new:
        return [], []
    approvers = _Audience(recipients_for(kind=Kind.ORDER_PENDING, roles=(APPROVERS,)))
    new = sorted(new, key=lambda order: (order.created_at_raw, order.order_id))
    window = timedelta(seconds=settings.NOTIFY_BATCH_SECONDS)
    told: Counter[str] = Counter()  # orders announced to each recipient within the window, one by one or in digests
    last_digest: dict[str, datetime] = {}
    waiting: dict[str, tuple[int, dict]] = {}  # each recipient's digest not sent yet and still open for orders
    rows = Notification.objects.filter(
        Q(created_at__gte=now - window) | Q(kind=Kind.ORDER_DIGEST, status=Status.PENDING, next_attempt_at__gt=now),
        kind__in=(Kind.ORDER_PENDING, Kind.ORDER_DIGEST),
        channel=Channel.EMAIL,
    ).values_list("pk", "recipient", "kind", "created_at", "status", "attempts", "next_attempt_at", "context")
    for pk, recipient, kind, created_at, status, attempts, next_attempt_at, context in rows:
        if kind == Kind.ORDER_PENDING:
            told[recipient] += 1
            continue
        told[recipient] += context.get("count") if isinstance(context.get("count"), int) else 1
        last_digest[recipient] = max(created_at, last_digest.get(recipient, created_at))
        if status == Status.PENDING and attempts == 0 and next_attempt_at > now:
            waiting[recipient] = (pk, context)
    per_order: dict[str, list[Recipient]] = {}
    by_recipient: dict[int | None, tuple[Recipient, list[Order]]] = {}
    for order in new:
        for recipient in approvers.excluding(order.requested_by):
            by_recipient.setdefault(recipient.user_id, (recipient, []))[1].append(order)
    drafts: list[Draft] = []
    appends: list[tuple[int, dict, Draft]] = []
    for recipient, orders in by_recipient.values():
        address = recipient.email
        if told[address] + len(orders) <= settings.NOTIFY_BATCH_SIZE:
            for order in orders:
                per_order.setdefault(order.order_id, []).append(recipient)
            continue
        contexts = [_order_context(order) for order in orders]
        subject = f"new:{orders[0].order_id}+{len(orders) - 1}"
        if address not in last_digest:  # the first digest of a burst goes now
            drafts.append(_email(Kind.ORDER_DIGEST, subject, recipient, {"orders": contexts, "count": len(orders)}))
            continue
        # Already batching: gathered into one digest sent when the window of the last one ends.
        due = max(now, last_digest[address] + window)
        draft = _email(Kind.ORDER_DIGEST, subject, recipient, {"orders": contexts, "count": len(orders)})
        draft = replace(draft, not_before=due)
        if address in waiting:
            pk, context = waiting[address]
            listed = [*(context.get("orders") or []), *contexts]
            appends.append((pk, {**context, "orders": listed, "count": len(listed)}, draft))
        else:
            drafts.append(draft)

    for order in new:
        announced = per_order.get(order.order_id, [])
        if announced:
            order = _order_with_items(order, reads)
        context = _order_context(order)
        drafts += [_email(Kind.ORDER_PENDING, order.order_id, recipient, context) for recipient in announced]
        drafts += _webhooks(Kind.ORDER_PENDING, order.order_id, context, urls)
    return drafts, appends


def _digest_append(appends: list[tuple[int, dict, Draft]]) -> list[Draft]:
    """Add orders to the waiting digests (one conditional UPDATE each: only while nobody has claimed it); returns
    the drafts of those claimed meanwhile (a new waiting digest each)."""
    instead = []
    for pk, context, draft in appends:
        if not Notification.objects.filter(pk=pk, status=Status.PENDING, attempts=0).update(context=context):
            instead.append(draft)
    return instead


def _order_with_items(order: Order, reads: _OrderReads) -> Order:
    """The full order (its items' contents) for an individual announcement; the summary if it cannot be read."""
    if not order.items_count:
        return order
    try:
        return reads.get(order.order_id)
    except (OrderNotFound, OrdersTableUnavailable):
        return order


def _moment(order: Order, fraction: float) -> datetime | None:
    if not order.created_at or not order.approval_deadline or order.approval_deadline <= order.created_at:
        return None
    return order.created_at + (order.approval_deadline - order.created_at) * fraction


def _reminders(
    pending: dict[str, Order], tracked: dict[str, TrackedOrder], urls: list[str], now: datetime
) -> list[Draft]:
    """Reminders and escalations due now (candidates: the existence check drops those already written).

    For each pending order, the latest reminder fraction whose moment has passed (and came after the order was first
    seen: an order found late is announced, not also reminded), and the escalation once its moment has passed,
    both only before the deadline.
    """
    fractions = sorted(set(settings.NOTIFY_REMINDER_AT))
    escalate_at = settings.NOTIFY_ESCALATE_AT
    reminded: _Audience | None = None
    admins: _Audience | None = None
    drafts: list[Draft] = []
    for order in pending.values():
        if not order.approval_deadline or now >= order.approval_deadline:
            continue
        row = tracked.get(order.order_id)
        seen = row.first_seen_at if row else now
        due = [f for f in fractions if (moment := _moment(order, f)) and seen < moment <= now]
        context = None
        if due:
            reminded = reminded or _Audience(recipients_for(kind=Kind.ORDER_REMINDER, roles=(APPROVERS,)))
            context = {**_order_context(order), "fraction": due[-1]}
            subject = f"{order.order_id}@{due[-1]}"
            drafts += [_email(Kind.ORDER_REMINDER, subject, r, context) for r in reminded.excluding(order.requested_by)]
            drafts += _webhooks(Kind.ORDER_REMINDER, subject, context, urls)
        if escalate_at is not None and (moment := _moment(order, escalate_at)) and moment <= now:
            admins = admins or _Audience(recipients_for(kind=Kind.ORDER_ESCALATION, roles=(ADMINS,)))
            context = {**_order_context(order), "fraction": escalate_at}
            recipients = admins.excluding(order.requested_by)
            drafts += [_email(Kind.ORDER_ESCALATION, order.order_id, r, context) for r in recipients]
            drafts += _webhooks(Kind.ORDER_ESCALATION, order.order_id, context, urls)
    return drafts


def _outcomes(
    gone: list[TrackedOrder], recent: dict[str, Order], urls: list[str], now: datetime, reads: _OrderReads
) -> tuple[list[TrackedOrder], list[Draft]]:
    """The requesters' outcomes, and the tracked rows to close.

    Tracked orders no longer pending: those among `recent` (final outcomes of the lookback) are closed from it; the
    others are read once each (bounded, none after a failure); a final outcome tells the requester and closes the
    row. Orders of `recent` never tracked (decided within one check of getting their callback, or while DynamoDB
    was down, or before the first check) and with no ORDER_OUTCOME row yet are told too.
    """
    closing: list[TrackedOrder] = []
    decided: dict[str, Order] = {}
    for row in gone:
        order = recent.get(row.order_id)
        if order is None:
            try:
                order = reads.get(row.order_id)
            except OrderNotFound:
                order = None
            except OrdersTableUnavailable:
                continue  # read again at the next check
        if order is not None and order.status in (OrderStatus.PENDING, OrderStatus.DECIDING):
            continue  # deciding: not decided yet (a released claim comes back pending)
        row.open, row.closed_at = False, now
        row.outcome = order.status[:32] if order else "gone"
        closing.append(row)
        if order is not None and order.status in OUTCOMES:
            decided[order.order_id] = order
    # Told once: an order with an ORDER_OUTCOME row already (on any channel) is not told again.
    untold = set(_without_outcome([*decided, *(order_id for order_id in recent if order_id not in decided)]))
    summaries = {order_id for order_id in recent if order_id not in decided and order_id in untold}
    decided = {order_id: order for order_id, order in decided.items() if order_id in untold}
    decided.update((order_id, recent[order_id]) for order_id in summaries)
    if not decided:
        return closing, []

    requesters = _requesters([order.requested_by for order in decided.values()])
    drafts = []
    for order in decided.values():
        recipient = requesters.get(identity_key(order.requested_by))
        if order.order_id in summaries and order.status == OrderStatus.FAILED and (recipient or urls):
            try:  # its failureMessage is not in the index's summary
                order = reads.get(order.order_id)
            except (OrderNotFound, OrdersTableUnavailable):
                pass
        context = {
            **_order_context(order),
            "outcome": order.status,
            "reason": order.decision_comment or str(order.attributes.get("failureMessage") or ""),
            "decided_by": order.decided_by,
            "decided_at": timestamp_iso(order.decided_at) or "",
        }
        if recipient is not None:
            drafts.append(_email(Kind.ORDER_OUTCOME, order.order_id, recipient, context))
        drafts += _webhooks(Kind.ORDER_OUTCOME, order.order_id, context, urls)
    return closing, drafts


def _without_outcome(order_ids: list[str]) -> list[str]:
    """The orders with no ORDER_OUTCOME row on any channel (one query per KEYS_PER_QUERY ids)."""
    told: set[str] = set()
    for start in range(0, len(order_ids), KEYS_PER_QUERY):
        chunk = order_ids[start : start + KEYS_PER_QUERY]
        told.update(
            Notification.objects.filter(kind=Kind.ORDER_OUTCOME, subject__in=chunk).values_list("subject", flat=True)
        )
    return [order_id for order_id in order_ids if order_id not in told]


def _looks_like_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _requesters(names: list[str]) -> dict[str, Recipient]:
    """Where each requester's outcome goes (by folded identity), leaving out those who turned it off.

    The `requestedBy` address itself when it is one; else the email of the user with that username. A user whose
    email or username is the requester and who turned ORDER_OUTCOME off gets nothing. Two queries for all.
    """
    wanted = {identity_key(name): name.strip() for name in names if identity_key(name)}
    variants = set(wanted.values()) | {name.lower() for name in wanted.values()}
    users = get_user_model().objects.filter(Q(email__in=variants) | Q(username__in=variants), is_active=True)
    matched: dict[str, object] = {}
    for user in users.order_by("pk"):
        for key in {identity_key(user.email), identity_key(user.username)} & set(wanted):
            matched.setdefault(key, user)
    choices = {
        p.user_id: p
        for p in Preference.objects.filter(
            user__in=[u.pk for u in matched.values()], kind=Kind.ORDER_OUTCOME, channel=Channel.EMAIL
        )
    }
    found = {}
    for key, name in wanted.items():
        user = matched.get(key)
        choice = choices.get(user.pk) if user is not None else None
        if choice is not None and not choice.enabled:
            continue
        mode = choice.mode if choice is not None else Mode.IMMEDIATE
        address = name if _looks_like_email(name) else (user.email if user is not None else "")
        if address:
            found[key] = Recipient(user.pk if user is not None else None, address, mode)
    return found


# --- executions --------------------------------------------------------------------------------


def _execution_events(urls: list[str], now: datetime) -> list[Draft]:
    """Candidates for the operators: each attention reason of each execution, and recent failures / timeouts."""
    recent = Q(ended_at__gte=now - FAILURE_LOOKBACK) | Q(ended_at__isnull=True, updated_at__gte=now - FAILURE_LOOKBACK)
    executions = (
        Execution.objects.filter(imported=False, deleted_at__isnull=True)
        .filter(Q(needs_attention=True) | (Q(status__in=EXECUTION_FAILURES) & recent))
        .only("id", "arn", "name", "function_name", "status", "attention_reasons", "ended_at")
        .order_by("id")
    )
    operators = None
    drafts: list[Draft] = []
    for execution in executions:
        operators = (
            operators if operators is not None else recipients_for(kind=Kind.EXECUTION_ATTENTION, roles=(OPERATORS,))
        )
        base = {
            "execution_arn": execution.arn,
            "execution_pk": execution.pk,
            "name": execution.name,
            "function": execution.function_name,
            "path": reverse("executions:detail", args=[execution.pk]),
            "status": execution.status,
            "ended_at": timestamp_iso(execution.ended_at) or "",
        }
        events = []
        if execution.status in EXECUTION_FAILURES:
            events.append((execution.status, f"The execution ended {execution.status}.", ""))
        for reason in execution.attention_reasons or []:
            if not isinstance(reason, dict) or not reason.get("code"):
                continue
            code = str(reason["code"])
            if code == "timed_out" and execution.status == ExecutionStatus.TIMED_OUT:
                continue  # the failure itself says it
            events.append((code, str(reason.get("message") or ""), str(reason.get("operation_id") or "")))
        for code, message, operation_id in events:
            subject = _subject(f"{execution.arn}:{code}")
            context = {
                **base,
                "reason": code,
                "reasons": [message or code.replace("_", " ")],
                "operation_id": operation_id,
            }
            drafts += [_email(Kind.EXECUTION_ATTENTION, subject, r, context) for r in operators]
            drafts += _webhooks(Kind.EXECUTION_ATTENTION, subject, context, urls)
    return drafts


def _subject(text: str) -> str:
    """`text` if it fits the subject column; else its start and a hash of the whole (still one per event)."""
    if len(text) <= SUBJECT_MAX:
        return text
    return f"{text[: SUBJECT_MAX - 66]}~{hashlib.sha256(text.encode()).hexdigest()}"[:SUBJECT_MAX]


def _not_existing(drafts: list[Draft]) -> list[Draft]:
    """The drafts whose row does not exist yet (one query per KEYS_PER_QUERY keys, on the unique index)."""
    if not drafts:
        return []
    keyed = {dedupe_key(d.kind, d.subject, d.recipient, d.channel): d for d in drafts}
    keys = list(keyed)
    existing: set[str] = set()
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]
        existing.update(Notification.objects.filter(dedupe_key__in=chunk).values_list("dedupe_key", flat=True))
    return [draft for key, draft in keyed.items() if key not in existing]
