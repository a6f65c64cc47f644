"""Delivery: drafts become rows, rows are claimed one at a time, sent, and completed; digests gather digest rows.

Exactly once per notification:
- `notifications_create` inserts one row per (kind, subject, recipient, channel): the dedupe key is unique, so a
  draft made twice (two beat processes, a retried task) is one row.
- `notifications_deliver` claims a due row with a conditional UPDATE (pending and due -> sending, or sending with
  a claim older than NOTIFY_CLAIM_LEASE_SECONDS: its worker died), one row per UPDATE: of two workers, one
  updates the row and the other sees 0 rows and moves on. Completion is conditional on the claim (status and
  claimed_at), so a worker that lost its lease never overwrites the new owner's result.
- A worker killed after sending and before recording leaves the row `sending`; after the lease it is sent again
  with the same Message-ID (and webhook delivery id), so the repeat is recognisable as the same message.

A failed send counts an attempt: the row is due again after NOTIFY_RETRY_BASE_SECONDS * 2**(attempts-1) (times a
jitter of 1 to 1.25), and is `failed`, with its error, after NOTIFY_MAX_ATTEMPTS.

Digests: digest-mode rows are never sent one by one. For each recipient, channel and kind with pending digest rows
whose last digest (of that kind) is older than NOTIFY_DIGEST_MINUTES (or who never had one), one digest row is
inserted (its own dedupe key: kind and subject "digest:<recipient>:<time bucket>") and, in the same transaction,
the items are attached to it (status digested). The digest is then sent like any row, listing its items.

Before an order notification is sent, `STILL_DUE[kind]` is asked whether it still matters (the order is still
pending and its window open); if not, the row is `skipped`. A recipient who turned the kind off since the row was
written is skipped as well.

About 350 lines, kept together: creating, claiming, completing and digesting rows are one state machine over the
same row, and its invariants (who holds a claim, what was sent) read best in one place.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from core.audit import secret_scrub
from core.time import timestamp_parse
from notifications import channels
from notifications.messages import DIGEST_PREFIX, message_render
from notifications.models import Kind, Mode, Notification, Preference, Status, TrackedOrder
from notifications.preferences import preference_kind

logger = logging.getLogger(__name__)

ERROR_CHARS = 500  # the error kept on a row: short, scrubbed
CREATE_CHUNK = 500
CLAIM_SCAN = 50  # due candidates read per query; each is then claimed by its own UPDATE
MAX_PER_RUN = 1000  # rows sent by one call at most (the next check sends the rest)
RUN_BUDGET_FRACTION = 0.5  # of the task's soft time limit: no new claim after that
JITTER = (1.0, 1.25)


@dataclass(frozen=True)
class Draft:
    kind: str
    subject: str
    recipient: str
    channel: str
    user_id: int | None
    mode: str
    context: dict = field(default_factory=dict)
    not_before: datetime | None = None  # not sent before this (a batched order digest waits for its window)


def dedupe_key(kind, subject, recipient, channel) -> str:
    """sha256 hex (64 characters) of the four, separated so that no two tuples give the same text."""
    text = "\x1f".join(str(part) for part in (kind, subject, recipient, channel))
    return hashlib.sha256(text.encode()).hexdigest()


def notifications_create(*, drafts: list[Draft]) -> int:
    """Insert the drafts not written yet; returns how many rows are new.

    The count is read before the insert; the unique key alone guarantees one row per notification (a concurrent
    writer of the same drafts may count some of them too, never insert them twice)."""
    unique: dict[str, Draft] = {}
    for draft in drafts:
        unique.setdefault(dedupe_key(draft.kind, draft.subject, draft.recipient, draft.channel), draft)
    created = 0
    keys = list(unique)
    for start in range(0, len(keys), CREATE_CHUNK):
        chunk = keys[start : start + CREATE_CHUNK]
        existing = set(Notification.objects.filter(dedupe_key__in=chunk).values_list("dedupe_key", flat=True))
        rows = [_row(key, unique[key]) for key in chunk if key not in existing]
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        created += len(rows)
    return created


def _row(key: str, draft: Draft) -> Notification:
    return Notification(
        kind=draft.kind,
        subject=draft.subject[:300],
        recipient=draft.recipient,
        channel=draft.channel,
        dedupe_key=key,
        user_id=draft.user_id,
        mode=draft.mode,
        context=draft.context,
        **({"next_attempt_at": draft.not_before} if draft.not_before else {}),
    )


# --- still due? -------------------------------------------------------------------------------------------


def order_still_pending(notification: Notification, now: datetime) -> bool:
    """An order's announcement, reminder or escalation matters only while the order is pending and its window open.

    The scheduler keeps TrackedOrder.open current at each check (it runs just before delivery)."""
    order_id = notification.context.get("order_id")
    if order_id and TrackedOrder.objects.filter(order_id=order_id, open=False).exists():
        return False
    deadline = timestamp_parse(notification.context.get("deadline"))
    return deadline is None or deadline > now


def order_digest_still_pending(notification: Notification, now: datetime) -> bool:
    orders = [o for o in notification.context.get("orders") or [] if isinstance(o, dict)]
    if not orders:
        return True
    ids = [o.get("order_id") for o in orders if o.get("order_id")]
    closed = set(TrackedOrder.objects.filter(order_id__in=ids, open=False).values_list("order_id", flat=True))
    for order in orders:
        deadline = timestamp_parse(order.get("deadline"))
        if order.get("order_id") not in closed and (deadline is None or deadline > now):
            return True
    return False


# kind -> (row, now) -> still worth sending? Kinds not listed are always due.
STILL_DUE: dict[str, Callable[[Notification, datetime], bool]] = {
    Kind.ORDER_PENDING: order_still_pending,
    Kind.ORDER_REMINDER: order_still_pending,
    Kind.ORDER_ESCALATION: order_still_pending,
    Kind.ORDER_DIGEST: order_digest_still_pending,
}


def _turned_off(rows: list[Notification]) -> set[tuple[int, str, str]]:
    """(user id, kind, channel) of the choices turned off by the users of `rows` (one query)."""
    users = {row.user_id for row in rows if row.user_id}
    if not users:
        return set()
    return set(Preference.objects.filter(user_id__in=users, enabled=False).values_list("user_id", "kind", "channel"))


def _skip_reason(notification: Notification, now: datetime, off: set[tuple[int, str, str]] | None = None) -> str:
    """Why the row is no longer worth sending ("" when it is); `off`: `_turned_off` of a batch the row belongs to."""
    off = _turned_off([notification]) if off is None else off
    if (notification.user_id, preference_kind(notification.kind), notification.channel) in off:
        return "the recipient turned this kind off"
    check = STILL_DUE.get(notification.kind)
    if check is not None and not check(notification, now):
        return "no longer due (the order was decided or its window closed)"
    return ""


# --- delivery ---------------------------------------------------------------------------------------------


def retry_delay_seconds(attempts: int) -> float:
    """The wait before attempt `attempts + 1`: base * 2**(attempts-1), times a jitter of 1 to 1.25."""
    return settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1) * random.uniform(*JITTER)


def _due(now: datetime) -> Q:
    lease_cutoff = now - timedelta(seconds=settings.NOTIFY_CLAIM_LEASE_SECONDS)
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_at__lt=lease_cutoff, attempts__lt=settings.NOTIFY_MAX_ATTEMPTS
    )


def notification_claim(*, pk: int, now: datetime) -> Notification | None:
    """Claim one row for this worker, or None when another worker has it (or it is not due)."""
    claimed = (
        Notification.objects.filter(_due(now), pk=pk)
        .exclude(mode=Mode.DIGEST)
        .update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    return Notification.objects.get(pk=pk)


def _complete(row: Notification, **fields) -> bool:
    """Write the outcome if this worker still holds the claim."""
    done = Notification.objects.filter(pk=row.pk, status=Status.SENDING, claimed_at=row.claimed_at).update(**fields)
    if not done:
        logger.warning("notification %s: claim lost before completion (another worker took it over)", row.pk)
    return bool(done)


def _error_text(error: BaseException, row: Notification) -> str:
    secrets = [settings.NOTIFY_WEBHOOK_SECRET, getattr(settings, "EMAIL_HOST_PASSWORD", "")]
    if row.channel == "webhook":
        secrets.append(row.recipient)  # a webhook URL is often a secret itself (Slack's are)
    text = secret_scrub(f"{type(error).__name__}: {error}", *secrets)
    return " ".join(text.split())[:ERROR_CHARS]


def notification_send(*, row: Notification, now: datetime) -> str:
    """Send one claimed row and record the outcome: 'sent', 'retry', 'failed' or 'skipped'."""
    reason = _skip_reason(row, now)
    if reason:
        _complete(row, status=Status.SKIPPED, error=reason, claimed_at=None)
        return "skipped"
    items = None
    if row.subject.startswith(DIGEST_PREFIX):
        items = list(row.items.order_by("created_at", "pk"))
    try:
        message = message_render(notification=row, items=items, now=now)
        channels.SENDERS[row.channel](notification=row, message=message)
    except SoftTimeLimitExceeded:
        raise  # the row stays `sending`; its lease makes it due again
    except Exception as error:
        text = _error_text(error, row)
        if row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            logger.error("notification %s failed after %s attempts: %s", row.pk, row.attempts, text)
            _complete(row, status=Status.FAILED, error=text)
            return "failed"
        delay = retry_delay_seconds(row.attempts)
        logger.warning("notification %s attempt %s failed (retry in %.0f s): %s", row.pk, row.attempts, delay, text)
        _complete(row, status=Status.PENDING, error=text, next_attempt_at=now + timedelta(seconds=delay))
        return "retry"
    if _complete(row, status=Status.SENT, sent_at=now, error="") and items:
        Notification.objects.filter(digest=row).update(sent_at=now)
    return "sent"


def run_budget_seconds() -> float:
    """How long one task run may keep claiming rows (a fraction of the soft time limit: the last send still fits)."""
    return settings.CELERY_TASK_SOFT_TIME_LIMIT * RUN_BUDGET_FRACTION


def notifications_deliver(*, now=None, budget_seconds: float | None = None) -> dict:
    """Build the due digests, then send every due row (one claim per row); returns the counts.

    No new claim after `budget_seconds` (default `run_budget_seconds()`; the beat task passes what its check left)."""
    now = now or timezone.now()
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "digests": 0, "digested": 0, "abandoned": 0}
    counts["abandoned"] = _abandoned_fail(now)
    digests, digested = digests_build(now=now)
    counts["digests"], counts["digested"] = digests, digested
    budget = run_budget_seconds() if budget_seconds is None else budget_seconds
    started = time.monotonic()
    tried: set[int] = set()
    handled = 0
    while handled < MAX_PER_RUN and time.monotonic() - started < budget:
        candidates = list(
            Notification.objects.filter(_due(now))
            .exclude(mode=Mode.DIGEST)
            .exclude(pk__in=tried)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:CLAIM_SCAN]
        )
        if not candidates:
            break
        for pk in candidates:
            tried.add(pk)
            # Claimed at the clock of this claim, not of the run's start: a claim stamped with the start of a run
            # longer than the lease would look expired to another worker while this one is still sending it.
            row = notification_claim(pk=pk, now=now + timedelta(seconds=time.monotonic() - started))
            if row is None:
                continue
            counts[notification_send(row=row, now=now)] += 1
            handled += 1
            if handled >= MAX_PER_RUN or time.monotonic() - started >= budget:
                break
    return counts


def _abandoned_fail(now: datetime) -> int:
    """Rows whose last allowed attempt was claimed by a worker that never came back: failed, outcome unknown."""
    lease_cutoff = now - timedelta(seconds=settings.NOTIFY_CLAIM_LEASE_SECONDS)
    return Notification.objects.filter(
        status=Status.SENDING, claimed_at__lt=lease_cutoff, attempts__gte=settings.NOTIFY_MAX_ATTEMPTS
    ).update(status=Status.FAILED, error="the worker sending the last attempt stopped; whether it was sent is unknown")


# --- digests ----------------------------------------------------------------------------------------------


def _bucket(now: datetime) -> str:
    seconds = max(1, round(settings.NOTIFY_DIGEST_MINUTES * 60))
    start = int(now.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(start, tz=now.tzinfo or timezone.get_current_timezone()).strftime("%Y%m%dT%H%M%S")


def digest_subject(recipient: str, now: datetime) -> str:
    who = recipient if len(recipient) <= 200 else hashlib.sha256(recipient.encode()).hexdigest()[:32]
    return f"{DIGEST_PREFIX}{who}:{_bucket(now)}"


def digests_build(*, now: datetime) -> tuple[int, int]:
    """One digest row per recipient, channel and kind that has pending digest rows and no digest of that kind within
    NOTIFY_DIGEST_MINUTES (a digest lists one kind); returns (digests created, items attached)."""
    pending = list(
        Notification.objects.filter(mode=Mode.DIGEST, status=Status.PENDING, digest__isnull=True)
        .order_by("created_at", "pk")
        .only("pk", "kind", "recipient", "channel", "user_id", "context", "created_at")
    )
    if not pending:
        return 0, 0
    groups: dict[tuple[str, str, str], list[Notification]] = {}
    for row in pending:
        groups.setdefault((row.recipient, row.channel, row.kind), []).append(row)
    since = now - timedelta(minutes=settings.NOTIFY_DIGEST_MINUTES)
    last = {
        (r["recipient"], r["channel"], r["kind"]): r["last"]
        for r in Notification.objects.filter(subject__startswith=DIGEST_PREFIX, recipient__in={k[0] for k in groups})
        .values("recipient", "channel", "kind")
        .annotate(last=Max("created_at"))
        .order_by()
    }
    made = attached = 0
    for (recipient, channel, kind), rows in groups.items():
        if last.get((recipient, channel, kind)) is not None and last[(recipient, channel, kind)] > since:
            continue
        due, stale = [], []
        off = _turned_off(rows)
        for row in rows:
            (stale if _skip_reason(row, now, off) else due).append(row.pk)
        if stale:
            Notification.objects.filter(pk__in=stale, status=Status.PENDING).update(
                status=Status.SKIPPED, error="no longer due before its digest was sent"
            )
        if not due:
            continue
        first = rows[0]
        subject = digest_subject(recipient, now)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    digest = Notification.objects.create(
                        kind=kind,
                        subject=subject,
                        recipient=recipient,
                        channel=channel,
                        dedupe_key=dedupe_key(kind, subject, recipient, channel),
                        user_id=first.user_id,
                        mode=Mode.IMMEDIATE,
                        context={"digest": True, "items": len(due)},
                        created_at=now,
                        next_attempt_at=now,
                    )
            except IntegrityError:
                continue  # another worker built this digest
            count = Notification.objects.filter(
                pk__in=due, status=Status.PENDING, mode=Mode.DIGEST, digest__isnull=True
            ).update(status=Status.DIGESTED, digest=digest)
            if not count:
                digest.status, digest.error = Status.SKIPPED, "its items were taken by another digest"
                digest.save(update_fields=["status", "error"])
                continue
        made += 1
        attached += count
    return made, attached
