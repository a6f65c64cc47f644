"""Gateway to the Lambda durable-execution APIs (and Invoke). Nothing else imports boto3 for Lambda.

Every call goes through `_call`, which maps botocore errors onto domain
exceptions. Execution ARNs and callback ids are opaque strings.

Error codes are the ones botocore's `lambda` model declares: a callback that is no longer open
answers `CallbackTimeoutException` (400); an unknown execution or function `ResourceNotFoundException`
(404); pause, resume or delete in a state that does not allow it `ResourceConflictException` (409).

Over 300 lines on purpose: it is the one gateway to one external system (every Lambda operation, its error
mapping and its result dataclasses in one place, as the design asks), not several jobs.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from core.aws import aws_client, aws_endpoint_label
from core.counters import API_CALLS, API_ERRORS, API_THROTTLES, counter_incr
from executions.governor import governor_acquire, governor_throttled

logger = logging.getLogger(__name__)

THROTTLING_CODES = {"TooManyRequestsException", "ThrottlingException", "Throttling", "429"}
NOT_FOUND_CODES = {"ResourceNotFoundException"}
CALLBACK_CLOSED_CODES = {"CallbackTimeoutException"}
CONFLICT_CODES = {"ResourceConflictException"}


class DurableApiError(Exception):
    """A durable-execution API call failed."""

    def __init__(self, message: str, *, code: str = "", operation: str = ""):
        super().__init__(message)
        self.code = code
        self.operation = operation


class DurableApiUnavailable(DurableApiError):
    """The Lambda endpoint could not be reached or answered 5xx (transient)."""


class Throttled(DurableApiError):
    """TooManyRequestsException: slow down and try again later (transient)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class CallbackClosed(DurableApiError):
    """The callback is no longer open (timed out, already answered, or unknown)."""


class ExecutionNotFound(DurableApiError):
    """The execution does not exist (or its history has expired)."""


class ExecutionAlreadyFinished(DurableApiError):
    """The execution is not running any more."""


TRANSIENT_ERRORS = (DurableApiUnavailable, Throttled)


def _error_code(error: ClientError) -> str:
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code


def _retry_after(error: ClientError) -> float | None:
    headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _translate(error: Exception, operation: str) -> DurableApiError:
    translated = _domain_error(error, operation)
    if isinstance(translated, Throttled):
        counter_incr(API_THROTTLES, operation=operation)
    else:
        counter_incr(API_ERRORS, operation=operation, code=translated.code or "unknown")
    return translated


