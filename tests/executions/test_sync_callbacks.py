"""Callbacks seen while they are open (activity, poll schedule) and after success, failure or timeout."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from executions.models import Execution, Operation
from executions.sync import execution_history_sync, functions_sync
from tests.executions.sync_support import boto_history, callback_id_wait, events_wait, stored_history, workflow_start
from tests.orders import execution_wait

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def fast_budget(settings, aws):
    settings.DURABLE_API_MAX_RPS = 500


def test_open_callback_then_success_and_failure(lambda_client, settings):
    arn = workflow_start(lambda_client, "SyncCallbacks", {"timeout": 120})
    approval_id = callback_id_wait(lambda_client, arn)
    events_wait(lambda_client, arn, "InvocationCompleted")

    functions_sync(function_name="SyncCallbacks")
    execution = Execution.objects.get(arn=arn)
    assert execution.status == "RUNNING" and not execution.history_complete
    assert execution.activity["kind"] == "callback"
    assert execution.activity["name"] == "approval"
    assert execution.activity["open_operations"] == 1
    approval = Operation.objects.get(execution=execution, name="approval")
    assert (approval.op_type, approval.status, approval.callback_id) == ("callback", "STARTED", approval_id)
    # Suspended (its invocation completed) on a callback: polled again after the idle backoff, not at once.
    assert execution.poll_reason == "idle"
    assert execution.poll_backoff_seconds == settings.POLL_IDLE_BASE_SECONDS
    assert execution.next_poll_at > timezone.now()

    # Nothing changed: the backoff grows.
    assert execution_history_sync(execution_id=execution.pk) == 0
    execution.refresh_from_db()
    assert execution.poll_backoff_seconds == 2 * settings.POLL_IDLE_BASE_SECONDS
    assert execution_history_sync(execution_id=execution.pk) == 0
    execution.refresh_from_db()
    assert execution.poll_backoff_seconds == 4 * settings.POLL_IDLE_BASE_SECONDS

    lambda_client.send_durable_execution_callback_success(CallbackId=approval_id, Result=json.dumps({"ok": 1}).encode())
    review_id = callback_id_wait(lambda_client, arn, index=1)
    events_wait(lambda_client, arn, "InvocationCompleted", count=2)
    assert execution_history_sync(execution_id=execution.pk) > 0
    execution.refresh_from_db()
    assert execution.activity["kind"] == "callback" and execution.activity["name"] == "review create callback id"
    assert execution.poll_backoff_seconds == settings.POLL_IDLE_BASE_SECONDS  # news: the backoff starts over
    review_context = Operation.objects.get(execution=execution, name="review", op_type="context")
    assert review_context.sub_type == "WaitForCallback" and review_context.status == "STARTED"

    lambda_client.send_durable_execution_callback_failure(
        CallbackId=review_id, Error={"ErrorType": "ManualFailure", "ErrorMessage": "rejected by ops"}
    )
    execution_wait(lambda_client, arn)
    execution_history_sync(execution_id=execution.pk)
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED" and execution.history_complete and execution.next_poll_at is None
    assert stored_history(execution) == boto_history(lambda_client, arn)
    ops = {(op.name, op.op_type): op for op in Operation.objects.filter(execution=execution)}
    assert ops[("approval", "callback")].status == "SUCCEEDED"
    assert ops[("approval", "callback")].result_preview == '{"ok": 1}'
    review_callback = ops[("review create callback id", "callback")]
    assert (review_callback.status, review_callback.error_type, review_callback.error_message) == (
        "FAILED",
        "ManualFailure",
        "rejected by ops",
    )
    assert review_callback.parent_id == ops[("review", "context")].pk
    assert ops[("review submitter", "step")].parent_id == ops[("review", "context")].pk
    assert ops[("review", "context")].status == "FAILED"
    assert execution.result == {"approval": '{"ok": 1}', "review_error": "CallbackExternalError"}
    assert execution.activity is None


def test_callback_timeouts(lambda_client):
    arn = workflow_start(lambda_client, "SyncCallbacks", {"timeout": 1})
    execution_wait(lambda_client, arn, timeout=60)
    functions_sync(function_name="SyncCallbacks")
    execution = Execution.objects.get(arn=arn)
    assert execution.history_complete
    assert stored_history(execution) == boto_history(lambda_client, arn)
    callbacks = Operation.objects.filter(execution=execution, op_type="callback").order_by("first_event_id")
    assert [c.status for c in callbacks] == ["TIMED_OUT", "TIMED_OUT"]
    assert all(c.ended_at for c in callbacks)
    assert execution.result == {"approval_error": "CallbackTimeoutError", "review_error": "CallbackTimeoutError"}
    assert execution.has_failures
