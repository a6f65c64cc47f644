"""durable_console_push.sender against a real HTTP receiver on loopback: batches, the bearer token, the flush
bound when the console hangs or is down, retries, the queue bound, concurrency, a dead thread and a fork."""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import datetime

import pytest
from aws_durable_execution_sdk_python.lambda_service import OperationStatus
from aws_durable_execution_sdk_python.plugin import (
    InvocationEndInfo,
    InvocationStatus,
    OperationChangeInfo,
    OperationStartInfo,
    UserFunctionEndInfo,
    UserFunctionStartInfo,
)
from durable_console_push import ConsolePushFactory
from durable_console_push.sender import MAX_BODY_BYTES, Sender

from tests.receivers import http_receiver_running
from tests.unit.test_console_push import ARN, start_info, step_info

SLACK_SECONDS = 1.0


@pytest.fixture
def senders():
    """Senders made by a test, closed after it (their threads end once the queue is empty)."""
    made: list[Sender] = []

    def make(url: str, **options) -> Sender:
        options.setdefault("flush_seconds", 2.0)
        sender = Sender(url, options.pop("token", "s3cret"), **options)
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.close(timeout=0.5)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/ingest/operations"


def test_events_are_posted_as_json_with_the_bearer_token(senders):
    with http_receiver_running() as receiver:
        sender = senders(receiver.url)
        for index in range(3):
            sender.enqueue({"kind": "operation", "operation_id": f"op-{index}"})
        assert sender.flush() is True
        headers = receiver.requests[0].headers
        assert headers["authorization"] == "Bearer s3cret"
        assert headers["content-type"] == "application/json"
        (body,) = receiver.bodies()
        assert body["schema"] == 1
        assert datetime.fromisoformat(body["sent_at"]).tzinfo is not None
        assert [event["operation_id"] for event in body["events"]] == ["op-0", "op-1", "op-2"]
        assert (sender.sent, sender.failed, sender.dropped) == (3, 0, 0)


def test_a_batch_over_1_mb_arrives_in_several_bodies_of_at_most_1_mb(senders):
    with http_receiver_running() as receiver:
        sender = senders(receiver.url)
        for index in range(2500):
            sender.enqueue({"kind": "operation", "operation_id": f"op-{index}", "name": "n" * 1000})
        assert sender.flush(10) is True
        assert len(receiver.requests) >= 3
        assert all(len(request.body) <= MAX_BODY_BYTES for request in receiver.requests)
        assert [event["operation_id"] for event in receiver.events()] == [f"op-{index}" for index in range(2500)]


def test_an_invocation_is_reported_and_flushed_by_its_end_hook():
    with http_receiver_running() as receiver:
        push = ConsolePushFactory({"DURABLE_CONSOLE_PUSH_URL": receiver.url, "DURABLE_CONSOLE_PUSH_TOKEN": "tok"})
        try:
            info = start_info()
            plugin = push.create_plugin(info)
            user_start = step_info(UserFunctionStartInfo, status=OperationStatus.STARTED, attempt=2)
            plugin.on_invocation_start(info)
            plugin.on_operation_start(step_info(OperationStartInfo, status=OperationStatus.STARTED, attempt=None))
            plugin.on_user_function_start(user_start)
            plugin.on_user_function_end(UserFunctionEndInfo.from_start_info(user_start, None))
            plugin.on_operation_change(OperationChangeInfo(ARN, {"op-1": step_info()}, {"op-1": step_info()}))
            plugin.on_operation_end(step_info())
            plugin.on_invocation_end(
                InvocationEndInfo(
                    request_id="req-2", execution_arn=ARN, is_first_invocation=False, status=InvocationStatus.SUCCEEDED
                )
            )
            received = receiver.events()  # no waiting: the end hook returned after the send
            assert [(e["kind"], e.get("hook") or e.get("phase")) for e in received] == [
                ("invocation", "start"),
                ("snapshot", None),
                ("operation", "invocation_start"),  # op-2, updated while the execution was suspended
                ("operation", "operation_start"),
                ("operation", "user_function_start"),
                ("operation", "user_function_end"),
                ("operation", "operation_change"),
                ("operation", "operation_end"),
                ("invocation", "end"),
            ]
            assert {(e["execution_arn"], e["request_id"]) for e in received} == {(ARN, "req-2")}
            assert received[2]["operation_id"] == "op-2"
            assert received[-1]["status"] == "SUCCEEDED"
            assert receiver.requests[0].headers["authorization"] == "Bearer tok"
        finally:
            push.reset()


