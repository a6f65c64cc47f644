"""The one place that builds boto3 clients.

Every gateway (approvals/orders_table.py, executions/durable_api.py) gets its
client here, so retries, timeouts, endpoints and credentials are configured
once. Clients are cached per process: boto3 clients are thread-safe, and
building one costs milliseconds.

A person waiting on a page must not wait on a hung service: inside `aws_interactive()` (a context manager and a
decorator) every client is built with one attempt and short connect/read timeouts that fit in
AWS_INTERACTIVE_TIMEOUT_SECONDS, whatever the gateway asks for; background work (sync, reconciler,
notifications) runs outside it and keeps the longer AWS_* timeouts and botocore's retries.
"""

from __future__ import annotations

from contextlib import ContextDecorator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

import boto3
from botocore.config import Config
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError
from django.conf import settings


@dataclass(frozen=True)
class _Bounds:
    max_attempts: int
    connect_timeout: float
    read_timeout: float


_bounds: ContextVar[_Bounds | None] = ContextVar("aws_interactive_bounds", default=None)


class aws_interactive(ContextDecorator):
    """Bound every AWS call made inside for a person who is waiting (one attempt, short timeouts).

    One call answers (or fails) within AWS_INTERACTIVE_TIMEOUT_SECONDS: 30 % of it to connect, 60 % to read
    (the rest is for the page itself).
    """

    def _recreate_cm(self):  # a fresh token holder per decorated call (threads share the decorator)
        return type(self)()

    def __enter__(self):
        total = max(1.0, float(settings.AWS_INTERACTIVE_TIMEOUT_SECONDS))
        self._token = _bounds.set(_Bounds(max_attempts=1, connect_timeout=total * 0.3, read_timeout=total * 0.6))
        return self

    def __exit__(self, *exc):
        _bounds.reset(self._token)
        return False


def aws_interactive_active() -> bool:
    """Whether calls made now are bounded for a waiting person."""
    return _bounds.get() is not None


def aws_request_never_sent(error: BaseException) -> bool:
    """Whether `error` (or what caused it) proves the request never reached the service (no connection was made).

    Refused and timed-out connections are unambiguous: nothing was sent. A read timeout, a reset connection or a
    5xx are not: the service may have acted on the request.
    """
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _endpoint_for(service: str) -> str | None:
    return {
        "dynamodb": settings.DYNAMODB_ENDPOINT_URL,
        "lambda": settings.LAMBDA_ENDPOINT_URL,
    }.get(service)


@lru_cache(maxsize=16)
def _cached_client(
    service: str,
    endpoint_url: str | None,
    region: str,
    local: bool,
    max_attempts: int,
    connect_timeout: float,
    read_timeout: float,
):
    config = Config(
        # total_max_attempts counts the first request; botocore's `max_attempts` counts retries only (1 = 2 tries)
        retries={"mode": "standard", "total_max_attempts": max(1, max_attempts)},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=50,
    )
    kwargs = {"region_name": region, "config": config}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    if local:
        kwargs.update(aws_access_key_id="local", aws_secret_access_key="local")
    return boto3.session.Session().client(service, **kwargs)


def aws_client(service: str, *, max_attempts: int | None = None, read_timeout: float | None = None):
    """A cached boto3 client for `service` ("dynamodb" or "lambda").

    `max_attempts` counts every request, the first included: `max_attempts=1` turns botocore's own retries off
    (the caller's loop decides). Inside `aws_interactive()`
    attempts and timeouts are capped to the interactive bounds.
    """
    attempts = max_attempts if max_attempts is not None else settings.AWS_MAX_ATTEMPTS
    connect = settings.AWS_CONNECT_TIMEOUT
    read = read_timeout if read_timeout is not None else settings.AWS_READ_TIMEOUT
    bounds = _bounds.get()
    if bounds is not None:
        attempts = min(attempts, bounds.max_attempts)
        connect = min(connect, bounds.connect_timeout)
        read = min(read, bounds.read_timeout)
    return _cached_client(
        service,
        _endpoint_for(service),
        settings.AWS_REGION,
        settings.AWS_LOCAL_CREDENTIALS,
        attempts,
        connect,
        read,
    )


def aws_endpoint_label(service: str) -> str:
    """Human-readable endpoint for error messages ("AWS" when using the real service)."""
    return _endpoint_for(service) or f"AWS {service} ({settings.AWS_REGION})"


def aws_clients_reset() -> None:
    """Forget cached clients (tests change endpoints between sessions)."""
    _cached_client.cache_clear()
