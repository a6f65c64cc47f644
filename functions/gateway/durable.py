"""The durable-execution API (`/2025-12-01/...`) as the gateway serves it: AWS's semantics on the emulator."""

from __future__ import annotations

import json
from urllib.parse import quote, urlsplit

from functions.gateway import pause as pausing
from functions.gateway import translate
from functions.gateway.emulator import API
from functions.gateway.errors import GatewayError, emulator_error, not_found

DURABLE_PREFIX = API + "/"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}
CALLBACK_ACTIONS = {
    "succeed": "SendDurableExecutionCallbackSuccess",
    "fail": "SendDurableExecutionCallbackFailure",
    "heartbeat": "SendDurableExecutionCallbackHeartbeat",
}
# How the emulator says a callback exists but is no longer open (it answers 404 or 409).
CALLBACK_CLOSED_MESSAGES = ("not in STARTED state", "is not active")
EXECUTION_ACTIONS = {
    ("GET", ""): "GetDurableExecution",
    ("DELETE", ""): "DeleteDurableExecution",
    ("GET", "history"): "GetDurableExecutionHistory",
    ("GET", "state"): "GetDurableExecutionState",
    ("POST", "checkpoint"): "CheckpointDurableExecution",
    ("POST", "stop"): "StopDurableExecution",
    ("POST", "pause"): "PauseDurableExecution",
    ("POST", "resume"): "ResumeDurableExecution",
}


