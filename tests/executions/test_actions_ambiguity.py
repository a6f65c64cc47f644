"""Admin actions when the network lies: the gateway's fault mode (functions/gateway/faults.py) delays, drops or
fails the response *after* the request reached the emulator, through real workflows (no mocks). The audit row
is written before the send, an ambiguous failure is resolved from the re-read history, or stays "sent, not yet
confirmed" until a later sync proves it; the form's nonce survives a failure that changed nothing; error texts
never carry the callback id; every action answers within DECISION_TIMEOUT_SECONDS."""

from __future__ import annotations

import time

import pytest

from executions import actions
from executions.models import Execution, Operation, OperatorAction
from executions.sync import execution_history_sync
from tests.approvals.test_ambiguity import gateway_faults  # noqa: F401  (the fixture)
from tests.executions.sync_support import execution_synced, workflow_start
from tests.orders import execution_wait

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FAIL = "SendDurableExecutionCallbackFailure"
STOP = "StopDurableExecution"
HISTORY = "GetDurableExecutionHistory"


@pytest.fixture(autouse=True)
def stack(settings, aws):
    settings.DURABLE_API_MAX_RPS = 500
    settings.READ_ONLY = False
    settings.AWS_INTERACTIVE_TIMEOUT_SECONDS = 2  # read timeout 1.2 s: a 4 s delay is a lost answer
    return aws


def held(lambda_client):
    arn = workflow_start(lambda_client, "SyncHold", {"timeout": 3600})
    execution = execution_synced(
        "SyncHold",
        arn,
        until=lambda e: Operation.objects.filter(execution=e, op_type="callback", ended_at=None).exists(),
    )
    return arn, execution, Operation.objects.get(execution=execution, op_type="callback")


@pytest.mark.parametrize("fault", ["delay", "drop", "error"])
def test_a_delivered_callback_failure_whose_answer_is_lost_is_succeeded_once(
    fault,
    admin_user,
    lambda_client,
    gateway_faults,  # noqa: F811
):
    arn, execution, callback = held(lambda_client)
    gateway_faults(after=fault, operation=FAIL, delaySeconds=4)
    result = actions.callback_fail(
        user=admin_user, execution=execution, operation=callback, reason="withdrawn", nonce="n1", early_confirmed=True
    )
    assert result.audit.outcome == "succeeded", (result.message, result.audit.error)
    assert "failed with ManualFailure" in result.message
    assert execution_wait(lambda_client, arn)["Status"] == "FAILED"
    assert OperatorAction.objects.filter(action="fail_callback").count() == 1
    again = actions.callback_fail(
        user=admin_user, execution=execution, operation=callback, reason="withdrawn", nonce="n1", early_confirmed=True
    )
    assert again.audit.outcome == "rejected"  # the nonce is consumed now that the outcome is known


def test_a_stop_answered_500_after_it_stopped_is_succeeded(admin_user, lambda_client, gateway_faults):  # noqa: F811
    arn, execution, _ = held(lambda_client)
    gateway_faults(after="error", operation=STOP)
    result = actions.execution_stop(user=admin_user, execution=execution, reason="runaway", nonce="s1")
    assert result.audit.outcome == "succeeded", (result.message, result.audit.error)
    assert execution_wait(lambda_client, arn)["Status"] == "STOPPED"


def test_an_unprovable_outcome_is_pending_then_resolved_by_the_next_sync(
    admin_client_,
    admin_user,
    lambda_client,
    gateway_faults,  # noqa: F811
):
    arn, execution, callback = held(lambda_client)
    gateway_faults(after="delay", operation=FAIL, delaySeconds=4)
    gateway_faults(after="error", operation=HISTORY, count=50)  # the re-read cannot prove anything yet
    began = time.monotonic()
    url = f"/executions/{execution.pk}/callbacks/{callback.operation_id}/fail"
    page = admin_client_.post(
        url, {"reason": "withdrawn", "confirm": "yes", "confirm_early": "yes", "nonce": "u1"}, follow=True
    )
    assert time.monotonic() - began < 15
    html = page.content.decode()
    assert "Sent, not yet confirmed: it will be resolved automatically" in html
    assert callback.callback_id not in html
    audit = OperatorAction.objects.get(action="fail_callback")
    assert audit.outcome == "unknown" and callback.callback_id not in audit.error
    log = admin_client_.get("/executions/actions/").content.decode()
    assert "sent, not yet confirmed" in log
    # A second submission while it is pending sends nothing.
    second = actions.callback_fail(
        user=admin_user, execution=execution, operation=callback, reason="again", nonce="u2", early_confirmed=True
    )
    assert second.audit.outcome == "rejected" and "not yet confirmed" in second.message

    gateway_faults(after="error", operation=HISTORY, count=0)
    assert execution_wait(lambda_client, arn)["Status"] == "FAILED"
    execution_history_sync(execution_id=execution.pk)
    audit.refresh_from_db()
    assert audit.outcome == "succeeded", audit.error


