"""The one place that builds boto3 clients.

Every gateway (approvals/orders_table.py, executions/durable_api.py) gets its
client here, so retries, timeouts, endpoints and credentials are configured
once. Clients are cached per process: boto3 clients are thread-safe, and
building one costs milliseconds.
"""

from functools import lru_cache

import boto3
from botocore.config import Config
from django.conf import settings


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
        retries={"mode": "standard", "max_attempts": max_attempts},
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
    """A cached boto3 client for `service` ("dynamodb" or "lambda")."""
    return _cached_client(
        service,
        _endpoint_for(service),
        settings.AWS_REGION,
        settings.AWS_LOCAL_CREDENTIALS,
        max_attempts if max_attempts is not None else settings.AWS_MAX_ATTEMPTS,
        settings.AWS_CONNECT_TIMEOUT,
        read_timeout if read_timeout is not None else settings.AWS_READ_TIMEOUT,
    )


def aws_endpoint_label(service: str) -> str:
    """Human-readable endpoint for error messages ("AWS" when using the real service)."""
    return _endpoint_for(service) or f"AWS {service} ({settings.AWS_REGION})"


def aws_clients_reset() -> None:
    """Forget cached clients (tests change endpoints between sessions)."""
    _cached_client.cache_clear()
