"""States as types: execution statuses, operation (and callback) statuses, admin-action kinds and outcomes.

Statuses come from AWS and are open sets: a value not listed here is stored and shown as it comes,
never rejected. That is why the model fields keep plain `CharField`s for statuses, and these types
only name the values the code reasons about (what is terminal, what is still open).
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class ExecutionStatus(StrEnum):
    """`GetDurableExecution`'s Status (botocore's ExecutionStatus enum, plus any value AWS adds later)."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    STOPPED = "STOPPED"
    # Newer, not terminal: a paused execution still completes its pending waits and callbacks.
    PAUSING = "PAUSING"
    PAUSED = "PAUSED"
    DELETING = "DELETING"

    @classmethod
    def is_terminal(cls, status: str | None) -> bool:
        """True for the four end states; False for running, pausing, paused, deleting and unknown values."""
        return status in TERMINAL_STATUSES


TERMINAL_STATUSES = (
    ExecutionStatus.SUCCEEDED,
    ExecutionStatus.FAILED,
    ExecutionStatus.TIMED_OUT,
    ExecutionStatus.STOPPED,
)
# Offered in the list filter even before the poller has seen one (other values are added as they appear).
LISTED_STATUSES = (
    ExecutionStatus.RUNNING,
    ExecutionStatus.PAUSING,
    ExecutionStatus.PAUSED,
    ExecutionStatus.DELETING,
    *TERMINAL_STATUSES,
)
PAUSED_STATUSES = (ExecutionStatus.PAUSING, ExecutionStatus.PAUSED)
# An execution that may still make progress (or whose status the API did not give).
LIVE_STATUSES = (ExecutionStatus.RUNNING, ExecutionStatus.PAUSED, ExecutionStatus.PAUSING, "")


class OperationStatus(StrEnum):
    """An operation's status (the API's OperationStatus). A callback's state is one of these too:
    STARTED while it waits for an answer, then SUCCEEDED, FAILED or TIMED_OUT."""

    STARTED = "STARTED"
    PENDING = "PENDING"  # a step waiting for its next retry
    READY = "READY"
    PAUSED = "PAUSED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    STOPPED = "STOPPED"
    CANCELLED = "CANCELLED"


OPEN_OPERATION_STATUSES = frozenset(
    {OperationStatus.STARTED, OperationStatus.PENDING, OperationStatus.READY, OperationStatus.PAUSED}
)
TERMINAL_OPERATION_STATUSES = frozenset(
    {
        OperationStatus.SUCCEEDED,
        OperationStatus.FAILED,
        OperationStatus.TIMED_OUT,
        OperationStatus.STOPPED,
        OperationStatus.CANCELLED,
    }
)
FAILED_OPERATION_STATUSES = (OperationStatus.FAILED, OperationStatus.TIMED_OUT, OperationStatus.STOPPED)
CallbackState = OperationStatus  # the same values: a callback is an operation


class PushSettlement(models.TextChoices):
    """How a pushed operation state stopped being shown as "reported, awaiting history"."""

    HISTORY = "history", "shown by the history"
    FINAL = "final", "the history is complete"  # whatever it lacks did not happen as far as storage goes
    STALE = "stale", "the history moved on without it"


class ActionKind(models.TextChoices):
    FAIL_CALLBACK = "fail_callback", "Fail callback"
    HEARTBEAT = "heartbeat", "Heartbeat"
    STOP = "stop_execution", "Stop execution"
    PAUSE = "pause_execution", "Pause execution"
    RESUME = "resume_execution", "Resume execution"
    DELETE = "delete_execution", "Delete execution"


class ActionOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", "succeeded"
    CLOSED = "closed", "closed"
    NOT_RUNNING = "not_running", "not running"
    CONFLICT = "conflict", "state does not allow it"
    FAILED = "failed", "failed"
    REJECTED = "rejected", "rejected"
    # Sent, but the answer was lost (read timeout, reset connection, 5xx): resolved later from what the service
    # shows (the re-sync of the execution), never guessed.
    UNKNOWN = "unknown", "sent, not yet confirmed"
