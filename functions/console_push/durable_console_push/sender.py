"""The one background thread per process that posts queued events to the console.

Hooks only enqueue (a lock and a deque append), so a hook never waits for the network. The thread gathers what
is queued into batches, splits a batch into bodies of at most 1 MB, and posts each with urllib (no dependency
to ship in the function). A failed post is retried once or twice within the flush bound and then dropped: the
console's history sync and the next invocation's snapshot catch up, so nothing here has to be reliable.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections import deque
from typing import Any

from . import events as wire
from .logs import warn

MAX_BODY_BYTES = 1_000_000
MAX_BATCH_EVENTS = 1000
DEFAULT_QUEUE_SIZE = 10_000
RETRY_DELAYS_SECONDS = (0.05, 0.25)
LINGER_SECONDS = 0.05
USER_AGENT = "durable-console-push/1"


def encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode("utf-8")


def pack(
    events: list[dict[str, Any]], *, sent_at: str, limit: int = MAX_BODY_BYTES
) -> tuple[list[tuple[bytes, int]], int]:
    """Split events, in order, into request bodies of at most `limit` bytes each.

    Returns the bodies with how many events each holds, and the number of events left out because one alone
    would not fit (not expected: events carry no payload and error messages are truncated).
    """
    prefix = b'{"schema":' + encode(wire.SCHEMA) + b',"sent_at":' + encode(sent_at) + b',"events":['
    suffix = b"]}"
    empty = len(prefix) + len(suffix)
    bodies: list[tuple[bytes, int]] = []
    current: list[bytes] = []
    size = empty
    oversized = 0
    for event in events:
        encoded = encode(event)
        if empty + len(encoded) > limit:
            oversized += 1
            continue
        if current and size + 1 + len(encoded) > limit:
            bodies.append((prefix + b",".join(current) + suffix, len(current)))
            current, size = [], empty
        size += len(encoded) + (1 if current else 0)
        current.append(encoded)
    if current:
        bodies.append((prefix + b",".join(current) + suffix, len(current)))
    return bodies, oversized


def _retryable(error: Exception) -> bool:
    """A refused, reset or timed-out connection and a 5xx or 429 may pass on a retry; another 4xx will not."""
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500 or error.code == 429
    return isinstance(error, OSError | http.client.HTTPException)


class Sender:
    """A bounded queue and the thread that drains it; shared by every invocation of the process."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        flush_seconds: float,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        timeout_seconds: float | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.flush_seconds = flush_seconds
        self.queue_size = max(1, queue_size)
        # One attempt fits the flush bound; a hanging console costs the thread, never the invocation.
        self.timeout_seconds = timeout_seconds if timeout_seconds is not None else min(max(flush_seconds, 0.2), 5.0)
        self.sent = 0
        self.dropped = 0
        self.failed = 0
        self._reset_state()
        # A forked child inherits the deque and possibly a held lock, but not the thread: start over.
        ref = weakref.ref(self)

        def after_fork_in_child() -> None:
            sender = ref()
            if sender is not None:
                sender._reset_state()

        os.register_at_fork(after_in_child=after_fork_in_child)

    def _reset_state(self) -> None:
        self._lock = threading.Lock()
        self._has_work = threading.Condition(self._lock)
        self._progress = threading.Condition(self._lock)
        self._queue: deque[tuple[int, dict[str, Any]]] = deque()
        self._last_seq = 0  # the sequence number of the newest event enqueued
        self._done_seq = 0  # every event up to this one has been sent, dropped or given up on
        self._flushing = 0
        self._closed = False
        self._thread: threading.Thread | None = None

    # The hooks' side.

    def enqueue(self, event: dict[str, Any]) -> int:
        """Queue one event for the thread; return its sequence number for `flush`. Never blocks on I/O."""
        with self._lock:
            if self._closed:
                return self._last_seq
            self._last_seq += 1
            if len(self._queue) >= self.queue_size:
                self._queue.popleft()
                self.dropped += 1
                warn("queue_full", "durable-console-push: queue full, oldest reports dropped (%d so far)", self.dropped)
            self._queue.append((self._last_seq, event))
            self._ensure_thread()
            if len(self._queue) == 1 or len(self._queue) >= MAX_BATCH_EVENTS:
                self._has_work.notify()
            return self._last_seq

    def flush(self, timeout: float | None = None, *, through: int | None = None) -> bool:
        """Wait at most `timeout` seconds (default: the flush bound) until the events up to `through`
        (default: all enqueued so far) are sent or given up on. Returns whether they were."""
        deadline = time.monotonic() + (self.flush_seconds if timeout is None else timeout)
        with self._lock:
            target = self._last_seq if through is None else through
            if self._done_seq >= target:
                return True
            self._ensure_thread()
            self._flushing += 1
            self._has_work.notify()
            try:
                while self._done_seq < target:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._progress.wait(remaining)
                return True
            finally:
                self._flushing -= 1

    def close(self, timeout: float = 1.0) -> None:
        """Stop the thread once the queue is empty or `timeout` has passed (tests, reconfiguration)."""
        with self._lock:
            self._closed = True
            self._has_work.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    # The thread's side.

    def _ensure_thread(self) -> None:
        """Start the thread on first use, after a fork, or if it died. Called with the lock held."""
        if self._thread is not None and self._thread.is_alive():
            return
        thread = threading.Thread(target=self._run, name="durable-console-push", daemon=True)
        try:
            thread.start()
        except RuntimeError:
            warn("thread", "durable-console-push: cannot start the sender thread; reports stay queued")
            return
        self._thread = thread

    def _run(self) -> None:
        while True:
            try:
                batch = self._next_batch()
            except Exception:
                warn("sender", "durable-console-push: sender loop failed", exc_info=True)
                time.sleep(0.1)
                continue
            if batch is None:
                return
            if not batch:  # the queue was emptied while lingering (events dropped, or the sender reset)
                continue
            try:
                self._send([event for _, event in batch])
            except Exception:
                self.failed += len(batch)
                warn("sender", "durable-console-push: sending reports failed", exc_info=True)
            with self._lock:
                self._done_seq = max(self._done_seq, batch[-1][0])
                self._progress.notify_all()

    def _next_batch(self) -> list[tuple[int, dict[str, Any]]] | None:
        with self._lock:
            while not self._queue:
                if self._closed:
                    return None
                self._has_work.wait()
            if len(self._queue) < MAX_BATCH_EVENTS and not self._flushing and not self._closed:
                # Gather a burst of hooks into one POST; a flush, a full batch or close cut this short.
                self._has_work.wait(LINGER_SECONDS)
            count = min(len(self._queue), MAX_BATCH_EVENTS)
            return [self._queue.popleft() for _ in range(count)]

    def _send(self, events: list[dict[str, Any]]) -> None:
        bodies, oversized = pack(events, sent_at=wire.now())
        if oversized:
            self.failed += oversized
            warn("oversized", "durable-console-push: %d report(s) over the body limit dropped", oversized)
        for body, count in bodies:
            if self._post_with_retries(body):
                self.sent += count
            else:
                self.failed += count

    def _post_with_retries(self, body: bytes) -> bool:
        started = time.monotonic()
        for delay in (*RETRY_DELAYS_SECONDS, None):
            try:
                self._post(body)
                return True
            except Exception as error:
                last_error = error
                if not _retryable(error) or delay is None:
                    break
                if time.monotonic() - started + delay >= self.flush_seconds:
                    break  # quick retries only, within the flush bound
                time.sleep(delay)
        warn("post", "durable-console-push: POST %s failed, reports dropped: %r", self.url, last_error)
        return False

    def _post(self, body: bytes) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only, checked by the factory
        with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310
            response.read()
