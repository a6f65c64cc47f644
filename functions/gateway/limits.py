"""What the gateway refuses before doing any work: odd request sizes, foreign Host names, too many connections.

- `Content-Length` must be a non-negative integer of at most 6 MB (Lambda's payload limit); anything else is
  refused at once (400 or 413) without reading the body, and the connection is closed.
- `Host` must name a loopback address (`127.0.0.1`, `localhost`, `[::1]`, any port) or one listed in
  LAMBDA_GATEWAY_ALLOWED_HOSTS: a web page the developer visits cannot reach the gateway by DNS rebinding
  (callback ids are bearer tokens).
- Each connection's socket times out after SOCKET_TIMEOUT_SECONDS; at most LAMBDA_GATEWAY_MAX_THREADS connections
  are served at once, the next ones get 503 with `Retry-After` and are closed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from http.server import ThreadingHTTPServer

from functions.gateway.errors import GatewayError, error_body

logger = logging.getLogger("gateway")

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
SOCKET_TIMEOUT_SECONDS = 30
DEFAULT_MAX_THREADS = 64
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


def content_length(raw: str | None) -> int:
    """The request's body length; GatewayError (400/413) for a negative, non-numeric or too large value."""
    if raw is None or raw == "":
        return 0
    text = raw.strip()
    if not text.isdigit():  # rejects "-1", "1e3", "0x10", " ", "+5"
        raise GatewayError("InvalidRequestContentException", f"Invalid Content-Length: {raw[:40]!r}", 400)
    if len(text) > 12 or int(text) > MAX_PAYLOAD_BYTES:
        raise GatewayError("RequestTooLargeException", f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes", 413)
    return int(text)


def allowed_hosts() -> frozenset[str]:
    extra = {h.strip().lower() for h in os.environ.get("LAMBDA_GATEWAY_ALLOWED_HOSTS", "").split(",") if h.strip()}
    return LOOPBACK_HOSTS | extra


def host_allowed(header: str | None, allowed: frozenset[str]) -> bool:
    """Whether a Host header names an allowed host (any port)."""
    if not header:
        return False
    host = header.strip().lower()
    if host.startswith("["):  # [::1]:3001
        name = host[: host.find("]") + 1] if "]" in host else host
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in allowed


class BoundedThreadingHTTPServer(ThreadingHTTPServer):
    """A thread per connection, at most `max_threads` at once; beyond that, 503 at once (nothing is queued)."""

    daemon_threads = True

    def __init__(self, *args, max_threads: int = DEFAULT_MAX_THREADS, **kwargs):
        self.max_threads = max(1, max_threads)
        self._slots = threading.BoundedSemaphore(self.max_threads)
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):
            self._refuse_busy(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse_busy(self, request) -> None:
        body = error_body("ServiceException", f"gateway busy: {self.max_threads} connections in use", None)
        head = (
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
            f"X-Amzn-ErrorType: ServiceException\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        try:
            request.settimeout(2)
            request.sendall(head.encode() + body)
        except OSError:
            pass
        finally:
            self.shutdown_request(request)
        logger.warning("gateway busy: refused a connection (%s threads)", self.max_threads)


def drop_connection(connection: socket.socket) -> None:
    """Close a connection without answering (a fault: the request was served, the response lost)."""
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
