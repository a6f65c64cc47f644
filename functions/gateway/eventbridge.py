"""The EventBridge events AWS publishes when a durable execution changes status, emitted by the gateway.

On AWS, Lambda puts a `Durable Execution Status Change` event (source `aws.lambda`) on the default
event bus when an execution starts (RUNNING) and when it ends (SUCCEEDED, FAILED, TIMED_OUT,
STOPPED); an EventBridge rule and API destination deliver it to the console. Locally the gateway
POSTs the same event, in the shape an API destination sends (the event itself as the JSON body,
the connection's `Authorization` header), to `LOCAL_EVENTBRIDGE_URL` with
`Authorization: Bearer <LOCAL_EVENTBRIDGE_TOKEN>`.

The shape follows AWS's documented example (Lambda developer guide, "Monitoring durable
functions", EventBridge events): `version` "0", a fresh `id`, `time` to the second and
`startTimestamp`/`endTimestamp` to the millisecond as ISO 8601 in UTC (`Z`), `resources` empty,
`endTimestamp` only for terminal statuses, and the AWS-shaped ARNs the gateway serves.

What the gateway observes, and so emits:
- RUNNING for every execution it starts (a plain Invoke of a durable function), and for an
  execution started elsewhere (a chained invoke inside the emulator, another gateway) when it
  first sees it (an invocation, a list or get answer) after this gateway started;
- the end status when an invocation returns SUCCEEDED or FAILED (or the handler raises), when a
  StopDurableExecution goes through it, and when a list or get answer shows an execution that
  ended after this gateway started (the emulator's own timeouts).
The status and times always come from the emulator's record (a GetDurableExecution in the
background), never from the invocation's own output. Each execution gets one RUNNING and one end
event at most, RUNNING first.

Sending never blocks or fails the gateway's work: requests only put a job on a bounded queue;
one background thread describes and sends, with short timeouts and a couple of retries. When the
receiver is down the events are lost (the console's polling repairs what it missed).
"""

from __future__ import annotations

import heapq
import http.client
import json
import logging
import queue
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from functions.gateway.arns import AWS_ARN
from functions.gateway.errors import GatewayError
from functions.gateway.translate import TERMINAL, timestamp

logger = logging.getLogger("gateway.eventbridge")

SOURCE = "aws.lambda"
DETAIL_TYPE = "Durable Execution Status Change"
RUNNING = "RUNNING"
USER_AGENT = "Amazon/EventBridge/ApiDestinations"  # what an API destination sends
QUEUE_SIZE = 1000  # jobs waiting (events to send, executions to describe); beyond that, dropped
SEND_TIMEOUT_SECONDS = 2.0
SEND_RETRIES = 2  # after the first attempt
RETRY_BACKOFF_SECONDS = (0.2, 0.5)
# When the gateway has seen an execution end (its last invocation returned, a stop went through), the
# emulator records the end a moment later: describe it again after these delays until it shows the end.
END_CHECK_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 3.0)
MAX_TRACKED = 50_000  # executions remembered (what was emitted); the oldest are forgotten first
_FUNCTION_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_.-]+(:[a-zA-Z0-9$_.-]+)?$")


_STOP = object()


# -- the event ---------------------------------------------------------------------------------
def iso_millis(seconds: float) -> str:
    """`2025-11-20T13:08:22.345Z`, as the event's start and end timestamps."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_seconds(seconds: float) -> str:
    """`2025-11-20T13:08:22Z`, as the envelope's `time`."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_event(item: dict, status: str) -> dict:
    """The EventBridge event for an execution (a GetDurableExecution answer or list item with its AWS
    ARN) entering `status`; raises ValueError when the item names no AWS-shaped execution ARN."""
    arn = item.get("DurableExecutionArn") or ""
    match = AWS_ARN.match(arn)
    if not match:
        raise ValueError(f"not an AWS durable execution ARN: {arn!r}")
    function_arn = item.get("FunctionArn") or ""
    if not _FUNCTION_ARN.match(function_arn):
        function_arn = (
            f"arn:aws:lambda:{match['region']}:{match['account']}:function:{match['function']}:{match['version']}"
        )
    started = timestamp(item.get("StartTimestamp")) or time.time()
    detail = {
        "durableExecutionArn": arn,
        "durableExecutionName": item.get("DurableExecutionName") or match["name"],
        "functionArn": function_arn,
        "status": status,
        "startTimestamp": iso_millis(started),
    }
    changed = started
    if status in TERMINAL:
        changed = timestamp(item.get("EndTimestamp")) or time.time()
        detail["endTimestamp"] = iso_millis(changed)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": match["account"],
        "time": iso_seconds(changed),
        "region": match["region"],
        "resources": [],
        "detail": detail,
    }


