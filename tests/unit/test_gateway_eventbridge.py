"""The gateway's status events (functions/gateway/eventbridge.py) against a real HTTP receiver on loopback:
the event has the shape AWS documents for `Durable Execution Status Change`, each execution gets one RUNNING
and one end event, and a receiver that is down, slow or refusing never blocks or fails the gateway."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time

import pytest

from devstack.services import free_port
from functions.gateway.eventbridge import StatusEvents, iso_millis, iso_seconds, status_event
from tests.receivers import http_receiver_running

ARN = (
    "arn:aws:lambda:us-east-1:123456789012:function:OrderApproval:$LATEST"
    "/durable-execution/order-123/9f7d84c9-ea3d-3ffc-b3e5-5ec51c34ffc9"
)
EMULATOR_ARN = "090c4189-b18b-4296-9d0c-cfd01dc3a122/9f7d84c9-ea3d-3ffc-b3e5-5ec51c34ffc9"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:OrderApproval:$LATEST"
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def receiver():
    with http_receiver_running() as server:
        yield server


def _url(receiver) -> str:
    return f"{receiver.base_url}/ingest/eventbridge"


def _received(receiver) -> list[dict]:
    return [json.loads(request.body) for request in receiver.received()]


class Emulator:
    """Stands in for the gateway's describe: the emulator's record of one execution, as served (AWS ARN)."""

    def __init__(self, **fields):
        self.item = {
            "DurableExecutionArn": ARN,
            "DurableExecutionName": "order-123",
            "FunctionArn": FUNCTION_ARN,
            "Status": "RUNNING",
            "StartTimestamp": time.time(),
            **fields,
        }
        self.calls = 0
        self.script: list[dict] = []  # answers to give before `item` (e.g. still RUNNING)

    def describe(self, emulator_arn: str) -> dict | None:
        assert emulator_arn == EMULATOR_ARN
        self.calls += 1
        if self.script:
            return dict(self.script.pop(0))
        return dict(self.item) if self.item else None

    def end(self, status: str, at: float | None = None):
        self.item = {**self.item, "Status": status, "EndTimestamp": at or time.time()}


def _events(url: str, emulator: Emulator, **kwargs) -> StatusEvents:
    kwargs.setdefault("end_check_delays", (0.02, 0.05, 0.1))
    kwargs.setdefault("backoff", (0.01, 0.02))
    return StatusEvents(url, "s3cret-token", describe=emulator.describe, **kwargs)


def test_the_event_has_the_shape_aws_documents(receiver):
    emulator = Emulator(StartTimestamp=1763644102.345)  # 2025-11-20T13:08:22.345Z
    events = _events(_url(receiver), emulator)
    events.since = 0  # the execution started "after" this gateway did
    try:
        events.started(EMULATOR_ARN, ARN, fallback={})
        assert events.drain()
    finally:
        events.close()
    (request,) = receiver.received()
    assert (request.method, request.path) == ("POST", "/ingest/eventbridge")
    assert request.headers["authorization"] == "Bearer s3cret-token"
    assert request.headers["content-type"].startswith("application/json")
    event = json.loads(request.body)
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert UUID.match(event["id"]), event["id"]
    assert event["version"] == "0"
    assert event["detail-type"] == "Durable Execution Status Change"
    assert event["source"] == "aws.lambda"
    assert event["account"] == "123456789012"
    assert event["region"] == "us-east-1"
    assert event["time"] == "2025-11-20T13:08:22Z"
    assert event["resources"] == []  # as in AWS's documented example
    assert event["detail"] == {
        "durableExecutionArn": ARN,
        "durableExecutionName": "order-123",
        "functionArn": FUNCTION_ARN,
        "status": "RUNNING",
        "startTimestamp": "2025-11-20T13:08:22.345Z",
    }


def test_an_end_event_carries_the_end_time_and_a_fresh_id():
    started, ended = 1763644102.345, 1763644163.9
    item = {"DurableExecutionArn": ARN, "FunctionArn": FUNCTION_ARN, "StartTimestamp": started, "EndTimestamp": ended}
    first, second = status_event(item, "TIMED_OUT"), status_event(item, "TIMED_OUT")
    assert first["id"] != second["id"]
    assert first["time"] == "2025-11-20T13:09:23Z"
    assert first["detail"]["status"] == "TIMED_OUT"
    assert first["detail"]["startTimestamp"] == "2025-11-20T13:08:22.345Z"
    assert first["detail"]["endTimestamp"] == "2025-11-20T13:09:23.900Z"
    assert first["detail"]["durableExecutionName"] == "order-123"  # from the ARN when the item has none
    # ISO 8601 strings (as an AWS answer parsed elsewhere would carry) are read too.
    iso = status_event({**item, "StartTimestamp": "2025-11-20T13:08:22.345Z"}, "RUNNING")
    assert iso["detail"]["startTimestamp"] == "2025-11-20T13:08:22.345Z"
    assert ISO_MILLIS.match(iso_millis(time.time())) and ISO_SECONDS.match(iso_seconds(time.time()))


def test_a_function_arn_that_is_not_aws_shaped_is_rebuilt_from_the_execution_arn():
    item = {"DurableExecutionArn": ARN, "FunctionArn": "OrderApproval", "StartTimestamp": 1.0}
    assert status_event(item, "RUNNING")["detail"]["functionArn"] == FUNCTION_ARN
    with pytest.raises(ValueError):
        status_event({"DurableExecutionArn": EMULATOR_ARN}, "RUNNING")


def test_each_execution_gets_one_running_and_one_end_event_in_that_order(receiver):
    emulator = Emulator()
    events = _events(_url(receiver), emulator)
    try:
        events.started(EMULATOR_ARN, ARN, fallback={})
        events.invoked(EMULATOR_ARN, ARN)  # the emulator's first invocation: already known
        assert events.drain()
        emulator.end("SUCCEEDED")
        for _ in range(3):  # the last invocation, a replayed end, the console listing and getting it
            events.ended(EMULATOR_ARN, ARN)
            events.observed(dict(emulator.item))
        assert events.drain()
        # A later stop of the ended execution (the emulator answers 200) and a different end status seen
        # afterwards report nothing more: an execution ends once.
        events.ended(EMULATOR_ARN, ARN)
        events.observed({**emulator.item, "Status": "STOPPED"})
        assert events.drain()
    finally:
        events.close()
    statuses = [event["detail"]["status"] for event in _received(receiver)]
    assert statuses == ["RUNNING", "SUCCEEDED"]
    running, succeeded = _received(receiver)
    assert "endTimestamp" not in running["detail"] and "endTimestamp" in succeeded["detail"]
    assert running["detail"]["startTimestamp"] == succeeded["detail"]["startTimestamp"]
    assert len({event["id"] for event in _received(receiver)}) == 2
    assert events.stats["sent"] == 2


def test_an_end_is_reported_once_the_emulator_records_it(receiver):
    """The last invocation returns before the emulator records the end: the gateway asks again."""
    emulator = Emulator(StartTimestamp=time.time() - 60)  # started before this gateway: no RUNNING from it
    events = _events(_url(receiver), emulator)
    emulator.end("FAILED")
    emulator.script = [{**emulator.item, "Status": "RUNNING", "EndTimestamp": None}] * 2
    try:
        events.ended(EMULATOR_ARN, ARN)
        assert events.drain()
    finally:
        events.close()
    assert [event["detail"]["status"] for event in _received(receiver)] == ["FAILED"]
    assert emulator.calls == 3


def test_an_end_that_never_shows_is_given_up(receiver):
    emulator = Emulator(StartTimestamp=time.time() - 60)
    events = _events(_url(receiver), emulator, end_check_delays=(0.01, 0.01))
    try:
        events.ended(EMULATOR_ARN, ARN)
        assert events.drain(timeout=5)
    finally:
        events.close()
    assert receiver.received() == [] and emulator.calls == 3


def test_observed_records_report_only_what_happened_since_the_gateway_started(receiver):
    events = _events(_url(receiver), Emulator())
    now = time.time()
    old = {"DurableExecutionArn": ARN, "FunctionArn": FUNCTION_ARN, "StartTimestamp": now - 600}
    try:
        # Ended before the gateway started: AWS reported it then; nothing now, and nothing remembered.
        events.observed({**old, "Status": "SUCCEEDED", "EndTimestamp": now - 300})
        events.observed({**old, "Status": "RUNNING"})
        assert events.drain()
        assert receiver.received() == [] and not events._tracks
        # Timed out in the emulator since: the end only (its start was reported before).
        events.observed({**old, "Status": "TIMED_OUT", "EndTimestamp": now + 1})
        # Started since, elsewhere (a chained invoke, another gateway): RUNNING when first seen.
        other = ARN.replace("9f7d84c9", "1f7d84c9")
        events.observed({**old, "DurableExecutionArn": other, "Status": "RUNNING", "StartTimestamp": now + 1})
        assert events.drain()
    finally:
        events.close()
    assert [(e["detail"]["durableExecutionArn"], e["detail"]["status"]) for e in _received(receiver)] == [
        (ARN, "TIMED_OUT"),
        (other, "RUNNING"),
    ]


def test_a_start_is_reported_even_when_the_emulator_cannot_be_asked(receiver):
    emulator = Emulator()
    emulator.item = None
    events = _events(_url(receiver), emulator)
    started = time.time()
    fallback = {"DurableExecutionArn": ARN, "DurableExecutionName": "order-123", "StartTimestamp": started}
    try:
        events.started(EMULATOR_ARN, ARN, fallback=fallback)
        assert events.drain()
    finally:
        events.close()
    (event,) = _received(receiver)
    assert event["detail"]["status"] == "RUNNING"
    assert event["detail"]["startTimestamp"] == iso_millis(started)
    assert event["detail"]["functionArn"] == FUNCTION_ARN


def test_a_failing_receiver_is_retried_a_couple_of_times(receiver):
    receiver.fail_first = 2
    events = _events(_url(receiver), Emulator())
    try:
        events.started(EMULATOR_ARN, ARN, fallback={})
        assert events.drain()
    finally:
        events.close()
    assert len(receiver.received()) == 3 and events.stats == {"sent": 1, "failed": 0, "dropped": 0}


def test_a_refused_event_is_not_sent_again(receiver):
    receiver.status = 401
    events = _events(_url(receiver), Emulator())
    try:
        events.started(EMULATOR_ARN, ARN, fallback={})
        assert events.drain()
    finally:
        events.close()
    assert len(receiver.received()) == 1 and events.stats["failed"] == 1


def test_a_receiver_that_is_down_costs_the_gateway_nothing(receiver):
    receiver.down = True  # closes every connection unanswered
    emulator = Emulator()
    nobody = f"http://127.0.0.1:{free_port()}/ingest/eventbridge"  # nothing listens
    for url in (_url(receiver), nobody):
        events = _events(url, emulator)
        try:
            began = time.monotonic()
            events.started(EMULATOR_ARN, ARN, fallback={})
            emulator.end("STOPPED")
            events.ended(EMULATOR_ARN, ARN)
            assert time.monotonic() - began < 0.05  # the request threads only queue
            assert events.drain()
        finally:
            events.close()
        assert events.stats["sent"] == 0 and events.stats["failed"] == 2, url  # RUNNING and STOPPED, each lost


@contextlib.contextmanager
def _hanging_receiver():
    """Accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/ingest/eventbridge"


