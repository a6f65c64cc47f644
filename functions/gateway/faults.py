"""Faults on demand, for tests: make the gateway throttle like Lambda does.

`POST /_gateway/faults` with `{"throttle": N, "operation": "ListDurableExecutionsByFunction" | "*",
"retryAfterSeconds": 1}` makes the next N matching requests answer 429 `TooManyRequestsException`
(AWS's shape: `Retry-After` header, `Reason`, `retryAfterSeconds`). `"*"` matches every
console-facing durable API and Invoke, never the SDK's own checkpoint/state calls.
`GET /_gateway/faults` shows what is armed; `DELETE /_gateway/faults` disarms everything.
"""

from __future__ import annotations

import threading

from functions.gateway.errors import GatewayError, invalid

SDK_OPERATIONS = {"CheckpointDurableExecution", "GetDurableExecutionState", "HandlerInvoke"}
MAX_ARMED = 100_000


class Faults:
    def __init__(self):
        self._armed: dict[str, dict] = {}
        self._lock = threading.Lock()

    def arm(self, body: dict) -> dict:
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
                if fault is None or (key == "*" and operation in SDK_OPERATIONS):
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
