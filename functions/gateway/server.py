"""The gateway's HTTP server: routing, Lambda-shaped answers, and the durable API in AWS's semantics."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from functions.gateway import pause as pausing
from functions.gateway import translate
from functions.gateway.arns import ArnBook, is_aws_arn
from functions.gateway.emulator import API, Emulator
from functions.gateway.errors import GatewayError, emulator_error, error_body, invalid, not_found
from functions.gateway.faults import Faults
from functions.gateway.invoke import ACCOUNT_ID, Invoker
from functions.registry import FunctionSpec, function_registry

logger = logging.getLogger("gateway")

INVOKE_PREFIX = "/2015-03-31/functions/"
DURABLE_PREFIX = API + "/"
FAULTS_PATH = "/_gateway/faults"
HANDLER_INVOKE_HEADER = "X-Dex-Handler-Invoke"
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
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


class Gateway:
    """Everything the request handlers share: registry, emulator, ARN book, state, faults."""

    def __init__(self, registry: dict[str, FunctionSpec], emulator_url: str, region: str):
        from functions.gateway.state import GatewayState

        self.registry = registry
        self.region = region
        self.emulator = Emulator(emulator_url)
        self.arns = ArnBook(region, ACCOUNT_ID, self.emulator.describe_or_none, self._executions_quiet)
        self.state = GatewayState()
        self.faults = Faults()
        self.invoker = Invoker(region, self.emulator, self.arns, self.state)

    def _executions_quiet(self, function: str) -> list[dict]:
        try:
            return self.emulator.executions_all(function)
        except GatewayError:
            return []

    def resolve(self, raw_name: str) -> tuple[FunctionSpec | None, str, str | None]:
        """Accept a name, `name:qualifier`, or a (partial) ARN; return (spec, name, qualifier)."""
        name = unquote(raw_name)
        if ":function:" in name:
            name = name.split(":function:", 1)[1]
        name, _, qualifier = name.partition(":")
        return self.registry.get(name), name, qualifier or None

    def function_not_found(self, name: str) -> GatewayError:
        return not_found(f"Function not found: arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}")

    def emulator_id(self, given: str) -> str:
        """The emulator's id for an execution ARN given in a request path (AWS shape only)."""
        if not is_aws_arn(given):
            raise invalid(f"Invalid DurableExecutionArn: {given!r} is not a durable execution ARN")
        emulator_arn = self.arns.emulator(given)
        if emulator_arn is None:
            raise not_found()
        return emulator_arn


