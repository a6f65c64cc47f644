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

import pytest
from aiosmtpd.controller import Controller

from devstack.services import free_port
from tests.receivers import http_receiver_running


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


@pytest.fixture
def http_receiver():
    """A real HTTP server on 127.0.0.1 (free port) in a thread, recording every request."""
    with http_receiver_running() as receiver:
        yield receiver
