"""Pause, resume and delete from the console: against the gateway with real workflows, and against the AWS
double for what the gateway cannot show (ClientToken reuse, ExpectedExecutionTimeoutTimestamp)."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from core.aws import aws_clients_reset
from executions import durable_api
from executions.governor import governor_reset
from executions.models import Execution, HistoryEvent, Operation, OperatorAction
from executions.sync import execution_history_sync, function_list_sync, monitored_functions_seed
from tests.conftest import wait_until
from tests.executions.sync_support import execution_synced, workflow_run, workflow_start

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def sent(monkeypatch):
    """Record the lifecycle calls the console makes (the real calls still go through)."""
    calls: list[tuple[str, dict]] = []
    for name in ("execution_pause", "execution_resume", "execution_delete"):
        original = getattr(durable_api, name)

        def recording(*args, _original=original, _name=name, **kwargs):
            calls.append((_name, kwargs))
            return _original(*args, **kwargs)

        monkeypatch.setattr(durable_api, name, recording)
    return calls


@pytest.fixture
def on_gateway(settings, aws):
    settings.DURABLE_API_MAX_RPS = 500
    settings.READ_ONLY = False
    settings.ACTION_RESYNC_SECONDS = 1
    return aws


def post(client, url: str, **data):
    return client.post(url, {"confirm": "yes", **data}, follow=True)


def test_pause_a_waiting_execution_see_paused_resume_see_it_finish(admin_client_, lambda_client, on_gateway, sent):
    arn = workflow_start(lambda_client, "SyncWaits", {"first": 3, "second": 1})
    execution = execution_synced(
        "SyncWaits", arn, until=lambda e: Operation.objects.filter(execution=e, op_type="wait").exists()
    )
    page = admin_client_.get(f"/executions/{execution.pk}/").content.decode()
    assert f"/executions/{execution.pk}/pause" in page and "Pause this execution" in page

    # Reason and confirm are required: nothing is sent without them.
    admin_client_.post(f"/executions/{execution.pk}/pause", {"reason": "", "confirm": "yes"})
    admin_client_.post(f"/executions/{execution.pk}/pause", {"reason": "maintenance"})
    assert sent == [] and not OperatorAction.objects.exists()

    form = {"reason": "maintenance", "nonce": "n-pause-1"}
    response = post(admin_client_, f"/executions/{execution.pk}/pause", **form)
    assert response.status_code == 200 and "Pause requested" in response.content.decode()
    # A double submission of the same form: one call; the ClientToken comes from the form's nonce.
    post(admin_client_, f"/executions/{execution.pk}/pause", **form)
    assert [name for name, _ in sent] == ["execution_pause"]
    assert sent[0][1]["timeout_paused"] is True and len(sent[0][1]["client_token"]) == 64
    audits = list(OperatorAction.objects.order_by("id").values_list("action", "outcome", "reason"))
    assert audits == [("pause_execution", "succeeded", "maintenance"), ("pause_execution", "rejected", "maintenance")]

    def paused():
        execution_history_sync(execution_id=execution.pk)
        return Execution.objects.get(pk=execution.pk).status == "PAUSED"

    wait_until(paused, timeout=60, message="PAUSED in the console")
    execution.refresh_from_db()
    assert execution.pause_details["Reason"] == "maintenance"
    assert execution.activity["kind"] == "paused" and execution.activity["reason"] == "maintenance"
    assert execution.next_poll_at is not None  # still polled while paused
    page = admin_client_.get(f"/executions/{execution.pk}/").content.decode()
    assert "paused since" in page and ": maintenance" in page and "Resume this execution" in page
    assert "ExecutionPaused" in page
    listed = admin_client_.get("/executions/?status=PAUSED").content.decode()
    assert f"/executions/{execution.pk}/" in listed

    response = post(admin_client_, f"/executions/{execution.pk}/resume", reason="done", nonce="n-resume-1")
    assert "Resumed" in response.content.decode()
    assert [name for name, _ in sent] == ["execution_pause", "execution_resume"]
    assert durable_api.execution_describe(execution_arn=arn)  # reachable
    wait_until(
        lambda: (
            execution_history_sync(execution_id=execution.pk) is not None
            and Execution.objects.get(pk=execution.pk).status == "SUCCEEDED"
        ),
        timeout=60,
        message="SUCCEEDED after resume",
    )
    types = list(HistoryEvent.objects.filter(execution=execution).values_list("event_type", flat=True))
    assert "ExecutionPaused" in types and "ExecutionResumed" in types
    page = admin_client_.get(f"/executions/{execution.pk}/").content.decode()
    assert 'class="pausespan"' in page  # the paused span is shaded on the timeline


def test_delete_a_finished_execution_leaves_a_tombstone(admin_client_, lambda_client, on_gateway, sent):
    arn = workflow_run(lambda_client, "SyncQuick", {"n": 3})
    execution = execution_synced("SyncQuick", arn, until=lambda e: e.history_complete)
    assert HistoryEvent.objects.filter(execution=execution).exists()
    page = admin_client_.get(f"/executions/{execution.pk}/").content.decode()
    assert "Delete this execution" in page

    response = post(admin_client_, f"/executions/{execution.pk}/delete", reason="test data", nonce="n-del-1")
    assert response.status_code == 200 and "Deleted" in response.content.decode()
    assert [name for name, _ in sent] == ["execution_delete"]
    with pytest.raises(durable_api.ExecutionNotFound):
        durable_api.execution_describe(execution_arn=arn)
    execution.refresh_from_db()
    assert execution.deleted_at is not None and execution.status == "SUCCEEDED"
    assert not HistoryEvent.objects.filter(execution=execution).exists()
    assert not Operation.objects.filter(execution=execution).exists() and not execution.invocations.exists()
    assert execution.input_raw == "" and execution.result is None and execution.next_poll_at is None
    audit = OperatorAction.objects.get()
    assert (audit.action, audit.outcome, audit.execution_id) == ("delete_execution", "succeeded", execution.pk)
    page = admin_client_.get(f"/executions/{execution.pk}/").content.decode()
    assert 'class="pill deleted"' in page and "Delete this execution" not in page
    # The next cycle does not bring it back.
    (function,) = monitored_functions_seed(names=["SyncQuick"])
    function_list_sync(function=function)
    assert Execution.objects.filter(arn=arn).count() == 1


def test_delete_a_running_execution_is_refused(admin_client_, lambda_client, on_gateway, sent):
    arn = workflow_start(lambda_client, "SyncHold", {"timeout": 600})
    execution = execution_synced(
        "SyncHold", arn, until=lambda e: Operation.objects.filter(execution=e, op_type="callback").exists()
    )
    response = post(admin_client_, f"/executions/{execution.pk}/delete", reason="oops")
    assert "Only finished executions can be deleted" in response.content.decode()
    assert sent == [] and OperatorAction.objects.get().outcome == "rejected"
    execution.refresh_from_db()
    assert execution.deleted_at is None and HistoryEvent.objects.filter(execution=execution).exists()
    lambda_client.stop_durable_execution(DurableExecutionArn=arn)


@pytest.mark.parametrize("role_client", ["operator_client", "approver_client"])
def test_other_roles_get_403_and_nothing_is_sent(request, role_client, sent, settings):
    from tests.executions.page_factories import execution_make

    settings.READ_ONLY = False
    client = request.getfixturevalue(role_client)
    execution = execution_make()
    for url in (
        f"/executions/{execution.pk}/pause",
        f"/executions/{execution.pk}/resume",
        f"/executions/{execution.pk}/delete",
        "/executions/pause",
        "/executions/resume",
    ):
        response = client.post(url, {"reason": "x", "confirm": "yes", "targets": [execution.pk]})
        assert response.status_code == 403, url
    assert sent == [] and not OperatorAction.objects.exists()


def test_read_only_mode_refuses_and_offers_nothing(admin_client_, sent, settings):
    from tests.executions.page_factories import execution_make

    settings.READ_ONLY = True
    execution = execution_make()
    assert admin_client_.post(f"/executions/{execution.pk}/pause", {"reason": "x", "confirm": "yes"}).status_code == 403
    page = admin_client_.get(f"/executions/{execution.pk}/").content.decode()
    assert "Pause this execution" not in page
    assert 'id="bulk-lifecycle"' not in admin_client_.get("/executions/").content.decode()
    assert sent == []


# --- on the AWS double ----------------------------------------------------------------------------------


@pytest.fixture
def on_double(aws_double, settings):
    settings.LAMBDA_ENDPOINT_URL = aws_double.url
    settings.AWS_LOCAL_CREDENTIALS = True
    settings.READ_ONLY = False
    settings.ACTION_RESYNC_SECONDS = 0
    aws_clients_reset()
    governor_reset()
    yield aws_double
    aws_clients_reset()


def double_synced(double, function: str) -> list[Execution]:
    (monitored,) = monitored_functions_seed(names=[function])
    function_list_sync(function=monitored)
    executions = list(Execution.objects.filter(function=monitored).order_by("started_at"))
    for execution in executions:
        execution_history_sync(execution_id=execution.pk)
    return [Execution.objects.get(pk=e.pk) for e in executions]


def test_bulk_pause_and_resume_a_maintenance_window(admin_client_, on_double):
    arns = on_double.seed("Window", 4, statuses=("RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"))
    executions = double_synced(on_double, "Window")
    page = admin_client_.get("/executions/?function=Window").content.decode()
    assert 'id="bulk-lifecycle"' in page and page.count('name="targets"') == 3  # running ones only
    targets = [e.pk for e in executions]
    response = admin_client_.post(
        "/executions/pause", {"reason": "db upgrade", "confirm": "yes", "targets": targets, "nonce": "bulk-1"}
    )
    assert response.status_code == 200
    outcomes = {e.arn: result.audit.outcome for e, result in response.context["results"]}
    assert outcomes == {arns[0]: "succeeded", arns[1]: "succeeded", arns[2]: "succeeded", arns[3]: "not_running"}
    html = response.content.decode()
    assert "Paused 3 of 4 selected executions" in html and 'data-outcome="not_running"' in html
    assert [on_double.executions[arn].status for arn in arns[:3]] == ["PAUSED"] * 3
    assert on_double.pause_tokens and len(set(on_double.pause_tokens)) == 3
    for e in executions[:3]:
        e.refresh_from_db()
        assert e.status == "PAUSED" and e.pause_details["Reason"] == "db upgrade"

    # Resubmitting the same bulk form sends nothing again.
    calls = len(on_double.calls)
    admin_client_.post(
        "/executions/pause", {"reason": "db upgrade", "confirm": "yes", "targets": targets, "nonce": "bulk-1"}
    )
    assert len(on_double.calls) == calls

    response = admin_client_.post(
        "/executions/resume", {"reason": "done", "confirm": "yes", "targets": targets[:3], "nonce": "bulk-2"}
    )
    assert "Resumed 3 of 3 selected executions" in response.content.decode()
    assert [on_double.executions[arn].status for arn in arns[:3]] == ["RUNNING"] * 3
    # Nothing selected, or no reason: a clear error, nothing sent.
    response = admin_client_.post("/executions/resume", {"reason": "done", "confirm": "yes"})
    assert response.status_code == 400 and "Select at least one execution" in response.content.decode()


def test_keep_timeout_sends_execution_timeout_paused_false(admin_client_, on_double):
    (arn,) = on_double.seed("Keep", 1, statuses=("RUNNING",))
    (execution,) = double_synced(on_double, "Keep")
    post(admin_client_, f"/executions/{execution.pk}/pause", reason="short one", keep_timeout="yes", nonce="k-1")
    assert on_double.executions[arn].pause["ExecutionTimeoutPaused"] is False


def test_details_from_get_durable_execution_and_the_paused_attention_reason(admin_client_, on_double, settings):
    (arn,) = on_double.seed("Details", 1, statuses=("RUNNING",))
    record = on_double.executions[arn]
    record.durable_config = {"ExecutionTimeout": 7 * 86400, "RetentionPeriodInDays": 14}
    record.expected_timeout = timezone.now().timestamp() + 6 * 86400 + 3 * 3600 + 30
    (execution,) = double_synced(on_double, "Details")
    assert execution.durable_config == {"ExecutionTimeout": 604800, "RetentionPeriodInDays": 14}
    page = admin_client_.get(f"/executions/{execution.pk}/").content.decode()
    assert "in 6 d 3 h" in page and "execution timeout 7 d" in page and "history kept 14 d" in page

    settings.ATTENTION_PAUSED_SECONDS = 1
    post(admin_client_, f"/executions/{execution.pk}/pause", reason="maintenance", nonce="d-1")
    record.pause["PauseRequestTimestamp"] -= 5  # paused for longer than the threshold
    execution_history_sync(execution_id=execution.pk)
    execution.refresh_from_db()
    assert [reason["code"] for reason in execution.attention_reasons] == ["paused"]
    assert execution.needs_attention


def test_delete_on_the_double_then_running_ones_are_refused(admin_client_, on_double):
    """DeleteDurableExecution as AWS answers it: a finished execution is deleted and tombstoned; a running one is
    a 409 `ResourceConflictException`, said to the admin, with nothing removed from the console."""
    finished, running = on_double.seed("Tidy", 2, statuses=("SUCCEEDED", "RUNNING"))
    done, live = double_synced(on_double, "Tidy")
    assert HistoryEvent.objects.filter(execution=done).exists()

    response = post(admin_client_, f"/executions/{done.pk}/delete", reason="test data", nonce="dd-1")
    assert response.status_code == 200 and "Deleted" in response.content.decode()
    assert finished not in on_double.executions
    done.refresh_from_db()
    assert done.deleted_at is not None and not HistoryEvent.objects.filter(execution=done).exists()
    assert on_double.calls.count("DeleteDurableExecution") == 1
    # A second post of the same form sends nothing again.
    post(admin_client_, f"/executions/{done.pk}/delete", reason="test data", nonce="dd-1")
    assert on_double.calls.count("DeleteDurableExecution") == 1

    # Forced past the console's own check (the form is offered for finished executions only): AWS's 409.
    Execution.objects.filter(pk=live.pk).update(status="SUCCEEDED")
    response = post(admin_client_, f"/executions/{live.pk}/delete", reason="oops", nonce="dd-2")
    assert running in on_double.executions and on_double.calls.count("DeleteDurableExecution") == 2
    (message,) = re.findall(r'class="msg[^>]*>([^<]*)', response.content.decode())
    assert "does not allow this (Cannot delete in status RUNNING). Nothing was changed." in message
    audit = OperatorAction.objects.filter(execution=live).get()
    assert audit.action == "delete_execution" and audit.outcome != "succeeded"
    assert HistoryEvent.objects.filter(execution=live).exists() and Execution.objects.get(pk=live.pk).deleted_at is None
