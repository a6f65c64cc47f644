"""An AWS-semantics double of the Lambda durable-execution read and admin APIs, for tests.

Written from botocore's service model (`lambda`, botocore 1.44.8), not from the emulator:

- ListDurableExecutionsByFunction: newest first by default, `ReverseOrder=true` oldest first;
  `Statuses` (1..10 values), `StartedAfter`/`StartedBefore`, `DurableExecutionName`, `Qualifier`;
  `MaxItems` 0..1000 (0 or absent: 100); opaque `NextMarker` only when more results exist;
  unknown function: 404 ResourceNotFoundException.
- GetDurableExecution, GetDurableExecutionHistory (oldest first, `ReverseOrder=true` newest first,
  same markers and bounds), StopDurableExecution, PauseDurableExecution, ResumeDurableExecution,
  DeleteDurableExecution (terminal only, else 409 ResourceConflictException).
- errors in Lambda's shape (`X-Amzn-ErrorType`), InvalidParameterValueException (400) for bad values.

In memory, seedable with thousands of executions (`seed`), on a free port (`aws_double` fixture in
tests/conftest.py). Nothing runs: executions change only through `add`, `seed` and the admin calls.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

ACCOUNT = "123456789012"
STATUSES = {"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED", "DELETING", "PAUSING", "PAUSED"}
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"}


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _invalid(message: str) -> ApiError:
    return ApiError("InvalidParameterValueException", message, 400)


@dataclass
class DoubleExecution:
    arn: str
    name: str
    function: str
    status: str
    start: float
    end: float | None = None
    events: list[dict] = field(default_factory=list)
    pause: dict | None = None
    durable_config: dict | None = None  # GetDurableExecution's DurableConfig, when a test sets one
    expected_timeout: float | None = None  # ExpectedExecutionTimeoutTimestamp, when a test sets one

    def summary(self) -> dict:
        item = {
            "DurableExecutionArn": self.arn,
            "DurableExecutionName": self.name,
            "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{self.function}:$LATEST",
            "Status": self.status,
            "StartTimestamp": self.start,
        }
        if self.end is not None:
            item["EndTimestamp"] = self.end
        return item

    def event(self, event_type: str, timestamp: float, **details) -> None:
        self.events.append(
            {
                "EventType": event_type,
                "EventId": len(self.events) + 1,
                "EventTimestamp": timestamp,
                "Id": self.arn.rsplit("/", 1)[-1],
                "Name": self.name,
                **details,
            }
        )


class AwsDouble:
    def __init__(self, region: str = "us-east-1"):
        self.region = region
        self.executions: dict[str, DoubleExecution] = {}
        self.functions: set[str] = set()
        self.calls: list[str] = []  # operation names, in order
        self.pause_tokens: list[str] = []  # ClientTokens of the pauses carried out (a repeated token is not)
        self._tokens: dict[str, tuple[str, str]] = {}  # ClientToken -> (operation, ARN), for 15 min on AWS
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- seeding -----------------------------------------------------------------------------
    def add(self, function: str, name: str, status: str = "SUCCEEDED", start: float | None = None) -> str:
        start = time.time() if start is None else start
        ident = str(uuid.uuid4())
        arn = f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{function}:$LATEST/durable-execution/{name}/{ident}"
        execution = DoubleExecution(arn, name, function, status, start, None if status == "RUNNING" else start + 1)
        execution.event("ExecutionStarted", start, ExecutionStartedDetails={"Input": {"Payload": "{}"}})
        if status != "RUNNING":
            ending = {
                "SUCCEEDED": "ExecutionSucceeded",
                "FAILED": "ExecutionFailed",
                "TIMED_OUT": "ExecutionTimedOut",
                "STOPPED": "ExecutionStopped",
            }.get(status)
            if ending:
                execution.event(ending, start + 1)
        with self.lock:
            self.functions.add(function)
            self.executions[arn] = execution
        return arn

    def seed(
        self,
        function: str,
        count: int,
        *,
        start: float | None = None,
        spacing: float = 1.0,
        statuses: tuple[str, ...] = ("SUCCEEDED", "RUNNING", "FAILED"),
    ) -> list[str]:
        """`count` executions of `function`, `spacing` seconds apart (oldest first), statuses in turn."""
        first = (time.time() - count * spacing) if start is None else start
        return [
            self.add(function, f"seed-{index:05d}", statuses[index % len(statuses)], first + index * spacing)
            for index in range(count)
        ]

    # -- server ------------------------------------------------------------------------------------
    def start(self) -> str:
        handler = type("BoundDoubleHandler", (_Handler,), {"double": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # -- operations ---------------------------------------------------------------------------------
    def _get(self, arn: str) -> DoubleExecution:
        execution = self.executions.get(arn)
        if execution is None:
            raise ApiError("ResourceNotFoundException", "Durable Execution does not exist", 404)
        return execution

    def list_executions(self, function: str, query: dict) -> dict:
        function = function.split(":function:")[-1].split(":")[0]
        if function not in self.functions:
            raise ApiError("ResourceNotFoundException", f"Function not found: {function}", 404)
        limit = _max_items(query)
        reverse = _bool(query, "ReverseOrder")
        statuses = query.get("Statuses")
        if statuses is not None and (not 1 <= len(statuses) <= 10 or set(statuses) - STATUSES):
            raise _invalid("Statuses must be 1 to 10 ExecutionStatus values")
        after, before = _time(query, "StartedAfter"), _time(query, "StartedBefore")
        name = _one(query, "DurableExecutionName")
        selected = [
            e
            for e in self.executions.values()
            if e.function == function
            and (not statuses or e.status in statuses)
            and (after is None or e.start > after)
            and (before is None or e.start < before)
            and (not name or e.name == name)
        ]
        selected.sort(key=lambda e: (e.start, e.arn), reverse=not reverse)  # default: newest first
        offset = _marker(query, "list")
        page = selected[offset : offset + limit]
        answer: dict = {"DurableExecutions": [e.summary() for e in page]}
        if offset + limit < len(selected):
            answer["NextMarker"] = _marker_for("list", offset + limit)
        return answer

    def history(self, arn: str, query: dict) -> dict:
        execution = self._get(arn)
        limit = _max_items(query)
        events = list(reversed(execution.events)) if _bool(query, "ReverseOrder") else list(execution.events)
        offset = _marker(query, "history")
        answer: dict = {"Events": events[offset : offset + limit]}
        if offset + limit < len(events):
            answer["NextMarker"] = _marker_for("history", offset + limit)
        return answer

    def describe(self, arn: str, query: dict | None = None) -> dict:
        execution = self._get(arn)
        answer = {**execution.summary(), "InputPayload": "{}", "Version": "$LATEST"}
        if execution.pause:
            details = dict(execution.pause)
            if not _bool(query or {}, "IncludeExecutionData"):
                details.pop("Reason", None)  # "only present if you set IncludeExecutionData to true"
            answer["PauseDetails"] = details
        if execution.durable_config:
            answer["DurableConfig"] = execution.durable_config
        if execution.expected_timeout is not None:
            answer["ExpectedExecutionTimeoutTimestamp"] = execution.expected_timeout
        return answer

    def _repeated(self, operation: str, arn: str, body: dict) -> bool:
        """True if this ClientToken already did this operation on this execution (then: success, no change)."""
        token = body.get("ClientToken")
        if not token:
            return False
        if token in self._tokens:
            if self._tokens[token] != (operation, arn):
                raise _invalid("ClientToken reused with different parameters")
            return True
        self._tokens[token] = (operation, arn)
        return False

    def stop_execution(self, arn: str) -> dict:
        execution = self._get(arn)
        if execution.status not in ("RUNNING", "PAUSING", "PAUSED"):
            raise _invalid(f"Cannot stop a durable execution in status {execution.status}")
        now = time.time()
        execution.status, execution.end, execution.pause = "STOPPED", now, None
        execution.event("ExecutionStopped", now)
        return {"StopTimestamp": now}

    def pause(self, arn: str, body: dict) -> None:
        execution = self._get(arn)
        if self._repeated("pause", arn, body):
            return
        if execution.status != "RUNNING":
            raise ApiError("ResourceConflictException", f"Cannot pause in status {execution.status}", 409)
        now = time.time()
        timeout_paused = body.get("ExecutionTimeoutPaused", True)
        execution.status = "PAUSED"
        execution.pause = {"PauseRequestTimestamp": now, "ExecutionTimeoutPaused": timeout_paused}
        details = {"PauseRequestTimestamp": now, "ExecutionTimeoutPaused": timeout_paused}
        if body.get("Reason") is not None:
            execution.pause["Reason"] = body["Reason"]
            details["Reason"] = {"Payload": body["Reason"]}
        if body.get("ClientToken"):
            self.pause_tokens.append(body["ClientToken"])
        execution.event("ExecutionPaused", now, ExecutionPausedDetails=details)

    def resume(self, arn: str, body: dict | None = None) -> None:
        execution = self._get(arn)
        if self._repeated("resume", arn, body or {}):
            return
        if execution.status not in ("PAUSED", "PAUSING"):
            raise ApiError("ResourceConflictException", f"Cannot resume in status {execution.status}", 409)
        now = time.time()
        execution.status, execution.pause = "RUNNING", None
        execution.event("ExecutionResumed", now, ExecutionResumedDetails={"ResumeRequestTimestamp": now})

    def delete(self, arn: str) -> dict:
        execution = self._get(arn)
        if execution.status not in TERMINAL:
            raise ApiError("ResourceConflictException", f"Cannot delete in status {execution.status}", 409)
        del self.executions[arn]
        return {"DeletionRequestTimestamp": time.time()}


def _one(query: dict, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _bool(query: dict, name: str) -> bool:
    value = _one(query, name)
    if value not in (None, "true", "false"):
        raise _invalid(f"{name} must be true or false")
    return value == "true"


def _max_items(query: dict) -> int:
    value = _one(query, "MaxItems")
    try:
        number = int(value) if value is not None else 0
    except ValueError:
        raise _invalid("MaxItems must be an integer")
    if not 0 <= number <= 1000:
        raise _invalid("MaxItems must be between 0 and 1000")
    return number or 100


def _time(query: dict, name: str) -> float | None:
    value = _one(query, name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(f"{name} must be an ISO 8601 timestamp")
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _marker_for(kind: str, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": kind, "o": offset}).encode()).decode()


def _marker(query: dict, kind: str) -> int:
    marker = _one(query, "Marker")
    if not marker:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(marker))
        assert data["k"] == kind
        return int(data["o"])
    except (ValueError, KeyError, TypeError, AssertionError):
        raise _invalid("Invalid Marker")


class _Handler(BaseHTTPRequestHandler):
    double: AwsDouble
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, status: int, data: dict, headers: dict | None = None) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._route()

    def do_POST(self):
        self._route()

    def do_DELETE(self):
        self._route()

    def _route(self):
        split = urlsplit(self.path)
        query = parse_qs(split.query)
        parts = [unquote(part) for part in split.path.strip("/").split("/")]
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        double, method = self.double, self.command
        try:
            with double.lock:
                if parts[:2] == ["2025-12-01", "functions"] and parts[3:] == ["durable-executions"]:
                    double.calls.append("ListDurableExecutionsByFunction")
                    return self._answer(200, double.list_executions(parts[2], query))
                if parts[:2] == ["2025-12-01", "durable-executions"] and len(parts) in (3, 4):
                    arn, action = parts[2], (parts[3] if len(parts) == 4 else "")
                    operation = {
                        ("GET", ""): "GetDurableExecution",
                        ("GET", "history"): "GetDurableExecutionHistory",
                        ("POST", "stop"): "StopDurableExecution",
                        ("POST", "pause"): "PauseDurableExecution",
                        ("POST", "resume"): "ResumeDurableExecution",
                        ("DELETE", ""): "DeleteDurableExecution",
                    }.get((method, action))
                    if operation:
                        double.calls.append(operation)
                    if operation == "GetDurableExecution":
                        return self._answer(200, double.describe(arn, query))
                    if operation == "GetDurableExecutionHistory":
                        return self._answer(200, double.history(arn, query))
                    if operation == "StopDurableExecution":
                        return self._answer(200, double.stop_execution(arn))
                    if operation == "PauseDurableExecution":
                        double.pause(arn, body)
                        return self._answer(202, {})
                    if operation == "ResumeDurableExecution":
                        double.resume(arn, body)
                        return self._answer(202, {})
                    if operation == "DeleteDurableExecution":
                        return self._answer(202, double.delete(arn))
            raise ApiError("UnrecognizedClientException", f"Unknown path: {method} {split.path}", 404)
        except ApiError as error:
            self._answer(error.status, {"Type": "User", "message": error.message}, {"X-Amzn-ErrorType": error.code})
