"""Incremental history sync: resumes after interruption, survives expired markers and rewrites, and
makes no history call for finished executions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.stub import Stubber
from django.utils import timezone

from core.aws import aws_client
from core.locks import lock_held
from executions import durable_api, governor
from executions.durable_api import Throttled
from executions.locks import execution_lock
from executions.models import Execution, HistoryEvent, Operation
from executions.sync import execution_history_sync, functions_sync
from tests.executions.sync_support import (
    boto_history,
    callback_id_wait,
    events_wait,
    stored_history,
    workflow_run,
    workflow_start,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def fast_budget(settings, aws):
    settings.DURABLE_API_MAX_RPS = 500
    governor.governor_reset()
    yield
    governor.governor_reset()


# An AWS-shaped execution ARN that names nothing.
GONE_ARN = (
    "arn:aws:lambda:us-east-1:123456789012:function:SyncQuick:$LATEST/durable-execution/gone/"
    "00000000-0000-0000-0000-000000000000"
)


def listed_execution(function_name: str, arn: str) -> Execution:
    from executions.models import MonitoredFunction
    from executions.sync import function_list_sync, monitored_functions_seed

    (function,) = monitored_functions_seed(names=[function_name])
    function_list_sync(function=MonitoredFunction.objects.get(pk=function.pk))
    return Execution.objects.get(arn=arn)


def test_interrupted_sync_resumes_without_duplicates_or_gaps(lambda_client, settings, monkeypatch):
    arn = workflow_run(lambda_client, "SyncConcurrency")
    expected = boto_history(lambda_client, arn)
    assert len(expected) > 30
    settings.SYNC_HISTORY_PAGE_SIZE = 5
    execution = listed_execution("SyncConcurrency", arn)

    real_pages = durable_api.execution_history_pages
    half = len(expected) // 5 // 2

    def killed_after_half(**kwargs):
        for index, page in enumerate(real_pages(**kwargs)):
            if index == half:
                raise SystemExit("worker killed")  # what SIGKILL leaves behind: only committed pages
            yield page

    monkeypatch.setattr(durable_api, "execution_history_pages", killed_after_half)
    with pytest.raises(SystemExit):
        execution_history_sync(execution_id=execution.pk)
    execution.refresh_from_db()
    assert execution.last_event_id == half * 5
    assert [e["EventId"] for e in stored_history(execution)] == list(range(1, half * 5 + 1))
    assert execution.history_marker  # opaque (AWS's markers are): where the next page starts
    assert not execution.history_complete

    monkeypatch.setattr(durable_api, "execution_history_pages", real_pages)
    calls = durable_api.api_calls_made()
    added = execution_history_sync(execution_id=execution.pk)
    assert added == len(expected) - half * 5
    # The remaining pages only, and the one GetDurableExecution (DurableConfig) the killed sync had not reached.
    assert durable_api.api_calls_made() - calls == -(-(len(expected) - half * 5) // 5) + 1
    execution.refresh_from_db()
    assert stored_history(execution) == expected
    assert execution.history_complete and execution.derived_event_id == len(expected)
    assert Operation.objects.filter(execution=execution, name="squares").get().status == "SUCCEEDED"


def test_expired_marker_rereads_from_start_skipping_known_events(lambda_client, settings):
    arn = workflow_start(lambda_client, "SyncHold", {"timeout": 600})
    events_wait(lambda_client, arn, "InvocationCompleted")
    settings.SYNC_HISTORY_PAGE_SIZE = 2
    execution = listed_execution("SyncHold", arn)
    execution_history_sync(execution_id=execution.pk)
    execution.refresh_from_db()
    before = stored_history(execution)
    assert before == boto_history(lambda_client, arn)
    Execution.objects.filter(pk=execution.pk).update(history_marker_at=timezone.now() - timedelta(days=2))
    callback_id = callback_id_wait(lambda_client, arn)
    lambda_client.send_durable_execution_callback_success(CallbackId=callback_id, Result=b'"yes"')
    events_wait(lambda_client, arn, "ExecutionSucceeded")
    assert execution_history_sync(execution_id=execution.pk) == len(boto_history(lambda_client, arn)) - len(before)
    execution.refresh_from_db()
    assert stored_history(execution) == boto_history(lambda_client, arn)
    assert execution.status == "SUCCEEDED" and execution.history_complete
    assert HistoryEvent.objects.filter(execution=execution).count() == len(stored_history(execution))


def test_rewritten_history_is_detected_and_reread(lambda_client):
    arn = workflow_start(lambda_client, "SyncHold", {"timeout": 600})
    events_wait(lambda_client, arn, "InvocationCompleted")
    execution = listed_execution("SyncHold", arn)
    execution_history_sync(execution_id=execution.pk)
    HistoryEvent.objects.filter(execution=execution, event_id=2).update(event_type="SomethingElse")
    execution_history_sync(execution_id=execution.pk)
    execution.refresh_from_db()
    assert execution.history_resets == 1
    assert stored_history(execution) == boto_history(lambda_client, arn)
    assert HistoryEvent.objects.get(execution=execution, event_id=2).event_type == "CallbackStarted"
    lambda_client.send_durable_execution_callback_success(CallbackId=callback_id_wait(lambda_client, arn), Result=b"1")


def test_second_cycle_makes_no_history_call_for_finished_executions(lambda_client):
    arns = [workflow_run(lambda_client, "SyncQuick", {"n": n}) for n in range(3)]
    first = functions_sync(function_name="SyncQuick")
    assert first["history_fetches"] >= 3 and first["events_added"] >= 3 * 5
    assert all(Execution.objects.get(arn=arn).history_complete for arn in arns)
    second = functions_sync(function_name="SyncQuick")
    assert second["history_fetches"] == 0 and second["events_added"] == 0
    assert second["api_calls"] == 1  # the list page, nothing else
    assert second["listed"] == first["listed"]


def test_throttling_keeps_the_work_and_slows_the_governor(lambda_client):
    arn = workflow_run(lambda_client, "SyncQuick", {"n": 42})
    execution = listed_execution("SyncQuick", arn)
    client = aws_client("lambda", max_attempts=1)
    with Stubber(client) as stubber:  # the emulator never throttles: AWS's error shape, stubbed
        stubber.add_client_error(
            "get_durable_execution_history",
            service_error_code="TooManyRequestsException",
            service_message="Rate exceeded",
            http_status_code=429,
            response_meta={"HTTPHeaders": {"retry-after": "0.2"}},
        )
        with pytest.raises(Throttled) as raised:
            execution_history_sync(execution_id=execution.pk)
    assert raised.value.retry_after == pytest.approx(0.2)
    assert governor.governor_state()["slowdown"] == 2
    execution.refresh_from_db()
    assert execution.last_event_id == 0 and execution.next_poll_at <= timezone.now()  # still due, nothing lost
    assert execution_history_sync(execution_id=execution.pk) > 0
    execution.refresh_from_db()
    assert execution.history_complete


def test_a_locked_execution_is_left_to_its_worker(lambda_client):
    arn = workflow_run(lambda_client, "SyncQuick", {"n": 7})
    execution = listed_execution("SyncQuick", arn)
    calls = durable_api.api_calls_made()
    with execution_lock(execution_id=execution.pk) as held:
        assert held
        with execution_lock(execution_id=execution.pk) as second:
            assert not second
        assert execution_history_sync(execution_id=execution.pk) == 0
    assert durable_api.api_calls_made() == calls
    assert not lock_held(f"execution-sync-lock:{execution.pk}")
    assert execution_history_sync(execution_id=execution.pk) > 0


def test_a_broken_or_vanished_execution_does_not_stop_the_cycle(lambda_client, monkeypatch, settings):
    arn = workflow_run(lambda_client, "SyncQuick", {"n": 99})
    vanished = Execution.objects.create(
        arn=GONE_ARN, function_name="SyncQuick", status="RUNNING", next_poll_at=timezone.now()
    )
    healthy = listed_execution("SyncQuick", arn)
    Execution.objects.filter(pk=vanished.pk).update(function=healthy.function)
    broken = Execution.objects.create(
        arn=GONE_ARN.replace("/gone/", "/broken/"),
        function=healthy.function,
        status="RUNNING",
        next_poll_at=timezone.now(),
    )
    real = durable_api.execution_history_pages

    def pages(**kwargs):
        if kwargs["execution_arn"] == broken.arn:
            raise RuntimeError("unexpected answer")
        return real(**kwargs)

    monkeypatch.setattr(durable_api, "execution_history_pages", pages)
    functions_sync(function_name="SyncQuick")
    vanished.refresh_from_db()
    broken.refresh_from_db()
    healthy.refresh_from_db()
    assert (vanished.poll_reason, vanished.next_poll_at, vanished.history_complete) == ("not_found", None, True)
    # The broken one backs off exponentially (first failure: twice the sync interval) and says why.
    assert broken.poll_reason == "error" and broken.sync_failures == 1 and "unexpected answer" in broken.sync_error
    assert broken.next_poll_at > timezone.now() + timedelta(seconds=settings.SYNC_INTERVAL_SECONDS * 1.5)
    assert healthy.history_complete
