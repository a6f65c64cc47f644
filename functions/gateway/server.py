"""The gateway's HTTP server: routing, Lambda-shaped answers, Invoke, faults, and the command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from functions.gateway import translate
from functions.gateway.arns import ArnBook, is_aws_arn
from functions.gateway.durable import DURABLE_PREFIX, DurableApi
from functions.gateway.emulator import Emulator
from functions.gateway.errors import GatewayError, error_body, invalid, not_found
from functions.gateway.eventbridge import StatusEvents
from functions.gateway.faults import Faults
from functions.gateway.invoke import ACCOUNT_ID, Invoker
from functions.gateway.limits import (
    DEFAULT_MAX_THREADS,
    SOCKET_TIMEOUT_SECONDS,
    BoundedThreadingHTTPServer,
    allowed_hosts,
    content_length,
    drop_connection,
    host_allowed,
)
from functions.registry import FunctionSpec, function_registry

logger = logging.getLogger("gateway")

INVOKE_PREFIX = "/2015-03-31/functions/"
FAULTS_PATH = "/_gateway/faults"
HANDLER_INVOKE_HEADER = "X-Dex-Handler-Invoke"
EVENTS_EMULATOR_TIMEOUT_SECONDS = 5


class Gateway:
    """Everything the request handlers share: registry, emulator, ARN book, state, faults, status events."""

    def __init__(
        self,
        registry: dict[str, FunctionSpec],
        emulator_url: str,
        region: str,
        *,
        eventbridge_url: str = "",
        eventbridge_token: str = "",
    ):
        from functions.gateway.state import GatewayState

        self.registry = registry
        self.region = region
        self.emulator = Emulator(emulator_url)
        self.arns = ArnBook(region, ACCOUNT_ID, self.emulator.describe_or_none, self._executions_quiet)
        self.state = GatewayState()
        self.faults = Faults()
        self.allowed_hosts = allowed_hosts()
        # The events' own reads of the emulator, with a short timeout (they run on the emitter's thread).
        self._events_emulator = Emulator(emulator_url, timeout=EVENTS_EMULATOR_TIMEOUT_SECONDS)
        self.events = StatusEvents(eventbridge_url, eventbridge_token, describe=self._describe_for_events)
        self.invoker = Invoker(region, self.emulator, self.arns, self.state, self.events)

    def _describe_for_events(self, emulator_arn: str) -> dict | None:
        """The emulator's GetDurableExecution answer with the execution's AWS ARN (None if it cannot say)."""
        described = self._events_emulator.describe_or_none(emulator_arn)
        if not described or described.get("DurableExecutionArn") != emulator_arn:
            return None
        described["DurableExecutionArn"] = self.arns.remember_item(described)
        return described

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


class GatewayHandler(DurableApi, BaseHTTPRequestHandler):
    server_version = "DurableConsoleLambdaGateway/1.0"
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_SECONDS  # every socket read and write of a connection
    gateway: Gateway  # set on the class by `serve`
    operation = ""  # the durable API operation being served (network faults apply to its response)

    # -- plumbing --------------------------------------------------------------
    def log_message(self, fmt, *args):  # route through logging, not stderr
        logger.info("%s %s", self.address_string(), fmt % args)

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        fault = self.gateway.faults.take_after(self.operation)
        if fault is not None:  # the request was served; now the network lies about the answer
            if fault["after"] == "drop":
                self.close_connection = True
                drop_connection(self.connection)
                return
            if fault["after"] == "delay":
                time.sleep(fault["delaySeconds"])
            else:
                status, headers = 500, {"X-Amzn-ErrorType": "ServiceException"}
                body = error_body("ServiceException", "Internal failure (gateway fault)", None)
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
        length = content_length(self.headers.get("Content-Length"))  # checked once more in _route
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
        self.operation = ""
        try:
            if not host_allowed(self.headers.get("Host"), self.gateway.allowed_hosts):
                self.close_connection = True
                raise GatewayError("AccessDeniedException", "Host not allowed: the gateway serves loopback only", 403)
            try:
                content_length(self.headers.get("Content-Length"))
            except GatewayError:
                self.close_connection = True  # the body is never read: the connection cannot be reused
                raise
            split = urlsplit(self.path)
            path, query = split.path, parse_qs(split.query, keep_blank_values=True)
            if path.startswith(DURABLE_PREFIX):
                self._durable([unquote(part) for part in path[len(DURABLE_PREFIX) :].split("/")], query)
            elif path.startswith(INVOKE_PREFIX) and path.endswith("/invocations") and self.command == "POST":
                self._invoke(path[len(INVOKE_PREFIX) : -len("/invocations")], query)
            elif path == FAULTS_PATH:
                self._faults()
            elif path == "/health" and self.command == "GET":
                gateway = self.gateway
                self._json(
                    200,
                    {"status": "ok", "functions": sorted(gateway.registry), "eventbridge": gateway.events.snapshot()},
                )
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


def serve(host: str, port: int, gateway: Gateway, max_threads: int | None = None) -> BoundedThreadingHTTPServer:
    handler = type("BoundGatewayHandler", (GatewayHandler,), {"gateway": gateway})
    threads = max_threads or int(os.environ.get("LAMBDA_GATEWAY_MAX_THREADS", DEFAULT_MAX_THREADS))
    return BoundedThreadingHTTPServer((host, port), handler, max_threads=threads)


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
    parser.add_argument(
        "--eventbridge-url",
        default=os.environ.get("LOCAL_EVENTBRIDGE_URL", ""),
        help="POST a `Durable Execution Status Change` event here when an execution starts or ends "
        "(also LOCAL_EVENTBRIDGE_URL; empty: off); LOCAL_EVENTBRIDGE_TOKEN is sent as `Authorization: Bearer`",
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

    gateway = Gateway(
        registry,
        args.emulator,
        region,
        eventbridge_url=args.eventbridge_url,
        eventbridge_token=os.environ.get("LOCAL_EVENTBRIDGE_TOKEN", ""),
    )
    server = serve(args.host, args.port, gateway)
    logger.info(
        "Lambda gateway on http://%s:%s (emulator %s) serving %s; status events %s",
        args.host,
        args.port,
        args.emulator,
        ", ".join(sorted(registry)),
        f"to {gateway.events.url}" if gateway.events.enabled else "off",
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        gateway.events.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
