"""Real executions of the test workflows, synced by the poller's code, rendered by the pages."""

from __future__ import annotations

import json

import pytest

from executions.models import Execution, Operation
from executions.sync import functions_sync
from tests.executions.sync_support import callback_id_wait, workflow_run, workflow_start
from tests.orders import execution_wait

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def fast_budget(settings, aws):
    settings.DURABLE_API_MAX_RPS = 500


def synced(function_name: str, arn: str) -> Execution:
    functions_sync(function_name=function_name)
    execution = Execution.objects.get(arn=arn)
    assert execution.history_complete
    return execution


def render(client, execution: Execution) -> tuple[str, object]:
    response = client.get(f"/executions/{execution.pk}/")
    assert response.status_code == 200
    return response.content.decode(), response.context["timeline"]


@pytest.mark.parametrize(
    ("function_name", "payload", "names", "kinds"),
    [
        ("SyncRetries", {"fail_until": 5}, {"prepare", "flaky"}, {"Step"}),
        ("SyncWaits", {"first": 1, "second": 1}, {"short_pause", "compute"}, {"Wait", "Step"}),
        (
            "SyncConcurrency",
            {},
            {"outer_context", "inner_step", "squares", "fan_out", "branch_wait"},
            {"RunInChildContext", "Map", "MapIteration", "Parallel", "ParallelBranch", "Wait", "Step"},
        ),
        ("SyncInvoke", {"n": 4}, {"call_target"}, {"ChainedInvoke"}),
        ("SyncLarge", {"size": 300_000}, {"big_result"}, {"Step"}),
    ],
)
def test_every_operation_kind_renders(operator_client, lambda_client, function_name, payload, names, kinds):
    arn = workflow_run(lambda_client, function_name, payload)
    execution = synced(function_name, arn)
    html, timeline = render(operator_client, execution)
    rows = {row.label for row in timeline.rows}
    assert names <= rows
    assert kinds <= {row.kind for row in timeline.rows}
    assert timeline.invocation_count == execution.invocations.count() >= 1
    # Every stored event appears in the history (one page here) and the operations table lists each op.
    assert len(timeline.rows) == Operation.objects.filter(execution=execution).exclude(op_type="execution").count()
    assert f"{execution.events.count()} event" in html
    if function_name == "SyncRetries":
        flaky = next(row for row in timeline.rows if row.label == "flaky")
        assert [s.css.split()[0] for s in flaky.segments].count("attempt") == 3
        assert "gap" in {s.css for s in flaky.segments}
        assert execution.status == "FAILED" and "FlakyError" in html
    if function_name == "SyncLarge":
        assert "truncated" in html or len(html) < 2_000_000  # a 300 kB result is previewed, not dumped


def test_callbacks_workflow_waiting_on_panel_and_hidden_ids(operator_client, lambda_client):
    arn = workflow_start(lambda_client, "SyncCallbacks", {"timeout": 300})
    callback_id = callback_id_wait(lambda_client, arn)
    functions_sync(function_name="SyncCallbacks")
    execution = Execution.objects.get(arn=arn)
    html, timeline = render(operator_client, execution)
    assert "Waiting on" in html and "approval" in html
    assert callback_id not in html
    body = b"".join(operator_client.get(f"/executions/{execution.pk}/history.json").streaming_content)
    assert callback_id.encode() not in body
    # Answer both callbacks; the finished execution renders both as succeeded callbacks.
    lambda_client.send_durable_execution_callback_success(CallbackId=callback_id, Result=json.dumps("yes").encode())
    review_id = callback_id_wait(lambda_client, arn, index=1)
    lambda_client.send_durable_execution_callback_success(CallbackId=review_id, Result=json.dumps("ok").encode())
    execution_wait(lambda_client, arn)
    execution = synced("SyncCallbacks", arn)
    html, timeline = render(operator_client, execution)
    callbacks = [row for row in timeline.rows if row.op.op_type == "callback"]
    assert len(callbacks) == 2 and {row.status for row in callbacks} == {"SUCCEEDED"}
    assert "Waiting on" not in html
    assert review_id not in html


def test_imported_history_with_unknown_event_types_renders(operator_client, lambda_client):
    from executions.sync import history_import
    from tests.executions.sync_support import boto_history

    arn = workflow_run(lambda_client, "SyncQuick", {"n": 3})
    events = boto_history(lambda_client, arn)
    events.insert(
        2,
        {
            **events[1],
            "EventType": "StepTeleported",
            "EventId": 9999,
            "Id": "zz",
            "StepTeleportedDetails": {"Where": "<b>Mars</b>"},
        },
    )
    execution = history_import(events=events, function_name="SyncQuick", name="imported")
    html, _timeline = render(operator_client, execution)
    assert "StepTeleported" in html and "&lt;b&gt;Mars&lt;/b&gt;" in html and "<b>Mars</b>" not in html


def test_pages_render_from_the_database_when_lambda_is_unreachable(operator_client, lambda_client, settings):
    from core.aws import aws_clients_reset

    arn = workflow_run(lambda_client, "SyncQuick", {"n": 1})
    execution = synced("SyncQuick", arn)
    settings.LAMBDA_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.AWS_MAX_ATTEMPTS = 1
    aws_clients_reset()
    functions_sync(function_name="SyncQuick")  # the poller's next cycle fails
    for url in (
        "/",
        "/executions/",
        f"/executions/{execution.pk}/",
        "/executions/attention/",
        "/executions/failures/",
        "/executions/timeouts/",
        "/executions/actions/",
    ):
        response = operator_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "Data may be out of date" in html and "SyncQuick" in html, url
        assert "last error" in html
    assert "only_step" in operator_client.get(f"/executions/{execution.pk}/").content.decode()