def test_a_failure_that_sent_nothing_keeps_the_nonce_and_hides_the_callback_id(
    admin_user, lambda_client, settings, aws
):
    arn, execution, callback = held(lambda_client)
    settings.LAMBDA_ENDPOINT_URL = "http://127.0.0.1:9"  # refused: provably never sent
    first = actions.callback_fail(
        user=admin_user, execution=execution, operation=callback, reason="x", nonce="k1", early_confirmed=True
    )
    assert first.audit.outcome == "failed" and "nothing was sent" in first.message
    assert callback.callback_id not in first.message and callback.callback_id not in first.audit.error
    settings.LAMBDA_ENDPOINT_URL = aws.gateway_url
    retry = actions.callback_fail(
        user=admin_user, execution=execution, operation=callback, reason="x", nonce="k1", early_confirmed=True
    )
    assert retry.audit.outcome == "succeeded", retry.message
    assert execution_wait(lambda_client, arn)["Status"] == "FAILED"


def test_a_hung_lambda_answers_within_the_decision_timeout(admin_user, lambda_client, settings, gateway_faults):  # noqa: F811
    settings.AWS_INTERACTIVE_TIMEOUT_SECONDS = 5
    settings.DECISION_TIMEOUT_SECONDS = 15
    _, execution, _ = held(lambda_client)
    gateway_faults(after="delay", operation=STOP, delaySeconds=60)
    gateway_faults(after="delay", operation=HISTORY, delaySeconds=60, count=20)
    began = time.monotonic()
    result = actions.execution_stop(user=admin_user, execution=execution, reason="runaway", nonce="h1")
    assert time.monotonic() - began < settings.DECISION_TIMEOUT_SECONDS
    assert result.audit.outcome == "unknown" and "not yet confirmed" in result.message


def test_an_imported_copy_offers_and_accepts_no_action(admin_client_, admin_user):
    from executions.sync import history_import

    copy = history_import(
        events=[
            {"EventId": 1, "EventType": "ExecutionStarted", "Id": "x1", "EventTimestamp": "2025-01-01T00:00:00Z"},
            {
                "EventId": 2,
                "EventType": "CallbackStarted",
                "Id": "cb",
                "Name": "approval",
                "EventTimestamp": "2025-01-01T00:00:01Z",
                "CallbackStartedDetails": {"CallbackId": "a-live-callback-id-0123456789", "Timeout": 60},
            },
        ],
        function_name="OrderApproval",
    )
    page = admin_client_.get(f"/executions/{copy.pk}/").content.decode()
    assert f"/executions/{copy.pk}/callbacks/cb/fail" not in page and "Stop…" not in page
    response = admin_client_.post(
        f"/executions/{copy.pk}/callbacks/cb/fail", {"reason": "x", "confirm": "yes", "confirm_early": "yes"}
    )
    assert response.status_code == 403
    assert response.status_code == 403 and not OperatorAction.objects.exists()
    operation = Operation.objects.get(execution=copy, op_type="callback")
    result = actions.callback_fail(user=admin_user, execution=copy, operation=operation, reason="x")
    assert result.audit.outcome == "rejected"
    assert not Execution.objects.filter(pk=copy.pk, imported=False).exists()
    timeouts = admin_client_.get("/executions/timeouts/?since=all").content.decode()
    assert f"/executions/{copy.pk}/callbacks/" not in timeouts
