"""`manage.py sync_executions` and the Celery tasks against the running local stack with OrderApproval."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from dashboard.celery import app as celery_app
from executions import durable_api
from executions.models import Execution, MonitoredFunction, Operation
from executions.tasks import sync_functions
from tests.executions.sync_support import boto_history, stored_history
from tests.orders import execution_wait, order_for_execution, order_start

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def fast_budget(settings, aws):
    settings.DURABLE_API_MAX_RPS = 500
    settings.DURABLE_FUNCTIONS = ["OrderApproval"]


def test_sync_executions_command_with_order_approval(aws, lambda_client, dynamodb_client):
    arns = [order_start(lambda_client, customerName=f"Sync Customer {n}") for n in range(2)]
    orders = [order_for_execution(dynamodb_client, aws.table, arn) for arn in arns]

    out = io.StringIO()
    call_command("sync_executions", stdout=out)
    line = out.getvalue().strip()
    assert "\n" not in line
    stats = json.loads(line)
    assert list(stats) == ["functions", "listed", "history_fetches", "events_added", "api_calls", "duration_ms"]
    assert stats["functions"] == 1 and stats["listed"] >= 2 and stats["history_fetches"] >= 2
    assert stats["api_calls"] >= 1 + stats["history_fetches"]

    function = MonitoredFunction.objects.get(name="OrderApproval")
    assert function.last_sync_succeeded_at is not None and function.last_sync_stats == stats
    for arn, order in zip(arns, orders, strict=True):
        execution = Execution.objects.get(arn=arn)
        assert execution.function == function and execution.status == "RUNNING"
        assert execution.input["customerName"] == order["customerName"]
        assert execution.activity["kind"] == "callback" and execution.activity["name"] == "approval"
        callback = Operation.objects.get(execution=execution, op_type="callback")
        assert callback.callback_id == order["callbackId"]
        assert not execution.needs_attention

    # Approve the first order the way the dashboard does, then sync that execution at once.
    first = Execution.objects.get(arn=arns[0])
    durable_api.callback_succeed(callback_id=orders[0]["callbackId"], result={"approved": True, "decidedBy": "amy"})
    execution_wait(lambda_client, arns[0])
    out = io.StringIO()
    call_command("sync_executions", "--function", "OrderApproval", stdout=out)
    first.refresh_from_db()
    assert first.status == "SUCCEEDED" and first.history_complete and first.activity is None
    assert first.result["outcome"] == "approved"
    assert stored_history(first) == boto_history(lambda_client, arns[0])
    names = list(Operation.objects.filter(execution=first, op_type="step").values_list("name", flat=True))
    assert names == ["create_order", "validate_order", "store_callback", "process_order", "send_notification"]

    # The second one is still waiting for its approver: stop it as an admin would.
    durable_api.execution_stop(execution_arn=arns[1], error_type="ManualStop", message="test cleanup")
    execution_wait(lambda_client, arns[1])


def test_celery_beat_task_fans_out_history_syncs(aws, lambda_client, dynamodb_client, settings):
    arn = order_start(lambda_client, customerName="Celery Customer")
    order_for_execution(dynamodb_client, aws.table, arn)
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        stats = sync_functions.delay().get()
    finally:
        celery_app.conf.task_always_eager = previous
    execution = Execution.objects.get(arn=arn)
    assert stats["history_fetches"] >= 1
    assert execution.last_event_id > 0 and execution.activity["kind"] == "callback"
    assert execution.poll_reason != "queued"  # the fanned-out task ran and planned the next poll
    entry = settings.CELERY_BEAT_SCHEDULE["sync-durable-functions"]
    assert entry["task"] == sync_functions.name and entry["options"]["expires"] == entry["schedule"]
    durable_api.execution_stop(execution_arn=arn, error_type="ManualStop", message="test cleanup")
