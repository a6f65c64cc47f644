"""The audit of approval decisions: every attempt, whatever its outcome.

Append-only, with one exception: a row is written `sending` before the callback is sent, and completed once
(`decision_complete`: sending -> its final outcome, a conditional UPDATE that only a `sending` row accepts).
A row left `sending` (a worker recycled mid-request, a database blip after the send) is completed by the
reconciler from the order, the claim token (`decision_id`) and the execution history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class DecisionKind(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class Outcome(models.TextChoices):
    """What became of one decision attempt."""

    SENDING = "sending", "Sending"  # recorded before the callback is sent; completed after (or by the reconciler)
    SUCCEEDED = "succeeded", "Succeeded"  # the callback was sent; the execution resumes with this decision
    ALREADY_DECIDED = "already_decided", "Already decided"  # another decision won the claim first
    CLOSED = "closed", "Window closed"  # the callback was no longer open (window over or answered elsewhere)
    FAILED = "failed", "Failed"  # the callback could not be sent (transient errors); the order went back to pending
    FORBIDDEN = "forbidden", "Forbidden"  # four-eyes: the requester tried to decide their own order
    RELEASED = "released", "Claim released"  # a crashed claim was found with the callback still open and given back
    RECOVERED = "recovered", "Claim recovered"  # a crashed claim whose callback had been delivered; order finalised


class Decision(models.Model):
    order_id = models.CharField(max_length=128, db_index=True)
    execution_arn = models.CharField(max_length=2048, blank=True, default="")
    decision = models.CharField(max_length=16, choices=DecisionKind.choices)
    comment = models.TextField(blank=True, default="", help_text="The approval comment or the rejection reason.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150, db_index=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices, db_index=True)
    error = models.TextField(blank=True, default="")
    # The order as it was when decided (for the audit list and the time-to-decision chart).
    customer_name = models.CharField(max_length=256, blank=True, default="")
    amount = models.DecimalField(max_digits=22, decimal_places=2, null=True, blank=True)
    requested_by = models.CharField(max_length=256, blank=True, default="")
    order_created_at = models.DateTimeField(null=True, blank=True)
    approval_deadline = models.DateTimeField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True, default="")
    # The claim token, sent in the callback result as `decisionId`: the history proves whose decision was delivered.
    decision_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["username", "-created_at"], name="decision_user_created_idx"),
            models.Index(fields=["outcome", "-created_at"], name="decision_outcome_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.decision} {self.order_id} ({self.outcome})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("Decision rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Decision rows are append-only")

    def complete(self, *, outcome: str, error: str = "") -> bool:
        """sending -> `outcome`, once (False when the row was already completed, e.g. by the reconciler)."""
        now = timezone.now()
        done = Decision.objects.filter(pk=self.pk, outcome=Outcome.SENDING).update(
            outcome=outcome, error=error, completed_at=now
        )
        if done:
            self.outcome, self.error, self.completed_at = outcome, error, now
        return bool(done)

    @property
    def delivered(self) -> bool:
        """The decision reached the workflow."""
        return self.outcome == Outcome.SUCCEEDED

    @property
    def time_to_decision(self):
        if self.order_created_at is None:
            return None
        return self.created_at - self.order_created_at


class FormerIdentity(models.Model):
    """A username or e-mail a user had before (folded): four-eyes still matches orders requested under it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="former_identity_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key}"
