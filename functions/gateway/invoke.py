"""Invoke: run registered handlers in-process, and start durable executions in the emulator.

Every invocation of a durable function (the emulator calls the gateway for each one) is
recorded (start, end, request id, error) for the history's InvocationCompleted events, is
held while its execution is paused, and sees its execution's AWS-shaped ARN. Starts and
invocations that end an execution are told to the status events (`eventbridge`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
import uuid

from functions.gateway import pause as pausing
from functions.gateway.arns import ArnBook
from functions.gateway.emulator import Emulator
from functions.gateway.errors import GatewayError
from functions.gateway.eventbridge import StatusEvents
from functions.gateway.state import GatewayState
from functions.registry import FunctionSpec

logger = logging.getLogger("gateway")

ACCOUNT_ID = "123456789012"
# An invocation's output status (the SDK's DurableExecutionInvocationOutput) that ends its execution.
ENDING_OUTPUT_STATUSES = {"SUCCEEDED", "FAILED"}


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


class Invoker:
    def __init__(
        self, region: str, emulator: Emulator, arns: ArnBook, state: GatewayState, events: StatusEvents | None = None
    ):
        self.region = region
        self.emulator = emulator
        self.arns = arns
        self.state = state
        self.events = events
        self._handlers: dict[str, object] = {}
        self._lock = threading.Lock()

    def handler_for(self, spec: FunctionSpec):
        with self._lock:
            if spec.name not in self._handlers:
                self._handlers[spec.name] = spec.load_handler()
            return self._handlers[spec.name]

    def run(self, spec: FunctionSpec, event) -> tuple[int, bytes, dict]:
        """Run the handler; (status, payload, headers) as Lambda's Invoke answers."""
        context = LambdaContext(spec, self.region)
        headers = {"x-amzn-RequestId": context.aws_request_id, "X-Amz-Executed-Version": "$LATEST"}
        try:
            handler = self.handler_for(spec)
        except Exception as exc:
            logger.exception("cannot load handler %s", spec.handler_path)
            raise GatewayError("InvalidRuntimeException", f"Cannot load handler {spec.handler_path}: {exc}", 502)
        execution = self._durable_invocation(spec, event)
        if execution is not None and not pausing.hold_while_paused(self.state, execution):
            raise GatewayError("TooManyRequestsException", "The durable execution is paused or stopped", 429)
        record = self.state.invocation_started(execution, context.aws_request_id) if execution else None
        events = self.events if execution is not None else None
        aws_arn = event["DurableExecutionArn"] if events is not None else ""
        if events is not None:
            events.invoked(execution, aws_arn)
        error = None
        ending = False
        try:
            result = handler(event, context)
            payload = json.dumps(result, default=str).encode()
            ending = isinstance(result, dict) and result.get("Status") in ENDING_OUTPUT_STATUSES
        except Exception as exc:
            ending = True  # the emulator may end the execution on a function error
            logger.exception("handler %s raised", spec.name)
            error = {"ErrorType": type(exc).__name__, "ErrorMessage": str(exc)}
            payload = json.dumps(
                {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "requestId": context.aws_request_id,
                    "stackTrace": traceback.format_exception(exc)[-20:],
                }
            ).encode()
            headers["X-Amz-Function-Error"] = "Unhandled"
        finally:
            if record is not None:
                self.state.invocation_ended(execution, record, error)
        if ending and events is not None:
            events.ended(execution, aws_arn)
        return 200, payload, headers

    def _durable_invocation(self, spec: FunctionSpec, event) -> str | None:
        """For an invocation the emulator sends: its execution's emulator id; the event gets the AWS ARN."""
        if not (spec.durable and isinstance(event, dict) and isinstance(event.get("DurableExecutionArn"), str)):
            return None
        emulator_arn = event["DurableExecutionArn"]  # the emulator sends its own id
        event["DurableExecutionArn"] = self.arns.aws(emulator_arn)
        self._updated_callbacks_add(emulator_arn, event)
        return emulator_arn

    def _updated_callbacks_add(self, emulator_arn: str, event: dict) -> None:
        """AWS names, in the invocation input's UpdatedOperationIds, the operations completed outside the function
        since its previous invocation (a wait that ended, a callback answered, a chained invoke that finished); the
        emulator names waits and chained invokes but not callbacks. A callback only ever ends outside the function,
        so every ended callback not named before is added (from the input's first page of operations)."""
        operations = (event.get("InitialExecutionState") or {}).get("Operations") or []
        ended = [
            op["Id"]
            for op in operations
            if isinstance(op, dict) and op.get("Type") == "CALLBACK" and op.get("Status") not in (None, "STARTED")
        ]
        if not ended:
            return
        with self.state.lock:
            told = self.state.record(emulator_arn).callbacks_told
            news = [operation_id for operation_id in ended if operation_id not in told]
            told.update(news)
        updated = event.setdefault("UpdatedOperationIds", [])
        updated.extend(operation_id for operation_id in news if operation_id not in updated)

    def start(self, spec: FunctionSpec, qualifier: str | None, body: bytes, execution_name: str | None) -> str:
        """Start a durable execution in the emulator (as Lambda's front door does); its AWS ARN."""
        name = execution_name or str(uuid.uuid4())
        started = time.time()
        request = {
            "AccountId": ACCOUNT_ID,
            "FunctionName": spec.name,
            "FunctionQualifier": qualifier or "$LATEST",
            "ExecutionName": name,
            "ExecutionTimeoutSeconds": spec.execution_timeout,
            "ExecutionRetentionPeriodDays": spec.retention_days,
            "InvocationId": str(uuid.uuid4()),
            "Input": body.decode("utf-8") if body.strip() else "{}",
        }
        try:
            answer = self.emulator.call("POST", "/start-durable-execution", body=request)
        except GatewayError as error:
            if error.status == 409:
                raise GatewayError("DurableExecutionAlreadyStartedException", error.message, 409)
            raise
        emulator_arn = answer["ExecutionArn"]
        # Remember before the emulator's first invocation needs it.
        arn = self.arns.remember(emulator_arn, spec.name, name, qualifier or "$LATEST")
        if self.events is not None:
            fallback = {"DurableExecutionArn": arn, "DurableExecutionName": name, "StartTimestamp": started}
            self.events.started(emulator_arn, arn, fallback)
        return arn
