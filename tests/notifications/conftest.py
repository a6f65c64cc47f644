"""Real receivers for the notifications tests: an SMTP server (aiosmtpd) and an HTTP server, each on a free port.

`smtp_sink` switches Django to the real SMTP backend pointed at the sink; `sink.messages` holds the parsed
`email.message.EmailMessage` objects received (with `sink.envelopes` for the SMTP envelopes).
`http_receiver` records each request (`receiver.requests`: method, path, headers, body bytes) and answers
204, or 500 to the first `receiver.fail_first` requests.
"""

from __future__ import annotations

import email
import email.policy
import logging
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from devstack.services import free_port


class _SinkHandler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.envelopes.append(envelope)
            self.sink.messages.append(message)
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list = field(default_factory=list)
    envelopes: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        """The messages once at least `count` have arrived (an AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} messages, received {len(self.messages)}")

    def to(self, address: str) -> list:
        """The messages whose envelope went to `address`."""
        with self.lock:
            return [m for m, e in zip(self.messages, self.envelopes, strict=True) if address in e.rcpt_tos]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.envelopes.clear()


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on 127.0.0.1 (free port); Django's SMTP backend sends to it."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
    sink = SmtpSink(host="127.0.0.1", port=free_port())
    controller = Controller(_SinkHandler(sink), hostname=sink.host, port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = sink.host
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict
    body: bytes


@dataclass
class HttpReceiver:
    host: str
    port: int
    fail_first: int = 0  # answer 500 to this many requests first
    status: int = 204
    requests: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _seen: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"

    def answer_for_next(self) -> int:
        with self.lock:
            self._seen += 1
            return 500 if self._seen <= self.fail_first else self.status

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} requests, received {len(self.requests)}")


def _handler_for(receiver: HttpReceiver):
    class Handler(BaseHTTPRequestHandler):
        def _record(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with receiver.lock:
                receiver.requests.append(
                    ReceivedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            status = receiver.answer_for_next()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = _record
        do_GET = _record
        do_PUT = _record

        def log_message(self, format, *args):
            pass

    return Handler


@pytest.fixture
def http_receiver():
    """A real HTTP server on 127.0.0.1 (free port) in a thread, recording every request."""
    receiver = HttpReceiver(host="127.0.0.1", port=free_port())
    server = ThreadingHTTPServer((receiver.host, receiver.port), _handler_for(receiver))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="http-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
