"""The Django copy of the durable executions the poller keeps in sync.

Pages read only these tables; they never call AWS. Event types, subtypes and
statuses are open sets: unknown values are stored as they come.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from executions.statuses import TERMINAL_STATUSES, ActionKind, ActionOutcome, ExecutionStatus, PushSettlement

__all__ = [
    "TERMINAL_STATUSES",
    "EventBridgeEvent",
    "Execution",
    "HistoryEvent",
    "Invocation",
    "MonitoredFunction",
    "Operation",
    "OperatorAction",
    "PushedOperation",
]


class MonitoredFunction(models.Model):
    """A durable function whose executions the poller lists. Seeded from DURABLE_FUNCTIONS."""

    name = models.CharField(max_length=170)
    qualifier = models.CharField(max_length=128, blank=True, default="")
    enabled = models.BooleanField(default=True)
    # Sync state
    list_watermark = models.DateTimeField(
        null=True, blank=True, help_text="Newest execution start time seen by the lister."
    )
    last_sync_started_at = models.DateTimeField(null=True, blank=True)
    last_sync_succeeded_at = models.DateTimeField(null=True, blank=True)
    last_sync_error = models.TextField(blank=True, default="")
    last_sync_error_at = models.DateTimeField(null=True, blank=True)
    last_sync_stats = models.JSONField(
        null=True, blank=True, help_text="The last cycle's counters: listed, history_fetches, events_added, api_calls."
    )
    listed_at = models.DateTimeField(null=True, blank=True, help_text="Last successful listing of its executions.")
    eventbridge_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Last EventBridge status event received for one of its executions (then it is listed less often).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "qualifier"], name="uniq_function_qualifier")]
        ordering = ["name", "qualifier"]

    def __str__(self) -> str:
        return f"{self.name}:{self.qualifier}" if self.qualifier else self.name


class Execution(models.Model):
    """A durable execution as the poller last saw it.

    `activity` (None when the execution has ended) says what it is doing now. Shapes (times are ISO 8601 UTC):
      {"kind": "callback", "name", "operation_id", "since", "deadline": ISO|None, "heartbeat_timeout": s|None}
      {"kind": "wait", "name", "operation_id", "since", "until"}
      {"kind": "retry", "name", "operation_id", "attempt": n, "next_attempt_at": ISO|None, "error": str}
      {"kind": "step", "name", "operation_id", "since"}
      {"kind": "invoke", "name", "operation_id", "since", "function": str}
      {"kind": "context", "name", "operation_id", "since"}  (an open context with nothing open inside it yet)
      {"kind": "running", "since"}  (between operations: nothing open)
      {"kind": "paused", "since", "reason"}  (PAUSING or PAUSED: from PauseDetails or the ExecutionPaused event)
    Every shape also carries "open_operations": the number of open operations (parallel branches...).

    `attention_reasons` is a list of {"code", "message", "operation_id"?}; codes are stable:
      callback_overdue, callback_sla, wait_overdue, no_progress, step_retries, invocation_failed, timed_out, paused.
    """

    arn = models.CharField(max_length=2048, unique=True)
    name = models.CharField(max_length=256, blank=True, default="")
    function = models.ForeignKey(
        MonitoredFunction, null=True, blank=True, on_delete=models.SET_NULL, related_name="executions"
    )
    function_name = models.CharField(max_length=170, blank=True, default="", db_index=True)
    function_arn = models.CharField(max_length=2048, blank=True, default="")
    version = models.CharField(max_length=128, blank=True, default="")
    status = models.CharField(max_length=32, db_index=True)  # open set
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.BigIntegerField(null=True, blank=True, help_text="Set once the execution has ended.")

    input_raw = models.TextField(blank=True, default="")
    input = models.JSONField(null=True, blank=True)
    result_raw = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    error_type = models.CharField(max_length=512, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    error_data = models.TextField(blank=True, default="")
    error_stack = models.JSONField(null=True, blank=True)

    # History position and completeness
    last_event_id = models.IntegerField(default=0, help_text="Highest EventId stored.")
    history_marker = models.TextField(blank=True, default="", help_text="NextMarker to continue the history from.")
    history_marker_at = models.DateTimeField(null=True, blank=True)
    history_complete = models.BooleanField(default=False)
    last_event_at = models.DateTimeField(null=True, blank=True, help_text="Timestamp of the newest event.")
    last_change_seen_at = models.DateTimeField(null=True, blank=True)
    history_synced_at = models.DateTimeField(null=True, blank=True)

    # Poll scheduling (priority, not round-robin)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    poll_backoff_seconds = models.IntegerField(default=0)
    poll_priority = models.SmallIntegerField(default=0, help_text="Lower polls first when the budget is short.")
    poll_reason = models.CharField(max_length=32, blank=True, default="")
    derived_event_id = models.IntegerField(default=0, help_text="Events up to this id are reflected in operations.")
    history_resets = models.IntegerField(default=0, help_text="Times the history was re-read from the start.")
    sync_failures = models.IntegerField(default=0, help_text="History syncs failed in a row (exponential backoff).")
    sync_error = models.TextField(blank=True, default="", help_text="Why the last history sync failed.")
    sync_error_at = models.DateTimeField(null=True, blank=True)
    execution_timeout_seconds = models.IntegerField(null=True, blank=True)
    imported = models.BooleanField(default=False, help_text="Loaded with import_history; never polled.")
    # From GetDurableExecution (read once, and on every sync while pausing or paused)
    durable_config = models.JSONField(
        null=True, blank=True, help_text="DurableConfig: ExecutionTimeout (s), RetentionPeriodInDays, KMSKeyArn."
    )
    expected_timeout_at = models.DateTimeField(
        null=True, blank=True, help_text="ExpectedExecutionTimeoutTimestamp (includes time paused)."
    )
    pause_details = models.JSONField(
        null=True, blank=True, help_text="PauseDetails while pausing or paused: PauseRequestTimestamp, Reason, ..."
    )
    described_at = models.DateTimeField(null=True, blank=True, help_text="Last GetDurableExecution.")
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted from the console (DeleteDurableExecution); only this row is kept."
    )
    attention_check_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When a stuck/overdue threshold is next crossed."
    )
    # Push, then poll (executions/push/): what the function's push plugin and EventBridge reported.
    pushed_at = models.DateTimeField(
        null=True, blank=True, help_text="Last report of the push plugin received (None: it never pushed)."
    )
    pushed_status = models.CharField(
        max_length=32, blank=True, default="", help_text="A status reported by a push that the history lacks yet."
    )
    pushed_status_at = models.DateTimeField(null=True, blank=True, help_text="When pushed_status was received.")
    eventbridge_at = models.DateTimeField(
        null=True, blank=True, help_text="Last EventBridge status event received for it."
    )

    # What it is doing now and why it needs attention (computed at sync time)
    activity = models.JSONField(null=True, blank=True)
    attention_reasons = models.JSONField(default=list, blank=True)
    needs_attention = models.BooleanField(default=False, db_index=True)
    has_failures = models.BooleanField(default=False, db_index=True)

    # The order an order-approval execution is about (settings.ORDER_APPROVAL_FUNCTION only; empty for others), from
    # its create_order step's result, and the business outcome from its result or error (executions/order_fields.py).
    order_id = models.CharField(max_length=128, blank=True, default="")
    customer_name = models.CharField(max_length=256, blank=True, default="")
    order_outcome = models.CharField(max_length=16, blank=True, default="")  # OrderOutcome, an open set

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # varchar_pattern_ops: PostgreSQL uses it for = and for the prefix LIKE of short order ids.
            models.Index(fields=["order_id"], name="exec_order_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["-started_at", "-id"], name="exec_started_idx"),
            models.Index(fields=["status", "-started_at"], name="exec_status_started_idx"),
            models.Index(fields=["function_name", "-started_at"], name="exec_function_started_idx"),
            models.Index(fields=["needs_attention", "-started_at"], name="exec_attention_started_idx"),
            models.Index(fields=["-duration_ms", "-id"], name="exec_duration_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.arn

    @property
    def is_terminal(self) -> bool:
        return ExecutionStatus.is_terminal(self.status)


class HistoryEvent(models.Model):
    """One history event, stored exactly once per (execution, EventId)."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="events")
    event_id = models.IntegerField()
    event_type = models.CharField(max_length=64)  # open set
    sub_type = models.CharField(max_length=64, blank=True, default="")  # open set
    operation_id = models.CharField(max_length=256, blank=True, default="")
    parent_id = models.CharField(max_length=256, blank=True, default="")
    name = models.CharField(max_length=256, blank=True, default="")
    timestamp = models.DateTimeField(null=True, blank=True)
    details = models.JSONField(null=True, blank=True, help_text="The event's *Details structure, as returned.")
    raw = models.JSONField(help_text="The whole event as the API returned it (timestamps as ISO strings).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["execution", "event_id"], name="uniq_event_per_execution")]
        indexes = [models.Index(fields=["execution", "event_type"], name="event_type_idx")]
        ordering = ["execution", "event_id"]

    def __str__(self) -> str:
        return f"#{self.event_id} {self.event_type} {self.name}".strip()


class Operation(models.Model):
    """One durable operation, derived from the events that share its operation id."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="operations")
    operation_id = models.CharField(max_length=256)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    parent_operation_id = models.CharField(max_length=256, blank=True, default="")
    op_type = models.CharField(max_length=32)  # execution, step, wait, callback, context, chained_invoke, or unknown
    sub_type = models.CharField(max_length=64, blank=True, default="")
    name = models.CharField(max_length=256, blank=True, default="")
    status = models.CharField(max_length=32, blank=True, default="")  # open set
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    attempts = models.IntegerField(default=0)
    attempt_history = models.JSONField(
        default=list, blank=True, help_text="[{attempt, started, ended, error, next_delay_seconds}]"
    )
    # Secret: used only server-side to answer callbacks; never rendered.
    callback_id = models.TextField(blank=True, default="")
    callback_timeout_seconds = models.IntegerField(null=True, blank=True)
    heartbeat_timeout_seconds = models.IntegerField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    wait_seconds = models.IntegerField(null=True, blank=True)
    wait_scheduled_end = models.DateTimeField(null=True, blank=True)
    error_type = models.CharField(max_length=512, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    error_data = models.TextField(blank=True, default="")
    extra = models.JSONField(
        default=dict, blank=True, help_text="Kind-specific facts: chained invoke function and child ARN, ..."
    )
    result_preview = models.TextField(blank=True, default="")
    result_truncated = models.BooleanField(default=False)
    result_size = models.IntegerField(null=True, blank=True)
    first_event_id = models.IntegerField(default=0)
    last_event_id = models.IntegerField(default=0)
    depth = models.IntegerField(default=0)
    # The tree, precomputed at sync time (executions/sync/tree.py) so a page reads a bounded number of rows.
    child_count = models.IntegerField(default=0)
    descendant_count = models.IntegerField(default=0)
    attention_rank = models.SmallIntegerField(default=3, help_text="0 failed, 1 retrying, 2 running, 3 done.")
    timeline_visible = models.BooleanField(default=True, help_text="Drawn on the timeline at first load.")
    summarized = models.BooleanField(default=False, help_text="A group drawn as one summary lane.")
    summary = models.JSONField(
        null=True, blank=True, help_text="A group's children: counts, span, durations, what needs attention."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["execution", "operation_id"], name="uniq_operation")]
        indexes = [
            models.Index(fields=["execution", "first_event_id"], name="operation_order_idx"),
            models.Index(fields=["execution", "timeline_visible", "first_event_id"], name="operation_visible_idx"),
            models.Index(fields=["parent", "attention_rank", "first_event_id"], name="operation_children_idx"),
            models.Index(fields=["execution", "depth", "attention_rank", "first_event_id"], name="operation_level_idx"),
        ]
        ordering = ["execution", "first_event_id"]

    def __str__(self) -> str:
        return f"{self.op_type} {self.name or self.operation_id}"


class Invocation(models.Model):
    """One Lambda invocation of the replay cycle (an InvocationCompleted event)."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="invocations")
    event_id = models.IntegerField()
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True, default="")
    error_type = models.CharField(max_length=512, blank=True, default="")
    error_message = models.TextField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["execution", "event_id"], name="uniq_invocation")]
        ordering = ["execution", "event_id"]

    def __str__(self) -> str:
        return f"invocation {self.request_id or self.event_id}"


