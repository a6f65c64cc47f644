"""What the gateway refuses before doing any work, tried with raw sockets (functions/gateway/limits.py).

The gateway runs in-process on a free port (no emulator behind it: nothing here reaches one)."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest

from functions.gateway.limits import SOCKET_TIMEOUT_SECONDS
from functions.gateway.server import Gateway, GatewayHandler, serve


@pytest.fixture
def gateway():
    server = serve("127.0.0.1", 0, Gateway({}, "http://127.0.0.1:9", "us-east-1"), max_threads=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _raw(server, request: bytes, timeout: float = 3.0) -> bytes:
    with socket.create_connection(server.server_address, timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.mark.parametrize(
    ("length", "status"),
    [("-1", b"400"), ("abc", b"400"), ("1e3", b"400"), (" 12x", b"400"), (str(6 * 1024 * 1024 + 1), b"413"),
     ("9" * 40, b"413")],
)  # fmt: skip
def test_bad_content_length_is_refused_at_once_without_reading_the_body(gateway, length, status):
    started = time.monotonic()
    answer = _raw(
        gateway, f"POST /_gateway/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n\r\n".encode()
    )
    assert answer.split(b" ", 2)[1] == status, answer[:200]
    assert time.monotonic() - started < 2  # the (absent) body was never waited for; the connection is closed


def test_a_payload_of_exactly_the_limit_is_accepted_as_a_length():
    from functions.gateway.limits import MAX_PAYLOAD_BYTES, content_length

    assert content_length(str(MAX_PAYLOAD_BYTES)) == MAX_PAYLOAD_BYTES
    assert content_length(None) == content_length("") == 0


@pytest.mark.parametrize(
    ("host", "allowed"),
    [("127.0.0.1", True), ("127.0.0.1:3001", True), ("localhost:3001", True), ("LOCALHOST", True),
     ("[::1]:3001", True), ("evil.example", False), ("evil.example:3001", False), ("127.0.0.1.evil.example", False),
     ("localhost.evil.example:80", False), ("", False)],
)  # fmt: skip
def test_only_loopback_host_names_are_served(gateway, host, allowed):
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends `Host: evil.example`."""
    connection = http.client.HTTPConnection(*gateway.server_address, timeout=3)
    connection.putrequest("GET", "/health", skip_host=True)
    if host:
        connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()
    assert (response.status == 200) is allowed, (host, response.status)
    if not allowed:
        assert response.status == 403 and b"Host not allowed" in response.read()


def test_sockets_time_out(gateway, monkeypatch):
    assert GatewayHandler.timeout == SOCKET_TIMEOUT_SECONDS == 30
    monkeypatch.setattr(gateway.RequestHandlerClass, "timeout", 1)  # the same mechanism, quicker
    with socket.create_connection(gateway.server_address, timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finishes its headers
        started = time.monotonic()
        assert sock.recv(1024) == b""  # closed by the gateway
        assert time.monotonic() - started < 5


def test_connections_beyond_the_thread_bound_get_503_at_once(gateway):
    holders = [socket.create_connection(gateway.server_address, timeout=10) for _ in range(2)]
    try:
        for sock in holders:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # each holds one of the 2 threads
        time.sleep(0.3)
        started = time.monotonic()
        answer = _raw(gateway, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
        assert b"Retry-After: 1" in answer and time.monotonic() - started < 2
    finally:
        for sock in holders:
            sock.close()
    time.sleep(0.3)
    assert _raw(gateway, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").startswith(
        b"HTTP/1.1 200"
    )