# -- what was emitted ----------------------------------------------------------------------------
@dataclass
class _Track:
    running: bool = False  # RUNNING emitted
    ended: str | None = None  # the end status emitted
    checked: bool = False  # a describe is queued or done (an invocation need not ask again)


@dataclass(frozen=True)
class _Check:
    emulator_arn: str
    aws_arn: str
    reason: str  # "start" | "invocation" | "end"
    attempt: int = 0
    fallback: dict | None = None  # for "start": what the gateway knows if the emulator cannot be asked


class StatusEvents:
    """Emits `Durable Execution Status Change` events to one URL; off when the URL is empty."""

    def __init__(
        self,
        url: str,
        token: str = "",
        *,
        describe: Callable[[str], dict | None],
        queue_size: int = QUEUE_SIZE,
        timeout: float = SEND_TIMEOUT_SECONDS,
        retries: int = SEND_RETRIES,
        backoff: tuple[float, ...] = RETRY_BACKOFF_SECONDS,
        end_check_delays: tuple[float, ...] = END_CHECK_DELAYS,
    ):
        self.url = (url or "").strip()
        self.enabled = bool(self.url)
        self._target = urlsplit(self.url) if self.enabled else None
        if self._target is not None and (self._target.scheme not in ("http", "https") or not self._target.hostname):
            raise ValueError(f"LOCAL_EVENTBRIDGE_URL must be an http(s) URL, got {self.url!r}")
        self._token = token or ""
        self._describe = describe  # emulator id -> GetDurableExecution answer with the AWS ARN, or None
        self._timeout = timeout
        self._retries = retries
        self._backoff = backoff or (0.0,)
        self._end_delays = end_check_delays
        self.since = time.time()  # executions that start or end from now on are this gateway's to report
        self._jobs: queue.Queue = queue.Queue(maxsize=queue_size)
        self._later: list[tuple[float, int, _Check]] = []  # checks due later (worker thread only)
        self._later_limit = queue_size
        self._sequence = 0
        self._tracks: OrderedDict[str, _Track] = OrderedDict()  # AWS ARN -> what was emitted
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._idle = threading.Condition()
        self._working_later = False  # the worker is running a check that was due later
        self.stats = {"sent": 0, "failed": 0, "dropped": 0}
        self._failing = False
        self._thread: threading.Thread | None = None
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="eventbridge-emitter", daemon=True)
            self._thread.start()

    # -- what the gateway tells it (request threads: never blocks) -------------------------------
    def started(self, emulator_arn: str, aws_arn: str, fallback: dict) -> None:
        """The gateway started this execution: RUNNING (with the emulator's start time)."""
        if self._claim_check(aws_arn, force=True):
            self._put(_Check(emulator_arn, aws_arn, "start", fallback=fallback))

    def invoked(self, emulator_arn: str, aws_arn: str) -> None:
        """An invocation of this execution: RUNNING if it is new to the gateway (started elsewhere)."""
        if self._claim_check(aws_arn, force=False):
            self._put(_Check(emulator_arn, aws_arn, "invocation"))

    def ended(self, emulator_arn: str, aws_arn: str) -> None:
        """The execution may just have ended (its last invocation returned, a stop went through)."""
        if not self.enabled:
            return
        with self._lock:
            track = self._tracks.get(aws_arn)
            if track and track.ended:
                return
        self._put(_Check(emulator_arn, aws_arn, "end"))

    def observed(self, item: dict) -> None:
        """A list item or GetDurableExecution answer (with its AWS ARN) the gateway is serving."""
        if self.enabled:
            self._emit_for(item, started_here=False)

    def snapshot(self) -> dict:
        return {"enabled": self.enabled, **self.stats, "queued": self._jobs.qsize()}

    # -- decisions (any thread) -----------------------------------------------------------------
    def _claim_check(self, aws_arn: str, *, force: bool) -> bool:
        if not self.enabled:
            return False
        with self._lock:
            track = self._tracks.get(aws_arn)
            if track is None:
                track = self._track(aws_arn)
            elif track.checked and not force:
                return False
            track.checked = True
            return True

    def _track(self, aws_arn: str) -> _Track:
        """The execution's record, created if needed (call under the lock)."""
        track = self._tracks.get(aws_arn)
        if track is None:
            track = self._tracks[aws_arn] = _Track()
            while len(self._tracks) > MAX_TRACKED:
                self._tracks.popitem(last=False)
        else:
            self._tracks.move_to_end(aws_arn)
        return track

    def _emit_for(self, item: dict, *, started_here: bool) -> str | None:
        """Emit what this execution's current record calls for; its status."""
        arn = item.get("DurableExecutionArn") or ""
        status = item.get("Status")
        if not AWS_ARN.match(arn) or not isinstance(status, str):
            return None
        try:
            started = timestamp(item.get("StartTimestamp"))
            ended = timestamp(item.get("EndTimestamp")) if item.get("EndTimestamp") is not None else None
        except (ValueError, GatewayError):  # an unreadable time: nothing to report from this record
            return status
        new = started_here or started >= self.since
        events = []
        with self._lock:
            track = self._tracks.get(arn)
            # An end is this gateway's to report if it happened since it started (without an end time: if
            # the execution is one it knows); older ends were AWS's to report at the time.
            end_is_ours = status in TERMINAL and (
                ended >= self.since if ended is not None else (new or track is not None)
            )
            if track is None and not new and not end_is_ours:
                return status  # an old execution: nothing to report, nothing to remember
            track = self._track(arn)
            if new and not track.running:
                track.running = True
                events.append(status_event(item, RUNNING))
            if end_is_ours and not track.ended:
                track.ended = status
                events.append(status_event(item, status))
            for event in events:  # in order, under the lock: RUNNING goes out before the end
                self._put(event)
        return status

    def _put(self, job) -> None:
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            self.stats["dropped"] += 1
            logger.debug("event queue full: dropped %s", type(job).__name__)

    # -- the worker thread --------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._closed.is_set():
            wait = 0.5
            if self._later:
                wait = max(0.0, min(wait, self._later[0][0] - time.monotonic()))
            try:
                job = self._jobs.get(timeout=wait)
            except queue.Empty:
                job = None
            if job is _STOP:
                self._jobs.task_done()
                break
            if job is not None:
                self._guarded(job)
                self._jobs.task_done()
            while self._later and self._later[0][0] <= time.monotonic():
                self._working_later = True
                _, _, check = heapq.heappop(self._later)
                self._guarded(check)
                self._working_later = False
            self._notify_if_idle()

    def _guarded(self, job) -> None:
        try:
            if isinstance(job, _Check):
                self._check(job)
            else:
                self._send(job)
        except Exception:  # the emitter keeps running whatever happens
            logger.exception("eventbridge emitter error")

    def _check(self, check: _Check) -> None:
        described = self._describe(check.emulator_arn)
        if described is None:
            if check.reason == "start" and check.fallback is not None:
                self._emit_for({"Status": RUNNING, **check.fallback}, started_here=True)
            return
        described = {**described, "DurableExecutionArn": check.aws_arn}
        status = self._emit_for(described, started_here=check.reason == "start")
        if check.reason == "end" and status not in TERMINAL and check.attempt < len(self._end_delays):
            if len(self._later) >= self._later_limit:
                self.stats["dropped"] += 1
                return
            self._sequence += 1
            due = time.monotonic() + self._end_delays[check.attempt]
            later = _Check(check.emulator_arn, check.aws_arn, check.reason, check.attempt + 1)
            heapq.heappush(self._later, (due, self._sequence, later))

    def _send(self, event: dict) -> None:
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        problem = ""
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(self._backoff[min(attempt - 1, len(self._backoff) - 1)])
            try:
                status = self._post(body, headers)
            except OSError as exc:
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if 200 <= status < 300:
                self.stats["sent"] += 1
                if self._failing:
                    self._failing = False
                    logger.info("events reach %s again", self.url)
                return
            problem = f"HTTP {status}"
            if status != 429 and status < 500:
                break  # the receiver refuses this event: sending it again changes nothing
        self.stats["failed"] += 1
        if not self._failing:
            self._failing = True
            logger.warning("cannot deliver events to %s (%s); they are dropped until it answers", self.url, problem)

    def _post(self, body: bytes, headers: dict) -> int:
        target = self._target
        connection_class = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(target.hostname, target.port, timeout=self._timeout)
        path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    # -- tests and shutdown -------------------------------------------------------------------------
    def _pending(self) -> bool:
        return bool(self._jobs.unfinished_tasks or self._later or self._working_later)

    def _notify_if_idle(self) -> None:
        with self._idle:
            if not self._pending():
                self._idle.notify_all()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued job (and every pending end check) is done; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(min(remaining, 0.1))
        return True

    def close(self, timeout: float = 2.0) -> None:
        self._closed.set()
        try:
            self._jobs.put_nowait(_STOP)  # wake the worker
        except queue.Full:
            pass
        if self._thread is not None:
            self._thread.join(timeout)