class PushedOperation(models.Model):
    """One operation's newest state as the push plugin reported it: the highest version per (execution, operation).

    Shown at once (an overlay of the history's Operation, marked "reported, awaiting history") until the history
    shows the same state (`settled_at`, `settled_by`): the history stays the source of truth. Never a payload or a
    callback id: only sizes, names, times, statuses and error texts.
    """

    Settlement = PushSettlement

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="pushed_operations")
    operation_id = models.CharField(max_length=256)
    parent_operation_id = models.CharField(max_length=256, blank=True, default="")
    name = models.CharField(max_length=256, blank=True, default="")
    op_type = models.CharField(max_length=32)  # as Operation.op_type: step, wait, callback, context, ... (open set)
    sub_type = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=32)  # open set
    attempt = models.IntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    error_type = models.CharField(max_length=512, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    result_size = models.IntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True, default="")
    hook = models.CharField(max_length=32, blank=True, default="")
    version_attempt = models.IntegerField(default=0)
    version_rank = models.SmallIntegerField(default=0)
    observed_at = models.DateTimeField(null=True, blank=True, help_text="When the plugin's hook ran.")
    received_at = models.DateTimeField(help_text="When the console stored this version.")
    settled_at = models.DateTimeField(
        null=True, blank=True, help_text="When the history showed this state (None: reported, awaiting history)."
    )
    settled_by = models.CharField(max_length=16, blank=True, default="", choices=PushSettlement.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["execution", "operation_id"], name="uniq_pushed_operation"),
        ]
        indexes = [models.Index(fields=["execution", "settled_at"], name="pushed_unsettled_idx")]

    def __str__(self) -> str:
        return f"pushed {self.op_type} {self.name or self.operation_id} {self.status}"


class EventBridgeEvent(models.Model):
    """The id of an EventBridge event already applied: a redelivery (EventBridge retries for up to 24 h) is a
    duplicate. Rows older than two days are pruned. Only the id, ARN, status and times are kept."""

    event_id = models.CharField(max_length=256, unique=True)
    execution_arn = models.CharField(max_length=2048, blank=True, default="")
    status = models.CharField(max_length=32, blank=True, default="")
    event_time = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"EventBridge {self.event_id} {self.status}"


class OperatorAction(models.Model):
    """Append-only audit of admin actions: who, what, target, reason, outcome, error."""

    Action = ActionKind
    Outcome = ActionOutcome

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=32, choices=ActionKind.choices)
    execution = models.ForeignKey(Execution, null=True, on_delete=models.SET_NULL, related_name="actions")
    execution_arn = models.CharField(max_length=2048)
    operation_id = models.CharField(max_length=256, blank=True, default="")
    operation_name = models.CharField(max_length=256, blank=True, default="")
    reason = models.TextField()
    outcome = models.CharField(max_length=32, choices=ActionOutcome.choices)
    error = models.TextField(blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.outcome}"
