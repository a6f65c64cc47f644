"""Pause, resume and delete, which the emulator does not have, emulated in front of it.

- Pause: the execution's record holds a `Pause`. The status reads PAUSING while one of its
  invocations is in flight, PAUSED once that invocation reaches a checkpoint or ends (or at
  once when none is in flight), and an `ExecutionPaused` event is added then. While paused,
  every invocation the emulator sends for the execution is held (not run) until resume or
  stop; the emulator itself keeps completing waits and callbacks, as Lambda does.
- Resume: clears the pause, adds `ExecutionResumed` (if the pause had taken effect) and
  releases held invocations; resuming a PAUSING execution cancels the pause.
- Delete: terminal executions only (else ResourceConflictException); afterwards the
  execution is hidden from list, get and history (the emulator still holds its data).
"""

from __future__ import annotations

import time

from functions.gateway.errors import conflict
from functions.gateway.state import GatewayState, Pause
from functions.gateway.translate import TERMINAL

HOLD_LIMIT_SECONDS = 840  # below the emulator's Invoke read timeout (900 s + 60 s)
TOKEN_WINDOW = 15 * 60  # "If you repeat a request with the same client token ... within 15 minutes"


def pause(state: GatewayState, emulator_arn: str, status: str, body: dict, execution_op: dict) -> None:
    token = body.get("ClientToken")
    with state.lock:
        record = state.record(emulator_arn)
        current = record.pause
        if current and token and current.client_token == token and time.time() - current.requested < TOKEN_WINDOW:
            return  # the same request again: success, nothing changes
        if status in TERMINAL or status == "DELETING":
            raise conflict(f"Cannot pause a durable execution in status {status}")
        if current:
            raise conflict("The durable execution is already paused or pausing")
        timeout_paused = body.get("ExecutionTimeoutPaused")
        record.pause = Pause(
            requested=time.time(),
            reason=body.get("Reason"),
            timeout_paused=True if timeout_paused is None else bool(timeout_paused),
            client_token=token,
            execution_op=execution_op,
        )
        record.released.clear()
        if record.in_flight == 0:
            record.confirm_pause()


def resume(state: GatewayState, emulator_arn: str, status: str, body: dict, execution_op: dict) -> None:
    token = body.get("ClientToken")
    now = time.time()
    with state.lock:
        record = state.record(emulator_arn)
        if token and now - record.resume_tokens.get(token, 0) < TOKEN_WINDOW:
            return
        if record.pause is None:
            raise conflict(f"Cannot resume a durable execution in status {status}: it is not paused")
        if record.pause.event_added:
            details = {"ResumeRequestTimestamp": now}
            if body.get("Reason") is not None:
                details["Reason"] = {"Payload": body["Reason"], "Truncated": False}
            record.extra_events.append(
                {
                    "EventType": "ExecutionResumed",
                    "EventTimestamp": now,
                    **execution_op,
                    "ExecutionResumedDetails": details,
                }
            )
        record.pause = None
        if token:
            record.resume_tokens[token] = now
        record.released.set()


def release(state: GatewayState, emulator_arn: str) -> None:
    """Stop ends a pause: held invocations are let go without running."""
    with state.lock:
        record = state.peek(emulator_arn)
        if record:
            record.pause = None
            record.stopped = True
            record.released.set()


def delete(state: GatewayState, emulator_arn: str, status: str) -> float:
    if status not in TERMINAL:
        raise conflict(
            f"Cannot delete a durable execution in status {status}: it must be SUCCEEDED, FAILED, STOPPED or TIMED_OUT"
        )
    with state.lock:
        record = state.record(emulator_arn)
        record.deleted = record.deleted or time.time()
        return record.deleted


def hold_while_paused(state: GatewayState, emulator_arn: str) -> bool:
    """Block an invocation of a paused execution until resumed; False if it must not run."""
    record = state.peek(emulator_arn)
    if record is None or record.released.is_set():
        return True
    deadline = time.monotonic() + HOLD_LIMIT_SECONDS
    while not record.released.wait(timeout=1.0):
        if time.monotonic() > deadline:
            return False
    return not record.stopped
