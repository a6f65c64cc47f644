"""The local Lambda gateway: one HTTP endpoint that behaves like the Lambda API.

- `POST /2015-03-31/functions/{name}/invocations`
  * with a durable invocation payload (sent by the durable-execution emulator,
    marked by the `X-Dex-Handler-Invoke` header) runs the registered handler
    in-process and returns its output;
  * a plain Invoke of a durable function starts a durable execution in the
    emulator and returns its ARN (header `X-Amz-Durable-Execution-Arn`), as the
    real Lambda front door does;
  * a plain Invoke of a non-durable function runs it and returns its result.
- every `/2025-12-01/...` request is proxied to the emulator unchanged.
- errors have Lambda's shape (`X-Amzn-ErrorType` header, `Type`/`Message` body);
  a handler that raises answers 200 with `X-Amz-Function-Error: Unhandled`.

Run: python -m functions.gateway --port 3001 --emulator http://127.0.0.1:5000 \
        [--function NAME=module:function[,timeout=S][,retention=D][,plain] ...]
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from functions.registry import FunctionSpec, function_registry

logger = logging.getLogger("gateway")

ACCOUNT_ID = "123456789012"
INVOKE_PREFIX = "/2015-03-31/functions/"
DURABLE_PREFIX = "/2025-12-01/"
HANDLER_INVOKE_HEADER = "X-Dex-Handler-Invoke"
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}


class LambdaContext:
    """The context object a Lambda runtime hands to a handler."""

    def __init__(self, spec: FunctionSpec, region: str, timeout_ms: int = 900_000):
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{spec.name}"
        self.memory_limit_in_mb = 512
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = "local"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Gateway:
    def __init__(self, registry: dict[str, FunctionSpec], emulator_url: str, region: str):
        self.registry = registry
        self.emulator = urlsplit(emulator_url)
        self.region = region
        self._handlers: dict[str, object] = {}
        self._lock = threading.Lock()

    def handler_for(self, spec: FunctionSpec):
        with self._lock:
            if spec.name not in self._handlers:
                self._handlers[spec.name] = spec.load_handler()
            return self._handlers[spec.name]

    def resolve(self, raw_name: str) -> tuple[FunctionSpec | None, str, str | None]:
        """Accept a name, `name:qualifier`, or a (partial) ARN; return (spec, name, qualifier)."""
        name = unquote(raw_name)
        if ":function:" in name:
            name = name.split(":function:", 1)[1]
        name, _, qualifier = name.partition(":")
        return self.registry.get(name), name, qualifier or None

    def emulator_request(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, list, bytes]:
        connection = http.client.HTTPConnection(self.emulator.hostname, self.emulator.port, timeout=960)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


def error_body(error_type: str, message: str) -> bytes:
    return json.dumps({"Type": "User", "Message": message, "message": message, "__type": error_type}).encode()


class GatewayHandler(BaseHTTPRequestHandler):
    server_version = "DurableConsoleLambdaGateway/1.0"
    protocol_version = "HTTP/1.1"
    gateway: Gateway  # set on the class by `serve`

    # -- plumbing --------------------------------------------------------------
    def log_message(self, fmt, *args):  # route through logging, not stderr
        logger.info("%s %s", self.address_string(), fmt % args)

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        request_id = (headers or {}).pop("x-amzn-RequestId", None) or str(uuid.uuid4())
        self.send_header("x-amzn-RequestId", request_id)
        self.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, error_type: str, message: str) -> None:
        self._send(status, error_body(error_type, message), {"X-Amzn-ErrorType": error_type})

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            self.rfile.read(length)
            self._error(
                413,
                "RequestTooLargeException",
                f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation",
            )
            return None
        return self.rfile.read(length) if length else b""

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
            path = urlsplit(self.path).path
            if path.startswith(DURABLE_PREFIX):
                self._proxy()
            elif path.startswith(INVOKE_PREFIX) and path.endswith("/invocations") and self.command == "POST":
                self._invoke(path[len(INVOKE_PREFIX) : -len("/invocations")])
            elif path == "/health" and self.command == "GET":
                body = json.dumps({"status": "ok", "functions": sorted(self.gateway.registry)}).encode()
                self._send(200, body)
            else:
                self._error(404, "UnrecognizedClientException", f"Unknown path: {self.command} {path}")
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # the gateway keeps serving whatever happens
            logger.exception("gateway error")
            try:
                self._error(500, "ServiceException", f"{type(exc).__name__}: {exc}")
            except OSError:
                pass

    def _proxy(self):
        body = self._read_body()
        if body is None:
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            status, response_headers, payload = self.gateway.emulator_request(self.command, self.path, body, headers)
        except OSError as exc:
            self._error(503, "ServiceException", f"durable-execution emulator unreachable: {exc}")
            return
        dropped = HOP_BY_HOP | {"content-type", "server", "date"}
        forwarded = {k: v for k, v in response_headers if k.lower() not in dropped}
        self._send(status, payload, forwarded)

    def _invoke(self, raw_name: str):
        gateway = self.gateway
        spec, name, qualifier = gateway.resolve(raw_name)
        qualifier = qualifier or (parse_qs(urlsplit(self.path).query).get("Qualifier") or [None])[0]
        body = self._read_body()
        if body is None:
            return
        if spec is None:
            self._error(
                404,
                "ResourceNotFoundException",
                f"Function not found: arn:aws:lambda:{gateway.region}:{ACCOUNT_ID}:function:{name}",
            )
            return
        try:
            event = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, ValueError) as exc:
            self._error(400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}")
            return

        handler_invoke = self.headers.get(HANDLER_INVOKE_HEADER, "").lower() == "true" or (
            isinstance(event, dict) and "DurableExecutionArn" in event and "CheckpointToken" in event
        )
        if spec.durable and not handler_invoke:
            self._start_execution(spec, qualifier, body)
        else:
            self._run_handler(spec, event)

    def _run_handler(self, spec: FunctionSpec, event):
        context = LambdaContext(spec, self.gateway.region)
        headers = {"x-amzn-RequestId": context.aws_request_id, "X-Amz-Executed-Version": "$LATEST"}
        try:
            handler = self.gateway.handler_for(spec)
        except Exception as exc:
            logger.exception("cannot load handler %s", spec.handler_path)
            self._error(502, "InvalidRuntimeException", f"Cannot load handler {spec.handler_path}: {exc}")
            return
        try:
            result = handler(event, context)
            payload = json.dumps(result, default=str).encode()
        except Exception as exc:
            logger.exception("handler %s raised", spec.name)
            payload = json.dumps(
                {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "requestId": context.aws_request_id,
                    "stackTrace": traceback.format_exception(exc)[-20:],
                }
            ).encode()
            headers["X-Amz-Function-Error"] = "Unhandled"
        self._send(200, payload, headers)

    def _start_execution(self, spec: FunctionSpec, qualifier: str | None, body: bytes):
        execution_name = self.headers.get("X-Amz-Durable-Execution-Name") or str(uuid.uuid4())
        request = {
            "AccountId": ACCOUNT_ID,
            "FunctionName": spec.name,
            "FunctionQualifier": qualifier or "$LATEST",
            "ExecutionName": execution_name,
            "ExecutionTimeoutSeconds": spec.execution_timeout,
            "ExecutionRetentionPeriodDays": spec.retention_days,
            "InvocationId": str(uuid.uuid4()),
            "Input": body.decode("utf-8") if body.strip() else "{}",
        }
        try:
            status, _, payload = self.gateway.emulator_request(
                "POST",
                "/start-durable-execution",
                json.dumps(request).encode(),
                {"Content-Type": "application/json"},
            )
        except OSError as exc:
            self._error(503, "ServiceException", f"durable-execution emulator unreachable: {exc}")
            return
        if status >= 300:
            try:
                detail = json.loads(payload)
            except ValueError:
                detail = {}
            message = detail.get("message") or detail.get("Message") or payload.decode("utf-8", "replace")
            if status == 409:
                self._error(409, "DurableExecutionAlreadyStartedException", message)
            else:
                self._error(status, detail.get("Type") or "ServiceException", message)
            return
        arn = json.loads(payload)["ExecutionArn"]
        asynchronous = self.headers.get("X-Amz-Invocation-Type", "RequestResponse") == "Event"
        self._send(
            202 if asynchronous else 200,
            b"" if asynchronous else json.dumps({"DurableExecutionArn": arn}).encode(),
            {"X-Amz-Durable-Execution-Arn": arn, "X-Amz-Executed-Version": "$LATEST"},
        )


def serve(host: str, port: int, gateway: Gateway) -> ThreadingHTTPServer:
    handler = type("BoundGatewayHandler", (GatewayHandler,), {"gateway": gateway})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.gateway", description=__doc__.split("\n")[0])
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