class GatewayHandler(BaseHTTPRequestHandler):
    server_version = "DurableConsoleLambdaGateway/1.0"
    protocol_version = "HTTP/1.1"
    gateway: Gateway  # set on the class by `serve`

    # -- plumbing --------------------------------------------------------------
    def log_message(self, fmt, *args):  # route through logging, not stderr
        logger.info("%s %s", self.address_string(), fmt % args)

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        headers = dict(headers or {})
        self.send_header("x-amzn-RequestId", headers.pop("x-amzn-RequestId", None) or os.urandom(16).hex())
        self.send_header("Content-Type", "application/json")
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: dict, headers: dict | None = None) -> None:
        self._send(status, json.dumps(data, default=str).encode(), headers)

    def _error(self, error: GatewayError) -> None:
        headers = {"X-Amzn-ErrorType": error.error_type, **error.headers}
        self._send(error.status, error_body(error.error_type, error.message, error.extra), headers)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            self.rfile.read(length)
            raise GatewayError(
                "RequestTooLargeException",
                f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation",
                413,
            )
        return self.rfile.read(length) if length else b""

    def _json_body(self, body: bytes) -> dict:
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            raise invalid("Could not parse request body into json")
        if not isinstance(data, dict):
            raise invalid("The request body must be a JSON object")
        return data

    # -- routing ---------------------------------------------------------------
    def do_GET(self):
        self._route()

    def do_POST(self):
        self._route()

    def do_PUT(self):
        self._route()

    def do_DELETE(self):
        self._route()

    def _route(self):
        try:
            split = urlsplit(self.path)
            path, query = split.path, parse_qs(split.query, keep_blank_values=True)
            if path.startswith(DURABLE_PREFIX):
                self._durable([unquote(part) for part in path[len(DURABLE_PREFIX) :].split("/")], query)
            elif path.startswith(INVOKE_PREFIX) and path.endswith("/invocations") and self.command == "POST":
                self._invoke(path[len(INVOKE_PREFIX) : -len("/invocations")], query)
            elif path == FAULTS_PATH:
                self._faults()
            elif path == "/health" and self.command == "GET":
                self._json(200, {"status": "ok", "functions": sorted(self.gateway.registry)})
            else:
                raise GatewayError("UnrecognizedClientException", f"Unknown path: {self.command} {path}", 404)
        except GatewayError as error:
            self._safe_error(error)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # the gateway keeps serving whatever happens
            logger.exception("gateway error")
            self._safe_error(GatewayError("ServiceException", f"{type(exc).__name__}: {exc}", 500))

    def _safe_error(self, error: GatewayError) -> None:
        try:
            self._error(error)
        except OSError:
            pass

    def _faults(self):
        faults = self.gateway.faults
        if self.command == "GET":
            self._json(200, faults.snapshot())
        elif self.command == "POST":
            self._json(200, faults.arm(self._json_body(self._read_body())))
        elif self.command == "DELETE":
            self._json(200, faults.clear())
        else:
            raise GatewayError("UnrecognizedClientException", f"Unknown path: {self.command} {FAULTS_PATH}", 404)

    # -- the durable-execution API ---------------------------------------------------
    def _durable(self, parts: list[str], query: dict):
        method = self.command
        if len(parts) == 3 and parts[0] == "functions" and parts[2] == "durable-executions" and method == "GET":
            self.gateway.faults.check("ListDurableExecutionsByFunction")
            return self._list(parts[1], query)
        callback = len(parts) == 3 and parts[0] == "durable-execution-callbacks" and parts[2] in CALLBACK_ACTIONS
        if callback and method == "POST":
            self.gateway.faults.check(CALLBACK_ACTIONS[parts[2]])
            return self._callback(parts)
        if parts[0] == "durable-executions" and len(parts) in (2, 3):
            action = parts[2] if len(parts) == 3 else ""
            operation = EXECUTION_ACTIONS.get((method, action))
            if operation:
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
            spec = gateway.registry.get(described.get("FunctionArn", "").split(":function:")[-1].split(":")[0])
            config = spec.durable_config() if spec else None
            return self._json(200, translate.describe_overlay(described, state.peek(emulator_arn), include, config))
        if operation == "GetDurableExecutionHistory":
            include = translate.boolean(query, "IncludeExecutionData", True)  # AWS default true; emulator's false
            events = gateway.emulator.history_all(emulator_arn, include)
            with state.lock:
                events = translate.history_events(events, state.peek(emulator_arn))
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
    def _invoke(self, raw_name: str, query: dict):
        gateway = self.gateway
        spec, name, qualifier = gateway.resolve(raw_name)
        qualifier = qualifier or translate.one(query, "Qualifier")
        body = self._read_body()
        if spec is None:
            raise gateway.function_not_found(name)
        try:
            event = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, ValueError) as exc:
            raise GatewayError("InvalidRequestContentException", f"Could not parse request body into json: {exc}", 400)
        handler_invoke = self.headers.get(HANDLER_INVOKE_HEADER, "").lower() == "true" or (
            isinstance(event, dict) and "DurableExecutionArn" in event and "CheckpointToken" in event
        )
        if not handler_invoke:
            gateway.faults.check("Invoke")
        if spec.durable and not handler_invoke:
            arn = gateway.invoker.start(spec, qualifier, body, self.headers.get("X-Amz-Durable-Execution-Name"))
            asynchronous = self.headers.get("X-Amz-Invocation-Type", "RequestResponse") == "Event"
            self._send(
                202 if asynchronous else 200,
                b"" if asynchronous else json.dumps({"DurableExecutionArn": arn}).encode(),
                {"X-Amz-Durable-Execution-Arn": arn, "X-Amz-Executed-Version": "$LATEST"},
            )
        else:
            self._send(*gateway.invoker.run(spec, event))


def serve(host: str, port: int, gateway: Gateway) -> ThreadingHTTPServer:
    handler = type("BoundGatewayHandler", (GatewayHandler,), {"gateway": gateway})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    from functions.gateway import __doc__ as package_doc

    parser = argparse.ArgumentParser(prog="python -m functions.gateway", description=package_doc.split("\n")[0])
    parser.add_argument("--host", default=os.environ.get("LAMBDA_GATEWAY_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("LAMBDA_GATEWAY_PORT", "3001")))
    parser.add_argument("--emulator", default=os.environ.get("DURABLE_EMULATOR_URL", "http://127.0.0.1:5000"))
    parser.add_argument(
        "--function",
        action="append",
        default=[],
        metavar="NAME=module:function",
        help="register a handler (repeatable); also LAMBDA_FUNCTIONS=comma;separated",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    extra = [item for item in os.environ.get("LAMBDA_FUNCTIONS", "").split(";") if item.strip()] + args.function
    registry = function_registry(extra)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    # Handlers running in-process reach the durable APIs through this gateway.
    os.environ.setdefault("AWS_ENDPOINT_URL_LAMBDA", f"http://{args.host}:{args.port}")
    os.environ.setdefault("AWS_REGION", region)
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")

    server = serve(args.host, args.port, Gateway(registry, args.emulator, region))
    logger.info(
        "Lambda gateway on http://%s:%s (emulator %s) serving %s",
        args.host,
        args.port,
        args.emulator,
        ", ".join(sorted(registry)),
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
