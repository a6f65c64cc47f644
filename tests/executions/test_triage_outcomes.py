"""The order's outcome, from real OrderApproval executions on the local stack (emulator, gateway, DynamoDB Local):
approved, rejected, expired, failed and invalid each show their badge on the execution page, and the triage lists
treat them as business outcomes (only the invalid order, whose execution failed, is a failure)."""

from __future__ import annotations

import re

import pytest

from executions import durable_api
from tests.executions.sync_support import execution_synced
from tests.orders import execution_wait, order_for_execution, order_start

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def fast_budget(settings, aws):
    settings.DURABLE_API_MAX_RPS = 500


def _finished(lambda_client, arn):
    execution_wait(lambda_client, arn, timeout=60)
    return execution_synced("OrderApproval", arn, until=lambda e: e.is_terminal and e.history_complete)


def test_each_outcome_has_its_badge_and_only_real_failures_are_failures(
    aws, lambda_client, dynamodb_client, operator_client
):
    arns = {}
    for outcome in ("approved", "rejected", "failed"):
        arn = order_start(lambda_client, customerName=f"Outcome {outcome}")
        order = order_for_execution(dynamodb_client, aws.table, arn)
        if outcome == "failed":
            durable_api.callback_fail(
                callback_id=order["callbackId"], error_type="ManualFailure", message="window over"
            )
        else:
            durable_api.callback_succeed(
                callback_id=order["callbackId"], result={"approved": outcome == "approved", "decidedBy": "amy"}
            )
        arns[outcome] = arn
    arns["expired"] = order_start(lambda_client, customerName="Outcome expired", approvalTimeoutSeconds=1)
    arns["invalid"] = order_start(lambda_client, customerName="Outcome invalid", amount=-5)
    executions = {outcome: _finished(lambda_client, arn) for outcome, arn in arns.items()}

    words = {
        "approved": "Approved",
        "rejected": "Rejected",
        "expired": "Approval timed out: order expired",
        "failed": "Approval failed: order failed",
        "invalid": "Order invalid: it never reached an approver",
    }
    for outcome, execution in executions.items():
        html = operator_client.get(f"/executions/{execution.pk}/").content.decode()
        assert f'class="pill outcome {outcome}"' in html, outcome
        assert f"<span>{words[outcome]}</span>" in html, outcome

    failures = operator_client.get("/executions/failures/?since=all").content.decode()
    listed = set(re.findall(r'data-execution="(\d+)"', failures))
    assert str(executions["invalid"].pk) in listed
    for outcome in ("approved", "rejected", "expired", "failed"):
        assert str(executions[outcome].pk) not in listed, outcome  # business outcomes, not failures
    assert "InvalidOrderError" in failures

    timeouts = operator_client.get("/executions/timeouts/?since=all").content.decode()
    assert f'data-execution="{executions["expired"].pk}"' in timeouts
    assert "Approval timed out: order expired" in timeouts