class DurableApi:
    """Request-handler methods for the durable API (mixed into the gateway's request handler)."""

    def _durable(self, parts: list[str], query: dict):
        method = self.command
        if len(parts) == 3 and parts[0] == "functions" and parts[2] == "durable-executions" and method == "GET":
            self.operation = "ListDurableExecutionsByFunction"
            self.gateway.faults.check(self.operation)
            return self._list(parts[1], query)
        callback = len(parts) == 3 and parts[0] == "durable-execution-callbacks" and parts[2] in CALLBACK_ACTIONS
        if callback and method == "POST":
            self.operation = CALLBACK_ACTIONS[parts[2]]
            self.gateway.faults.check(self.operation)
            return self._callback(parts)
        if parts[0] == "durable-executions" and len(parts) in (2, 3):
            action = parts[2] if len(parts) == 3 else ""
            operation = EXECUTION_ACTIONS.get((method, action))
            if operation:
                self.operation = operation
                self.gateway.faults.check(operation)
                return self._execution(operation, self.gateway.emulator_id(parts[1]), action, query)
        raise GatewayError("UnrecognizedClientException", f"Unknown path: {method} {urlsplit(self.path).path}", 404)

    def _proxy(self, path: str, body: bytes | None = None, raise_errors: bool = True) -> tuple[int, dict, bytes]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            status, response_headers, payload = self.gateway.emulator.request(self.command, path, body, headers)
        except OSError as exc:
            raise GatewayError("ServiceException", f"durable-execution emulator unreachable: {exc}", 503)
        if status >= 300 and raise_errors:
            raise emulator_error(status, payload)
        dropped = HOP_BY_HOP | {"content-type", "server", "date"}
        return status, {k: v for k, v in response_headers if k.lower() not in dropped}, payload

    def _list(self, raw_function: str, query: dict):
        gateway = self.gateway
        spec, name, _ = gateway.resolve(raw_function)
        if spec is None or not spec.durable:
            raise gateway.function_not_found(name)
        pairs = []
        for item in gateway.emulator.executions_all(spec.name):
            record = gateway.state.peek(item["DurableExecutionArn"])
            item["DurableExecutionArn"] = gateway.arns.remember_item(item)
            gateway.events.observed(item)  # an end the gateway did not see happen (the emulator's timeouts)
            pairs.append((item, record))
        self._json(200, translate.list_page(pairs, query))

    def _execution(self, operation: str, emulator_arn: str, action: str, query: dict):
        gateway, state = self.gateway, self.gateway.state
        path = gateway.emulator.execution_path(emulator_arn, f"/{action}" if action else "")
        if state.is_deleted(emulator_arn) and operation != "CheckpointDurableExecution":
            raise not_found()
        if operation == "GetDurableExecution":
            include = translate.boolean(query, "IncludeExecutionData", True)
            described = gateway.emulator.describe(emulator_arn)
            gateway.arns.remember_item(described)
            gateway.arns.translate(described)
            gateway.events.observed(described)
            spec = gateway.registry.get(described.get("FunctionArn", "").split(":function:")[-1].split(":")[0])
            config = spec.durable_config() if spec else None
            return self._json(200, translate.describe_overlay(described, state.peek(emulator_arn), include, config))
        if operation == "GetDurableExecutionHistory":
            include = translate.boolean(query, "IncludeExecutionData", True)  # AWS default true; emulator's false
            events = gateway.emulator.history_all(emulator_arn, include)
            with state.lock:
                events = translate.history_events(events, state.record(emulator_arn))
            gateway.arns.translate(events)
            return self._json(200, translate.history_page(events, query))
        if operation in ("PauseDurableExecution", "ResumeDurableExecution", "DeleteDurableExecution"):
            body = self._json_body(self._read_body())
            described = gateway.emulator.describe(emulator_arn)
            status = described.get("Status", "")
            execution_op = self._execution_op(emulator_arn)
            if operation == "PauseDurableExecution":
                pausing.pause(state, emulator_arn, status, body, execution_op)
                return self._send(202, b"{}")
            if operation == "ResumeDurableExecution":
                pausing.resume(state, emulator_arn, status, body, execution_op)
                return self._send(202, b"{}")
            return self._json(202, {"DeletionRequestTimestamp": pausing.delete(state, emulator_arn, status)})
        body = self._read_body()
        if operation == "CheckpointDurableExecution":
            updates = self._json_body(body).get("Updates") or []
            state.checkpoint_seen(emulator_arn, updates if isinstance(updates, list) else [])
        status, headers, payload = self._proxy(self._with_query(path), body)
        if operation == "StopDurableExecution":
            pausing.release(state, emulator_arn)
            gateway.events.ended(emulator_arn, gateway.arns.aws(emulator_arn))
        self._send(status, self._translated(payload), headers)

    def _execution_op(self, emulator_arn: str) -> dict:
        """Id and Name of the execution's own operation (for ExecutionPaused/Resumed events)."""
        path = self.gateway.emulator.execution_path(emulator_arn, "/history")
        events = self.gateway.emulator.call("GET", path, {"MaxItems": 1}).get("Events") or []
        return {key: events[0][key] for key in ("Id", "Name") if events and key in events[0]}

    def _with_query(self, path: str) -> str:
        query = urlsplit(self.path).query
        return f"{path}?{query}" if query else path

    def _translated(self, payload: bytes) -> bytes:
        try:
            data = json.loads(payload) if payload.strip() else None
        except ValueError:
            return payload
        if data is None:
            return payload
        return json.dumps(self.gateway.arns.translate(data), default=str).encode()

    def _callback(self, parts: list[str]):
        path = f"{DURABLE_PREFIX}durable-execution-callbacks/{quote(parts[1], safe='')}/{parts[2]}"
        status, headers, payload = self._proxy(path, self._read_body(), raise_errors=False)
        if status >= 300:
            error = emulator_error(status, payload)
            closed = any(text in error.message for text in CALLBACK_CLOSED_MESSAGES) or error.error_type in (
                "ResourceConflictException",
                "ExecutionConflictException",
                "CallbackTimeoutException",
            )
            if closed:  # AWS: a callback that is no longer open answers 400 CallbackTimeoutException
                raise GatewayError("CallbackTimeoutException", f"The callback is no longer open: {error.message}", 400)
            raise error
        self._send(status, payload, headers)

    # -- Invoke ------------------------------------------------------------------------------
