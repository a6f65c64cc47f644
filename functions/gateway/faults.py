"""Faults on demand, for tests: make the gateway throttle like Lambda does.

`POST /_gateway/faults` with `{"throttle": N, "operation": "ListDurableExecutionsByFunction" | "*",
"retryAfterSeconds": 1}` makes the next N matching requests answer 429 `TooManyRequestsException`
(AWS's shape: `Retry-After` header, `Reason`, `retryAfterSeconds`). `"*"` matches every
console-facing durable API and Invoke, never the SDK's own checkpoint/state calls.

Network faults after the work is done, as a flaky network does them: `{"after": "delay" | "drop" | "error",
"operation": "SendDurableExecutionCallbackSuccess", "count": 1, "delaySeconds": 10}` lets the next `count`
matching requests reach the emulator (the callback is delivered, the checkpoint written) and then
- `delay`: holds the response `delaySeconds` (longer than the client's read timeout: the client gives up);
- `drop`: closes the connection without answering (the client sees a reset or closed connection);
- `error`: answers 500 `ServiceException` instead of the real answer.

`GET /_gateway/faults` shows what is armed; `DELETE /_gateway/faults` disarms everything.
"""

from __future__ import annotations

import threading

from functions.gateway.errors import GatewayError, invalid

SDK_OPERATIONS = {"CheckpointDurableExecution", "GetDurableExecutionState", "HandlerInvoke"}
MAX_ARMED = 100_000
AFTER_FAULTS = ("delay", "drop", "error")
MAX_DELAY_SECONDS = 300


class Faults:
    def __init__(self):
        self._armed: dict[str, dict] = {}
        self._lock = threading.Lock()

    def arm(self, body: dict) -> dict:
        if "after" in body:
            return self._arm_after(body)
        count = body.get("throttle")
        operation = body.get("operation", "*")
        retry_after = body.get("retryAfterSeconds", 1)
        if not isinstance(count, int) or not 0 <= count <= MAX_ARMED:
            raise invalid(f"throttle must be an integer 0..{MAX_ARMED}")
        if not isinstance(operation, str) or not isinstance(retry_after, int | float) or retry_after < 0:
            raise invalid("operation must be a string, retryAfterSeconds a number >= 0")
        with self._lock:
            if count:
                self._armed[operation] = {"remaining": count, "retryAfterSeconds": retry_after}
            else:
                self._armed.pop(operation, None)
            return self.snapshot()

    def _arm_after(self, body: dict) -> dict:
        kind, operation = body.get("after"), body.get("operation")
        count, delay = body.get("count", 1), body.get("delaySeconds", 10)
        if kind not in AFTER_FAULTS:
            raise invalid(f"after must be one of {', '.join(AFTER_FAULTS)}")
        if not isinstance(operation, str) or not operation or operation == "*":
            raise invalid("operation must name one operation, e.g. SendDurableExecutionCallbackSuccess")
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_ARMED:
            raise invalid(f"count must be an integer 0..{MAX_ARMED}")
        if not isinstance(delay, int | float) or isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY_SECONDS:
            raise invalid(f"delaySeconds must be a number 0..{MAX_DELAY_SECONDS}")
        with self._lock:
            key = f"after:{operation}"
            if count:
                self._armed[key] = {"after": kind, "remaining": count, "delaySeconds": delay}
            else:
                self._armed.pop(key, None)
            return self.snapshot()

    def take_after(self, operation: str) -> dict | None:
        """The network fault armed for `operation`'s response, consumed (None when none is armed)."""
        if not operation:
            return None
        with self._lock:
            key = f"after:{operation}"
            fault = self._armed.get(key)
            if fault is None:
                return None
            fault["remaining"] -= 1
            if fault["remaining"] <= 0:
                del self._armed[key]
            return dict(fault)

    def clear(self) -> dict:
        with self._lock:
            self._armed.clear()
            return {}

    def snapshot(self) -> dict:
        return {name: dict(value) for name, value in self._armed.items()}

    def check(self, operation: str) -> None:
        """Raise a throttling error if a fault is armed for `operation`."""
        with self._lock:
            for key in (operation, "*"):
                fault = self._armed.get(key)
                if fault is None or "after" in fault or (key == "*" and operation in SDK_OPERATIONS):
                    continue
                fault["remaining"] -= 1
                if fault["remaining"] <= 0:
                    del self._armed[key]
                retry_after = fault["retryAfterSeconds"]
                error = GatewayError(
                    "TooManyRequestsException",
                    "Rate exceeded",
                    429,
                    {"Retry-After": f"{retry_after:g}"},
                )
                error.extra = {"Reason": "CallerRateLimitExceeded", "retryAfterSeconds": f"{retry_after:g}"}
                raise error