def _domain_error(error: Exception, operation: str) -> DurableApiError:
    if isinstance(error, BotoCoreError):
        return DurableApiUnavailable(
            f"Lambda endpoint {aws_endpoint_label('lambda')} unreachable: {error}", operation=operation
        )
    assert isinstance(error, ClientError)
    code = _error_code(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    message = error.response.get("Error", {}).get("Message") or str(error)
    if code in THROTTLING_CODES or status == 429:
        return Throttled(message, code=code, operation=operation, retry_after=_retry_after(error))
    if status >= 500 or code in {"ServiceException", "ServiceUnavailableException"}:
        return DurableApiUnavailable(message, code=code, operation=operation)
    return DurableApiError(message, code=code or str(status), operation=operation)


def _lambda(*, reads: bool = False):
    # Poller reads make one attempt each: retries go back through the governor
    # (and the task's backoff) instead of botocore's own retry loop.
    return aws_client("lambda", max_attempts=1) if reads else aws_client("lambda")


_call_counter = itertools.count()
_calls_made = 0


def api_calls_made() -> int:
    """Durable-API calls made by this process so far (sync reports use differences)."""
    return _calls_made


def _before_call(operation: str) -> None:
    global _calls_made
    governor_acquire()  # waits for the rate governor; may raise
    _calls_made = next(_call_counter) + 1
    counter_incr(API_CALLS, operation=operation)


def _raise_translated(error: Exception, operation: str):
    translated = _translate(error, operation)
    if isinstance(translated, Throttled):
        governor_throttled(retry_after=translated.retry_after)
    raise translated from error


def _call(operation: str, *, _reads: bool = False, **kwargs):
    """Call one Lambda API operation (snake_case name) with domain errors, within the API budget."""
    method = getattr(_lambda(reads=_reads), operation)
    _before_call(operation)
    try:
        return method(**kwargs)
    except (ClientError, BotoCoreError) as error:
        _raise_translated(error, operation)


# --- starting executions -------------------------------------------------------


def execution_start(*, function_name: str, payload: dict, execution_name: str | None = None) -> str:
    """Start a durable execution with an asynchronous Invoke; return its ARN."""
    kwargs = {"FunctionName": function_name, "InvocationType": "Event", "Payload": json.dumps(payload).encode()}
    if execution_name:
        kwargs["DurableExecutionName"] = execution_name
    response = _call("invoke", **kwargs)
    arn = response.get("DurableExecutionArn")
    if not arn:
        raise DurableApiError(
            f"{function_name} is not a durable function: Invoke returned no execution ARN", operation="invoke"
        )
    return arn


# --- callbacks and stop ----------------------------------------------------------


def _callback_call(operation: str, **kwargs):
    try:
        return _call(operation, **kwargs)
    except DurableApiError as error:
        if error.code in CALLBACK_CLOSED_CODES:
            raise CallbackClosed(
                "the callback is no longer open (timed out or already answered)", code=error.code, operation=operation
            ) from error
        raise


def callback_succeed(*, callback_id: str, result: dict) -> None:
    _callback_call(
        "send_durable_execution_callback_success", CallbackId=callback_id, Result=json.dumps(result).encode()
    )


def callback_fail(*, callback_id: str, error_type: str, message: str, data: str | None = None) -> None:
    error = {"ErrorType": error_type[:256], "ErrorMessage": message[:4096]}
    if data:
        error["ErrorData"] = data
    _callback_call("send_durable_execution_callback_failure", CallbackId=callback_id, Error=error)


def callback_heartbeat(*, callback_id: str) -> None:
    _callback_call("send_durable_execution_callback_heartbeat", CallbackId=callback_id)


def execution_stop(*, execution_arn: str, error_type: str, message: str) -> None:
    try:
        _call(
            "stop_durable_execution",
            DurableExecutionArn=execution_arn,
            Error={"ErrorType": error_type[:256], "ErrorMessage": message[:4096]},
        )
    except DurableApiError as error:
        if error.code in NOT_FOUND_CODES:
            raise ExecutionNotFound(
                "the execution was not found", code=error.code, operation="stop_durable_execution"
            ) from error
        if error.code in {"InvalidParameterValueException", *CONFLICT_CODES}:
            raise ExecutionAlreadyFinished(str(error), code=error.code, operation="stop_durable_execution") from error
        raise


# --- reads -------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecutionSummary:
    arn: str
    name: str
    function_arn: str
    status: str
    start: object
    end: object

    @classmethod
    def from_api(cls, item: dict, **extra):
        return cls(
            arn=item["DurableExecutionArn"],
            name=item.get("DurableExecutionName", ""),
            function_arn=item.get("FunctionArn", ""),
            status=item.get("Status", ""),
            start=item.get("StartTimestamp"),
            end=item.get("EndTimestamp"),
            **extra,
        )


@dataclass(frozen=True)
class ExecutionDescription(ExecutionSummary):
    input_payload: str | None
    result: str | None
    error: dict | None
    version: str | None
    durable_config: dict | None = None  # {"ExecutionTimeout": s, "RetentionPeriodInDays": d, "KMSKeyArn"?}
    pause_details: dict | None = None  # {"PauseRequestTimestamp", "Reason"?, "ExecutionTimeoutPaused"}
    expected_timeout: object = None  # ExpectedExecutionTimeoutTimestamp (a datetime), when AWS gives it


def execution_describe(*, execution_arn: str) -> ExecutionDescription:
    try:
        r = _call("get_durable_execution", _reads=True, DurableExecutionArn=execution_arn, IncludeExecutionData=True)
    except DurableApiError as error:
        if error.code in NOT_FOUND_CODES:
            raise ExecutionNotFound(str(error), code=error.code, operation="get_durable_execution") from error
        raise
    return ExecutionDescription.from_api(
        r,
        input_payload=r.get("InputPayload"),
        result=r.get("Result"),
        error=r.get("Error"),
        version=r.get("Version"),
        durable_config=r.get("DurableConfig"),
        pause_details=r.get("PauseDetails"),
        expected_timeout=r.get("ExpectedExecutionTimeoutTimestamp"),
    )


# --- pause, resume, delete ------------------------------------------------------------------


def _execution_admin_call(operation: str, **kwargs):
    """Pause, resume or delete: not found and conflicts (a state that does not allow it) as domain errors."""
    try:
        return _call(operation, **kwargs)
    except DurableApiError as error:
        if error.code in NOT_FOUND_CODES:
            raise ExecutionNotFound("the execution was not found", code=error.code, operation=operation) from error
        if error.code in CONFLICT_CODES:
            raise ExecutionStateConflict(str(error), code=error.code, operation=operation) from error
        raise


def execution_pause(*, execution_arn: str, reason: str, client_token: str, timeout_paused: bool = True) -> None:
    """PauseDurableExecution. `timeout_paused` (AWS's default) extends the execution timeout while paused."""
    _execution_admin_call(
        "pause_durable_execution",
        DurableExecutionArn=execution_arn,
        ClientToken=client_token[:64],
        Reason=reason[:1024],
        ExecutionTimeoutPaused=timeout_paused,
    )


def execution_resume(*, execution_arn: str, reason: str, client_token: str) -> None:
    _execution_admin_call(
        "resume_durable_execution",
        DurableExecutionArn=execution_arn,
        ClientToken=client_token[:64],
        Reason=reason[:1024],
    )


def execution_delete(*, execution_arn: str) -> None:
    """DeleteDurableExecution (terminal executions only: ResourceConflictException otherwise)."""
    _execution_admin_call("delete_durable_execution", DurableExecutionArn=execution_arn)


class ExecutionStateConflict(DurableApiError):
    """ResourceConflictException: the execution's state does not allow this (pause a finished one, ...)."""


def lambda_endpoint_ping(*, function_name: str | None = None) -> None:
    """Raise DurableApiError unless the Lambda endpoint answers a cheap read."""
    client = aws_client("lambda", max_attempts=1, read_timeout=3)
    _before_call("list_durable_executions_by_function")
    try:
        client.list_durable_executions_by_function(
            FunctionName=function_name or settings.ORDER_APPROVAL_FUNCTION, MaxItems=1
        )
    except (ClientError, BotoCoreError) as error:
        raise _translate(error, "list_durable_executions_by_function") from error


# --- paginated reads for the poller -------------------------------------------------------


@dataclass(frozen=True)
class HistoryPage:
    events: list[dict]
    marker: str | None  # the marker this page was fetched with (None: from the start)
    next_marker: str | None
    request_id: str = ""
    extra: dict = field(default_factory=dict)


def _pages(operation: str, page_size: int, starting_token: str | None, **kwargs) -> Iterator[dict]:
    """A boto3 paginator, one governed call per page; stops without a call after the last page."""
    config = {"PageSize": page_size}
    if starting_token:
        config["StartingToken"] = starting_token
    iterator = iter(_lambda(reads=True).get_paginator(operation).paginate(**kwargs, PaginationConfig=config))
    while True:
        _before_call(operation)
        try:
            page = next(iterator)
        except StopIteration:
            return
        except (ClientError, BotoCoreError) as error:
            _raise_translated(error, operation)
        yield page
        if not page.get("NextMarker"):
            return


def executions_list_pages(
    *, function_name: str, qualifier: str = "", page_size: int = 100, started_after=None
) -> Iterator[list[ExecutionSummary]]:
    """The function's executions, newest first (AWS's default order), one page (one API call) at a time.

    `started_after` (a datetime) makes the server return only executions started after it.
    """
    kwargs = {"FunctionName": function_name}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    if started_after is not None:
        kwargs["StartedAfter"] = started_after
    try:
        for page in _pages("list_durable_executions_by_function", page_size, None, **kwargs):
            yield [ExecutionSummary.from_api(item) for item in page.get("DurableExecutions", [])]
    except DurableApiError as error:
        if error.code in NOT_FOUND_CODES and not isinstance(error, TRANSIENT_ERRORS):
            raise FunctionNotFound(str(error), code=error.code, operation=error.operation) from error
        raise


class FunctionNotFound(DurableApiError):
    """The monitored function does not exist (or is not durable)."""


class MarkerExpired(DurableApiError):
    """The stored history marker is no longer accepted (markers expire after 24 h)."""


def execution_history_pages(
    *, execution_arn: str, marker: str | None = None, page_size: int = 1000
) -> Iterator[HistoryPage]:
    """The execution's history from `marker` (or the start), oldest first, one page per call."""
    current = marker or None
    try:
        for page in _pages(
            "get_durable_execution_history",
            page_size,
            current,
            DurableExecutionArn=execution_arn,
            IncludeExecutionData=True,
        ):
            next_marker = page.get("NextMarker") or None
            yield HistoryPage(
                events=page.get("Events", []),
                marker=current,
                next_marker=next_marker,
                request_id=page.get("ResponseMetadata", {}).get("RequestId", ""),
            )
            current = next_marker
    except DurableApiError as error:
        if isinstance(error, TRANSIENT_ERRORS):
            raise
        if current and error.code == "InvalidParameterValueException":
            raise MarkerExpired(str(error), code=error.code, operation=error.operation) from error
        if error.code in NOT_FOUND_CODES:
            raise ExecutionNotFound(str(error), code=error.code, operation=error.operation) from error
        raise
