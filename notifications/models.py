"""Notifications: one row per (kind, subject, recipient, channel), written before it is sent.

The row's `dedupe_key` is unique, so a notification exists once whatever runs the scheduler (two beat processes,
a retried task, several workers): creating it is an INSERT that loses quietly to an existing row. Sending claims
the row (a conditional UPDATE pending -> sending), sends, and completes it (sent, or pending again with a later
`next_attempt_at`, or failed after NOTIFY_MAX_ATTEMPTS). A row left `sending` by a killed worker is claimable
again after its lease.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Kind(models.TextChoices):
    ORDER_PENDING = "order_pending", "New pending order"
    ORDER_DIGEST = "order_digest", "New pending orders (digest)"
    ORDER_REMINDER = "order_reminder", "Reminder: order still pending"
    ORDER_ESCALATION = "order_escalation", "Escalation: approval window closing"
    ORDER_OUTCOME = "order_outcome", "Order outcome (to the requester)"
    EXECUTION_ATTENTION = "execution_attention", "Execution needs attention"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"  # written, not sent yet (or waiting for its next attempt)
    SENDING = "sending", "Sending"  # claimed by one worker
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # NOTIFY_MAX_ATTEMPTS used up
    DIGESTED = "digested", "In a digest"  # delivered inside a digest notification (`digest`)
    SKIPPED = "skipped", "Skipped"  # the recipient turned this kind off, or the order was decided before sending


class Mode(models.TextChoices):
    IMMEDIATE = "immediate", "Immediately"
    DIGEST = "digest", "Digest"


class Notification(models.Model):
    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject = models.CharField(
        max_length=300, help_text="What it is about: an order id, an execution's ARN and reason."
    )
    recipient = models.CharField(max_length=2048, help_text="An email address, or a webhook URL.")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    dedupe_key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.IMMEDIATE)
    context = models.JSONField(default=dict, help_text="What the message says (no callback id, no secret).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="items")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["recipient", "kind", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} -> {self.recipient} ({self.channel}, {self.status})"


class Preference(models.Model):
    """One user's choice for one kind on one channel; a missing row means the role's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    enabled = models.BooleanField(default=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.IMMEDIATE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "channel"], name="one_preference_per_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}/{self.channel}: {'on' if self.enabled else 'off'} ({self.mode})"


class TrackedOrder(models.Model):
    """An order seen pending with its callback: announced, reminded, escalated, then told its outcome once."""

    order_id = models.CharField(max_length=128, unique=True)
    requested_by = models.CharField(max_length=320, blank=True, default="")
    window_start = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    announced_at = models.DateTimeField(null=True, blank=True)
    open = models.BooleanField(default=True, db_index=True)  # still pending (as of the last check)
    outcome = models.CharField(max_length=32, blank=True, default="")
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"order {self.order_id} ({'open' if self.open else self.outcome or 'closed'})"