def test_the_end_hook_returns_within_the_flush_bound_when_the_console_hangs():
    with http_receiver_running(hang=True) as receiver:
        push = ConsolePushFactory(
            {"DURABLE_CONSOLE_PUSH_URL": receiver.url, "DURABLE_CONSOLE_PUSH_FLUSH_SECONDS": "0.5"}
        )
        try:
            plugin = push.create_plugin(start_info())
            plugin.on_invocation_start(start_info())
            started = time.monotonic()
            plugin.on_invocation_end(
                InvocationEndInfo(
                    request_id="r", execution_arn=ARN, is_first_invocation=False, status=InvocationStatus.PENDING
                )
            )
            elapsed = time.monotonic() - started
            assert 0.3 < elapsed < 0.5 + SLACK_SECONDS  # it waited, and no longer than the bound
            assert receiver.arrived.is_set()
        finally:
            receiver.release()
            push.reset()


def test_a_console_that_is_down_raises_nothing_and_costs_at_most_the_bound(senders):
    sender = senders(closed_port_url(), flush_seconds=0.5)
    started = time.monotonic()
    sender.enqueue({"kind": "operation", "operation_id": "op-1"})
    sender.flush()
    assert time.monotonic() - started < 0.5 + SLACK_SECONDS
    deadline = time.monotonic() + 5
    while sender.failed == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (sender.sent, sender.failed) == (0, 1)


def test_a_server_error_is_retried_twice_quickly_then_dropped(senders):
    with http_receiver_running(status=503) as receiver:
        sender = senders(receiver.url, flush_seconds=1.5)
        sender.enqueue({"kind": "operation", "operation_id": "op-1"})
        assert sender.flush() is True  # given up on within the bound
        assert len(receiver.requests) == 3
        assert (sender.sent, sender.failed) == (0, 1)


def test_a_refused_token_is_not_retried(senders):
    with http_receiver_running(status=401) as receiver:
        sender = senders(receiver.url, token="wrong")
        sender.enqueue({"kind": "operation", "operation_id": "op-1"})
        assert sender.flush() is True
        assert len(receiver.requests) == 1


def test_the_queue_is_bounded_dropping_the_oldest_and_counting(senders):
    with http_receiver_running(hang=True) as receiver:
        sender = senders(receiver.url, queue_size=5, flush_seconds=5.0, timeout_seconds=10.0)
        sender.enqueue({"n": 0})
        assert receiver.arrived.wait(5)  # the thread is now stuck posting event 0
        for n in range(1, 21):
            sender.enqueue({"n": n})
        assert (sender.dropped, sender.pending()) == (15, 5)
        receiver.release()
        assert sender.flush() is True
        assert [event["n"] for event in receiver.events()] == [0, 16, 17, 18, 19, 20]


def test_hooks_on_many_threads_each_event_is_sent_once(senders):
    with http_receiver_running() as receiver:
        sender = senders(receiver.url)

        def branch(index: int) -> None:
            for n in range(250):
                sender.enqueue({"branch": index, "n": n})

        threads = [threading.Thread(target=branch, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sender.flush(10) is True
        received = [(event["branch"], event["n"]) for event in receiver.events()]
        assert sorted(received) == [(index, n) for index in range(8) for n in range(250)]
        for index in range(8):  # each thread's events keep their order
            assert [n for b, n in received if b == index] == list(range(250))


def test_a_dead_sender_thread_is_replaced_on_the_next_event(senders):
    with http_receiver_running() as receiver:
        sender = senders(receiver.url)
        sender.enqueue({"n": 1})
        assert sender.flush() is True
        dead = threading.Thread(target=lambda: None)
        dead.start()
        dead.join()
        sender._thread = dead  # as if the thread had died
        sender.enqueue({"n": 2})
        assert sender.flush() is True
        assert [event["n"] for event in receiver.events()] == [1, 2]
        assert sender._thread is not dead and sender._thread.is_alive()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_sends_through_its_own_thread(senders):
    with http_receiver_running() as receiver:
        sender = senders(receiver.url)
        sender.enqueue({"from": "parent"})
        assert sender.flush() is True
        pid = os.fork()
        if pid == 0:  # the child: the parent's thread does not exist here
            code = 1
            try:
                sender.enqueue({"from": "child"})
                code = 0 if sender.flush(5) and sender.sent == 2 else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert [event["from"] for event in receiver.events()] == ["parent", "child"]