def test_a_receiver_that_hangs_fills_the_bounded_queue_and_the_rest_is_dropped():
    emulator = Emulator(StartTimestamp=time.time() + 1)
    with _hanging_receiver() as url:
        events = StatusEvents(url, "", describe=emulator.describe, queue_size=3, timeout=0.2, retries=0)
        try:
            began = time.monotonic()
            for index in range(20):
                arn = ARN.replace("order-123", f"order-{index}")
                events.observed({**emulator.item, "DurableExecutionArn": arn})
            assert time.monotonic() - began < 0.2
            assert events.drain(timeout=10)
        finally:
            events.close()
    assert events.stats["dropped"] >= 10
    assert events.stats["sent"] == 0 and events.stats["failed"] + events.stats["dropped"] == 20


def test_without_a_token_no_authorization_header_is_sent(receiver):
    events = StatusEvents(_url(receiver), "", describe=Emulator().describe)
    try:
        events.started(EMULATOR_ARN, ARN, fallback={})
        assert events.drain()
    finally:
        events.close()
    (request,) = receiver.received()
    assert "authorization" not in request.headers


def test_without_a_url_nothing_runs():
    events = StatusEvents("", "token", describe=lambda arn: pytest.fail("describes nothing"))
    events.started(EMULATOR_ARN, ARN, fallback={})
    events.ended(EMULATOR_ARN, ARN)
    events.observed({"DurableExecutionArn": ARN, "Status": "SUCCEEDED", "EndTimestamp": time.time() + 5})
    assert not events.enabled and events._thread is None and events.snapshot()["enabled"] is False
    with pytest.raises(ValueError):
        StatusEvents("ftp://example.com/x", "", describe=lambda arn: None)
