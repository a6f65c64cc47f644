"""A real HTTP server on 127.0.0.1 in a thread that records every request: the receiving end of webhooks,
of the push plugin's reports and of the gateway's EventBridge events in the tests.

`receiver.requests` holds (method, path, headers, body bytes); it answers `receiver.status` (204), or 500 to
the first `receiver.fail_first` requests; `receiver.down = True` makes it close connections unanswered
(a console that is down); `hang=True` holds every answer until `receiver.release()` (a console that hangs).
`bodies()` and `events()` read JSON bodies back (the push plugin's batches: {"events": [...]}).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from devstack.services import free_port


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
    down: bool = False
    hang: bool = False
    requests: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Event = field(default_factory=threading.Event)  # set by the first request
    _released: threading.Event = field(default_factory=threading.Event)
    _seen: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/hook"

    def answer_for_next(self) -> int:
        with self.lock:
            self._seen += 1
            return 500 if self._seen <= self.fail_first else self.status

    def release(self) -> None:
        """Answer the held requests, and every later one at once."""
        self.hang = False
        self._released.set()

    def bodies(self) -> list:
        with self.lock:
            return [json.loads(request.body) for request in self.requests]

    def events(self) -> list[dict]:
        return [event for body in self.bodies() for event in body["events"]]

    def wait_for_events(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(received := self.events()) < count:
            assert time.monotonic() < deadline, f"{len(received)} of {count} events arrived"
            time.sleep(0.02)
        return received

    def received(self, path: str | None = None) -> list[ReceivedRequest]:
        with self.lock:
            return [request for request in self.requests if path is None or request.path == path]

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
            if receiver.down:
                self.close_connection = True
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with receiver.lock:
                receiver.requests.append(
                    ReceivedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            receiver.arrived.set()
            if receiver.hang:
                receiver._released.wait(30)
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


@contextlib.contextmanager
def http_receiver_running(**options) -> Iterator[HttpReceiver]:
    """A receiver serving on a free loopback port until the block ends; `options` are HttpReceiver's (status, hang)."""
    receiver = HttpReceiver(host="127.0.0.1", port=free_port(), **options)
    server = ThreadingHTTPServer((receiver.host, receiver.port), _handler_for(receiver))
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, name="http-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
