"""Admin actions against the real emulator, gateway and DynamoDB Local (no mocks).

Real executions (OrderApproval and the test workflows) are synced into the database
with the poller's own code, then failed, heartbeated or stopped through the pages.
"""

from __future__ import annotations

import pytest

from executions import durable_api
from executions.models import Execution, Operation, OperatorAction
from executions.sync import execution_history_sync
from tests.executions.sync_support import execution_synced, workflow_start
from tests.orders import execution_wait, order_for_execution, order_get, order_start

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def stack(settings, aws):
    settings.DURABLE_API_MAX_RPS = 500
    settings.READ_ONLY = False
    return aws


@pytest.fixture
def api_calls(monkeypatch):
    """Count the gateway calls the actions make (the real calls still go through)."""
    calls: list[str] = []
    for name in ("callback_fail", "callback_heartbeat", "execution_stop"):
        original = getattr(durable_api, name)

        def counting(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(durable_api, name, counting)
    return calls


def open_callback(execution: Execution, name: str) -> Operation:
    return Operation.objects.get(execution=execution, op_type="callback", name=name, ended_at__isnull=True)


def has_open_callback(name: str):
    return lambda e: Operation.objects.filter(execution=e, op_type="callback", name=name, ended_at=None).exists()


def pending_order(lambda_client, dynamodb_client, stack, **overrides):
    arn = order_start(lambda_client, **overrides)
    order = order_for_execution(dynamodb_client, stack.table, arn)
    execution = execution_synced("OrderApproval", arn, until=has_open_callback("approval"))
    return arn, order, execution


def test_fail_open_callback_resumes_the_failure_path(
    admin_client_, admin_user, lambda_client, dynamodb_client, stack, api_calls
):
    arn, order, execution = pending_order(lambda_client, dynamodb_client, stack)
    callback = open_callback(execution, "approval")
    page = admin_client_.get(f"/executions/{execution.pk}/").content.decode()
    confirm_url = f"/executions/{execution.pk}/confirm/fail_callback?op={callback.operation_id}"
    assert confirm_url in page and callback.callback_id not in page  # the page links to the confirmation step
    page = admin_client_.get(confirm_url).content.decode()
    fail_url = f"/executions/{execution.pk}/callbacks/{callback.operation_id}/fail"
    assert fail_url in page and "Fail it before its deadline" in page  # not overdue: an extra confirmation
    assert callback.callback_id not in page

    # Without the extra confirmation nothing is sent (the audit row says why).
    response = admin_client_.post(fail_url, {"reason": "customer withdrew", "confirm": "yes"})
    assert response.status_code == 302 and api_calls == []
    assert OperatorAction.objects.get().outcome == "rejected"

    response = admin_client_.post(
        fail_url, {"reason": "customer withdrew", "confirm": "yes", "confirm_early": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert api_calls == ["callback_fail"]
    html = response.content.decode()
    assert "failed with ManualFailure" in html

    audit = OperatorAction.objects.filter(outcome="succeeded").get()
    assert (audit.username, audit.action, audit.execution_id) == ("admin", "fail_callback", execution.pk)
    assert (audit.operation_id, audit.operation_name, audit.reason) == (
        callback.operation_id,
        "approval",
        "customer withdrew",
    )
    # The order went down its failure path, recording the error type the console sent.
    described = execution_wait(lambda_client, arn)
    assert described["Status"] == "SUCCEEDED"
    stored = order_get(dynamodb_client, stack.table, order["orderId"])
    assert stored["status"] == "failed" and stored["failureType"] == "ManualFailure"
    # The immediate re-sync shows it: the page renders the finished execution and its failed callback.
    execution.refresh_from_db()
    if execution.status == "RUNNING":  # the resume took longer than ACTION_RESYNC_SECONDS
        execution_history_sync(execution_id=execution.pk)
        execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"
    assert execution.result["outcome"] == "failed"
    assert Operation.objects.get(pk=callback.pk).status == "FAILED"
    html = admin_client_.get(f"/executions/{execution.pk}/").content.decode()
    assert "fail_order" in html and "ManualFailure" in html
    assert f'href="/approvals/{order["orderId"]}/"' in html


def test_overdue_callback_fails_without_extra_confirmation_and_double_submit_calls_once(
    admin_client_, lambda_client, dynamodb_client, stack, settings, api_calls
):
    settings.ATTENTION_CALLBACK_SLA_SECONDS = 0  # every open callback is past the SLA
    arn, _order, execution = pending_order(lambda_client, dynamodb_client, stack)
    callback = open_callback(execution, "approval")
    page = admin_client_.get(f"/executions/{execution.pk}/").content.decode()
    assert "fail before deadline" not in page
    nonce = page.split('name="nonce" value="')[1].split('"')[0]
    form = {"reason": "SLA breached", "confirm": "yes", "nonce": nonce}
    url = f"/executions/{execution.pk}/callbacks/{callback.operation_id}/fail"
    first = admin_client_.post(url, form)
    second = admin_client_.post(url, form)
    assert first.status_code == second.status_code == 302
    assert api_calls == ["callback_fail"]
    outcomes = list(OperatorAction.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["succeeded", "rejected"]
    # A fresh form (new nonce) on the same callback: still no second call.
    admin_client_.post(url, {"reason": "again", "confirm": "yes"})
    assert api_calls == ["callback_fail"]
    assert OperatorAction.objects.order_by("-id").first().outcome in ("closed", "rejected", "not_running")
    execution_wait(lambda_client, arn)


def test_closed_callback_gives_a_clear_message_and_an_audit_row(
    admin_client_, lambda_client, dynamodb_client, stack, api_calls
):
    # The approval window is 15 s (long enough to sync it open on a loaded machine, PostgreSQL path included):
    # by the time the admin acts the callback has timed out, but the database (not re-synced) still shows it
    # open: the API answers "closed".
    arn, _order, execution = pending_order(lambda_client, dynamodb_client, stack, approvalTimeoutSeconds=15)
    callback = open_callback(execution, "approval")
    execution_wait(lambda_client, arn)
    response = admin_client_.post(
        f"/executions/{execution.pk}/callbacks/{callback.operation_id}/fail",
        {"reason": "too late", "confirm": "yes", "confirm_early": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert api_calls == ["callback_fail"]
    assert "no longer open" in response.content.decode()
    audit = OperatorAction.objects.get()
    assert audit.outcome == "closed" and audit.error
    # The re-sync then shows the expiry path, and a second attempt is answered from the database.
    assert Execution.objects.get(pk=execution.pk).status == "SUCCEEDED"
    response = admin_client_.post(
        f"/executions/{execution.pk}/callbacks/{callback.operation_id}/fail",
        {"reason": "again", "confirm": "yes", "confirm_early": "yes"},
        follow=True,
    )
    assert response.status_code == 200 and api_calls == ["callback_fail"]
    assert OperatorAction.objects.order_by("-id").first().outcome == "not_running"


def test_heartbeat_on_a_callback_with_a_heartbeat_timeout(admin_client_, lambda_client, stack, api_calls):
    arn = workflow_start(lambda_client, "SyncCallbacks", {"timeout": 300})
    execution = execution_synced("SyncCallbacks", arn, until=has_open_callback("approval"))
    callback = open_callback(execution, "approval")
    assert callback.heartbeat_timeout_seconds == 600  # CallbackStartedDetails.HeartbeatTimeout, as on AWS
    url = f"/executions/{execution.pk}/callbacks/{callback.operation_id}/heartbeat"
    page = admin_client_.get(
        f"/executions/{execution.pk}/confirm/heartbeat?op={callback.operation_id}"
    ).content.decode()
    assert url in page and "(10 m)" in page
    response = admin_client_.post(url, {"confirm": "yes", "reason": "still working on it"}, follow=True)
    assert response.status_code == 200 and "Heartbeat sent" in response.content.decode()
    assert api_calls == ["callback_heartbeat"]
    audit = OperatorAction.objects.get()
    assert (audit.action, audit.outcome, audit.reason) == ("heartbeat", "succeeded", "still working on it")
    # The callback is still open and the execution still running.
    assert lambda_client.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"
    admin_client_.post(f"/executions/{execution.pk}/stop", {"reason": "test cleanup", "confirm": "yes"})


def test_stop_a_running_execution(admin_client_, lambda_client, stack, api_calls):
    arn = workflow_start(lambda_client, "SyncHold", {"timeout": 3600})
    execution = execution_synced("SyncHold", arn, until=has_open_callback("hold"))
    page = admin_client_.get(f"/executions/{execution.pk}/").content.decode()
    assert f"/executions/{execution.pk}/stop" in page
    # Reason and confirmation are both required.
    admin_client_.post(f"/executions/{execution.pk}/stop", {"reason": "", "confirm": "yes"})
    admin_client_.post(f"/executions/{execution.pk}/stop", {"reason": "runaway", "confirm": "no"})
    assert api_calls == [] and not OperatorAction.objects.exists()

    response = admin_client_.post(
        f"/executions/{execution.pk}/stop",
        {"reason": "runaway", "confirm": "yes", "error_type": "OpsStop"},
        follow=True,
    )
    assert response.status_code == 200 and api_calls == ["execution_stop"]
    assert lambda_client.get_durable_execution(DurableExecutionArn=arn)["Status"] == "STOPPED"
    audit = OperatorAction.objects.get()
    assert (audit.action, audit.outcome, audit.operation_id) == ("stop_execution", "succeeded", "")
    execution.refresh_from_db()
    assert execution.status == "STOPPED"
    html = response.content.decode()
    assert "Stop this execution" not in html  # no longer offered

    # Stopping a finished execution: clear message, audit row, no second call, no 500.
    response = admin_client_.post(
        f"/executions/{execution.pk}/stop", {"reason": "again", "confirm": "yes"}, follow=True
    )
    assert response.status_code == 200 and api_calls == ["execution_stop"]
    assert "already finished" in response.content.decode()
    assert OperatorAction.objects.order_by("-id").first().outcome == "not_running"


def test_stop_of_an_execution_that_finished_since_the_last_sync(admin_client_, lambda_client, stack, api_calls):
    arn = workflow_start(lambda_client, "SyncHold", {"timeout": 3600})
    execution = execution_synced("SyncHold", arn, until=has_open_callback("hold"))
    lambda_client.stop_durable_execution(DurableExecutionArn=arn)  # someone else stopped it
    response = admin_client_.post(
        f"/executions/{execution.pk}/stop", {"reason": "runaway", "confirm": "yes"}, follow=True
    )
    assert response.status_code == 200 and api_calls == ["execution_stop"]
    # AWS refuses to stop a finished execution; the emulator accepts it again. Either way: an audit
    # row, a message, no 500, and the re-sync shows the real state.
    audit = OperatorAction.objects.get()
    assert audit.outcome in ("succeeded", "not_running", "failed")
    assert Execution.objects.get(pk=execution.pk).status == "STOPPED"
    assert "STOPPED" in response.content.decode() or "Stopped" in response.content.decode()


@pytest.mark.parametrize("role_client", ["operator_client", "approver_client"])
def test_other_roles_get_403_and_nothing_is_sent(request, role_client, api_calls):
    from tests.executions.page_factories import callback_make, execution_make

    client = request.getfixturevalue(role_client)
    execution = execution_make()
    callback = callback_make(execution, operation_id="cb1")
    for url, data in (
        (f"/executions/{execution.pk}/callbacks/{callback.operation_id}/fail", {"reason": "x", "confirm": "yes"}),
        (f"/executions/{execution.pk}/callbacks/{callback.operation_id}/heartbeat", {"confirm": "yes"}),
        (f"/executions/{execution.pk}/stop", {"reason": "x", "confirm": "yes"}),
        ("/executions/timeouts/fail", {"reason": "x", "confirm": "yes", "targets": [callback.pk]}),
    ):
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "Not allowed" in response.content.decode()
    assert api_calls == [] and not OperatorAction.objects.exists()
    page = client.get(f"/executions/{execution.pk}/").content.decode()
    assert "/callbacks/cb1/fail" not in page and f"/executions/{execution.pk}/stop" not in page


def test_read_only_mode_offers_and_accepts_nothing(admin_client_, settings, api_calls):
    from tests.executions.page_factories import callback_make, execution_make

    settings.READ_ONLY = True
    execution = execution_make(
        needs_attention=True, attention_reasons=[{"code": "callback_overdue", "message": "overdue"}]
    )
    callback = callback_make(execution, operation_id="cb1")
    for url in (f"/executions/{execution.pk}/", "/executions/attention/", "/executions/timeouts/"):
        html = admin_client_.get(url).content.decode()
        assert "Fail callback" not in html and "Stop execution" not in html and "Fail selected" not in html
    assert "Read-only mode" in admin_client_.get(f"/executions/{execution.pk}/").content.decode()
    for url, data in (
        (f"/executions/{execution.pk}/callbacks/{callback.operation_id}/fail", {"reason": "x", "confirm": "yes"}),
        (f"/executions/{execution.pk}/callbacks/{callback.operation_id}/heartbeat", {"confirm": "yes"}),
        (f"/executions/{execution.pk}/stop", {"reason": "x", "confirm": "yes"}),
        ("/executions/timeouts/fail", {"reason": "x", "confirm": "yes", "targets": [callback.pk]}),
    ):
        response = admin_client_.post(url, data)
        assert response.status_code == 403 and "read-only" in response.content.decode()
    assert api_calls == [] and not OperatorAction.objects.exists()


def test_lambda_unreachable_gives_a_clear_message(admin_client_, settings, api_calls):
    from core.aws import aws_clients_reset
    from tests.executions.page_factories import execution_make

    settings.LAMBDA_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.AWS_MAX_ATTEMPTS = 1
    settings.ACTION_RESYNC_SECONDS = 0
    aws_clients_reset()
    execution = execution_make()
    response = admin_client_.post(f"/executions/{execution.pk}/stop", {"reason": "x", "confirm": "yes"}, follow=True)
    assert response.status_code == 200
    assert "could not be reached" in response.content.decode()
    audit = OperatorAction.objects.get()
    assert audit.outcome == "failed" and "unreachable" in audit.error


def test_bulk_fail_from_the_timeouts_list_reports_each_outcome(
    admin_client_, lambda_client, dynamodb_client, stack, settings, api_calls
):
    settings.ATTENTION_CALLBACK_SLA_SECONDS = 0
    arns, executions = [], []
    for _ in range(2):
        arn, _order, execution = pending_order(lambda_client, dynamodb_client, stack)
        arns.append(arn)
        executions.append(execution)
    # A third whose callback times out on its own before the admin submits.
    late_arn, _, late = pending_order(lambda_client, dynamodb_client, stack, approvalTimeoutSeconds=15)
    page = admin_client_.get("/executions/timeouts/")
    overdue = {op.execution_id: op for op in page.context["overdue"]}
    assert {e.pk for e in [*executions, late]} <= set(overdue)
    execution_wait(lambda_client, late_arn)
    targets = [overdue[e.pk].pk for e in [*executions, late]]
    response = admin_client_.post(
        "/executions/timeouts/fail", {"reason": "window over", "confirm": "yes", "targets": targets}
    )
    assert response.status_code == 200
    results = {op.execution_id: result.audit.outcome for op, result in response.context["results"]}
    assert results == {executions[0].pk: "succeeded", executions[1].pk: "succeeded", late.pk: "closed"}
    html = response.content.decode()
    assert "Failed 2 of 3 selected callbacks" in html and 'data-outcome="closed"' in html
    for arn in arns:
        assert execution_wait(lambda_client, arn)["Status"] == "SUCCEEDED"
    assert api_calls.count("callback_fail") == 3
    # Without a reason nothing is sent.
    response = admin_client_.post("/executions/timeouts/fail", {"reason": "", "confirm": "yes", "targets": targets})
    assert response.status_code == 400 and api_calls.count("callback_fail") == 3


@pytest.mark.parametrize(
    ("code", "status", "outcome", "message"),
    [
        ("CallbackTimeoutException", 400, "closed", "no longer open"),
        ("TooManyRequestsException", 429, "failed", "throttling"),
    ],
)
def test_aws_error_shapes_the_emulator_cannot_produce(admin_client_, settings, code, status, outcome, message):
    """botocore Stubber (a unit-speed check of the error mapping; the gateway produces both too): a closed
    callback answers CallbackTimeoutException, throttling TooManyRequestsException; neither may become a 500."""
    from botocore.stub import Stubber

    from core.aws import aws_client, aws_interactive
    from tests.executions.page_factories import callback_make, execution_make

    settings.ACTION_RESYNC_SECONDS = 0
    execution = execution_make()
    callback = callback_make(execution, operation_id="cb1")
    with aws_interactive():  # admin actions make their call with the interactive client
        client = aws_client("lambda")
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "send_durable_execution_callback_failure",
            service_error_code=code,
            http_status_code=status,
            service_message="stubbed",
        )
        response = admin_client_.post(
            f"/executions/{execution.pk}/callbacks/{callback.operation_id}/fail",
            {"reason": "window over", "confirm": "yes"},
            follow=True,
        )
    assert response.status_code == 200
    assert message in response.content.decode()
    audit = OperatorAction.objects.get()
    assert audit.outcome == outcome and audit.error
