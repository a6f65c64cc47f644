"""What the gateway itself remembers about executions (keyed by the emulator's id), bounded.

- callback options per (execution, operation id), read from the SDK's checkpoints, and which ended callbacks
  an invocation has already been told about (UpdatedOperationIds);
- every invocation the gateway ran for an execution (start, end, request id, error);
- pause state (requested, PAUSING/PAUSED, events) and deleted executions.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

MAX_EXECUTIONS = 20_000  # executions remembered; the oldest are forgotten first


@dataclass
class Invocation:
    request_id: str
    start: float
    end: float | None = None
    error: dict | None = None  # ErrorObject when the invocation failed


@dataclass
class Pause:
    requested: float
    reason: str | None
    timeout_paused: bool
    client_token: str | None
    confirmed: bool = False  # PAUSED (True) or still PAUSING (False)
    execution_op: dict = field(default_factory=dict)  # Id and Name of the execution operation
    event_added: bool = False


@dataclass
class ExecutionRecord:
    callbacks: dict[str, dict] = field(default_factory=dict)  # operation id -> {"Timeout": s, ...}
    callbacks_told: set[str] = field(default_factory=set)  # ended callbacks already named in UpdatedOperationIds
    invocations: list[Invocation] = field(default_factory=list)
    in_flight: int = 0
    pause: Pause | None = None
    extra_events: list[dict] = field(default_factory=list)  # ExecutionPaused / ExecutionResumed
    resume_tokens: dict[str, float] = field(default_factory=dict)
    deleted: float | None = None
    event_ids: dict[tuple, int] = field(default_factory=dict)  # an event's key -> the EventId it was served with
    event_times: dict[tuple, object] = field(default_factory=dict)  # an event's key -> its first-served EventTimestamp
    released: threading.Event = field(default_factory=threading.Event)  # set while not paused

    stopped: bool = False

    def __post_init__(self):
        self.released.set()

    def confirm_pause(self) -> None:
        """The pause takes effect: status PAUSED and an ExecutionPaused event (call under the lock)."""
        pause = self.pause
        if pause is None or pause.event_added:
            return
        pause.confirmed = pause.event_added = True
        details = {"PauseRequestTimestamp": pause.requested, "ExecutionTimeoutPaused": pause.timeout_paused}
        if pause.reason is not None:
            details["Reason"] = {"Payload": pause.reason, "Truncated": False}
        self.extra_events.append(
            {
                "EventType": "ExecutionPaused",
                "EventTimestamp": time.time(),
                **pause.execution_op,
                "ExecutionPausedDetails": details,
            }
        )
        del self.extra_events[:-1000]


class GatewayState:
    def __init__(self):
        self._records: OrderedDict[str, ExecutionRecord] = OrderedDict()
        self.lock = threading.RLock()

    def record(self, emulator_arn: str) -> ExecutionRecord:
        with self.lock:
            record = self._records.get(emulator_arn)
            if record is None:
                record = self._records[emulator_arn] = ExecutionRecord()
                while len(self._records) > MAX_EXECUTIONS:
                    self._records.popitem(last=False)
            else:
                self._records.move_to_end(emulator_arn)
            return record

    def peek(self, emulator_arn: str) -> ExecutionRecord | None:
        with self.lock:
            return self._records.get(emulator_arn)

    def is_deleted(self, emulator_arn: str) -> bool:
        record = self.peek(emulator_arn)
        return bool(record and record.deleted)

    # -- checkpoints --------------------------------------------------------------
    def checkpoint_seen(self, emulator_arn: str, updates: list) -> None:
        """Remember CallbackOptions of callbacks the SDK starts; confirm a pending pause."""
        with self.lock:
            record = self.record(emulator_arn)
            for update in updates or []:
                if not isinstance(update, dict):
                    continue
                options = update.get("CallbackOptions")
                if update.get("Type") == "CALLBACK" and update.get("Action") == "START" and isinstance(options, dict):
                    details = {}
                    if isinstance(options.get("TimeoutSeconds"), int):
                        details["Timeout"] = options["TimeoutSeconds"]
                    if isinstance(options.get("HeartbeatTimeoutSeconds"), int):
                        details["HeartbeatTimeout"] = options["HeartbeatTimeoutSeconds"]
                    record.callbacks[str(update.get("Id"))] = details
            if record.pause:
                record.confirm_pause()  # the in-flight invocation reached a checkpoint

    # -- invocations ----------------------------------------------------------------
    def invocation_started(self, emulator_arn: str, request_id: str) -> Invocation:
        with self.lock:
            record = self.record(emulator_arn)
            invocation = Invocation(request_id=request_id, start=time.time())
            record.invocations.append(invocation)
            del record.invocations[:-5000]  # more than any execution's operation limit allows
            record.in_flight += 1
            return invocation

    def invocation_ended(self, emulator_arn: str, invocation: Invocation, error: dict | None) -> None:
        with self.lock:
            record = self.record(emulator_arn)
            invocation.end = time.time()
            invocation.error = error
            record.in_flight = max(0, record.in_flight - 1)
            if record.pause and record.in_flight == 0:
                record.confirm_pause()
