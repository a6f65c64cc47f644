"""The clients a decision uses: one attempt is one attempt; the interactive bounds; what proves nothing was sent."""

from __future__ import annotations

import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from core.aws import aws_client, aws_clients_reset, aws_interactive, aws_interactive_active, aws_request_never_sent


@pytest.fixture(autouse=True)
def _clients(settings):
    settings.LAMBDA_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.AWS_LOCAL_CREDENTIALS = True
    aws_clients_reset()
    yield
    aws_clients_reset()


def _retries(client) -> dict:
    return client.meta.config.retries


def test_max_attempts_one_is_one_request_in_total():
    """botocore's `max_attempts` counts retries (1 meant two requests): the factory passes total attempts."""
    assert _retries(aws_client("lambda", max_attempts=1))["total_max_attempts"] == 1
    assert _retries(aws_client("lambda", max_attempts=3))["total_max_attempts"] == 3


def test_interactive_calls_make_one_attempt_with_short_timeouts(settings):
    settings.AWS_INTERACTIVE_TIMEOUT_SECONDS = 5
    settings.AWS_READ_TIMEOUT, settings.AWS_CONNECT_TIMEOUT, settings.AWS_MAX_ATTEMPTS = 60, 10, 5
    background = aws_client("lambda")
    assert not aws_interactive_active()
    with aws_interactive():
        assert aws_interactive_active()
        client = aws_client("lambda")
    assert _retries(client)["total_max_attempts"] == 1
    assert client.meta.config.connect_timeout + client.meta.config.read_timeout <= 5
    assert _retries(background)["total_max_attempts"] == 5 and background.meta.config.read_timeout == 60


def test_interactive_is_also_a_decorator_that_restores_the_bounds():
    @aws_interactive()
    def page():
        return aws_interactive_active()

    assert page() is True
    assert aws_interactive_active() is False


def test_only_a_connection_never_made_proves_nothing_was_sent():
    assert aws_request_never_sent(EndpointConnectionError(endpoint_url="http://x"))
    assert aws_request_never_sent(ConnectTimeoutError(endpoint_url="http://x"))
    wrapped = RuntimeError("Lambda endpoint unreachable")
    wrapped.__cause__ = EndpointConnectionError(endpoint_url="http://x")
    assert aws_request_never_sent(wrapped)
    assert not aws_request_never_sent(ReadTimeoutError(endpoint_url="http://x"))
    assert not aws_request_never_sent(RuntimeError("500"))
