"""Order id, customer and outcome on the executions list: stored at sync time from a real order-approval run."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from executions import durable_api
from executions.models import Execution
from executions.order_fields import order_outcome_of, order_ref_from_step_details
from tests.orders import execution_wait, order_for_execution, order_start


@pytest.fixture
def order_sync(settings, aws):
    settings.DURABLE_API_MAX_RPS = 500
    settings.DURABLE_FUNCTIONS = ["OrderApproval"]
    settings.ORDER_APPROVAL_FUNCTION = "OrderApproval"

    def sync():
        call_command("sync_executions", "--function", "OrderApproval", stdout=io.StringIO())

    return sync


@pytest.mark.django_db
@pytest.mark.slow
def test_order_columns_from_a_real_order_approval_execution(
    order_sync, lambda_client, dynamodb_client, operator_client
):
    arn = order_start(lambda_client, customerName="Columns Customer Ltd")
    order = order_for_execution(dynamodb_client, _table(), arn)
    order_sync()
    execution = Execution.objects.get(arn=arn)
    assert execution.order_id == order["orderId"] and execution.customer_name == "Columns Customer Ltd"
    assert execution.order_outcome == ""  # still waiting for its approver

    durable_api.callback_succeed(callback_id=order["callbackId"], result={"approved": False, "decidedBy": "amy"})
    execution_wait(lambda_client, arn)
    order_sync()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED" and execution.order_outcome == "rejected"

    # No decision within the window: the execution SUCCEEDS and the outcome says what happened, "expired".
    expired_arn = order_start(lambda_client, customerName="Expired Columns", approvalTimeoutSeconds=2)
    execution_wait(lambda_client, expired_arn)
    order_sync()
    expired = Execution.objects.get(arn=expired_arn)
    assert expired.status == "SUCCEEDED" and expired.order_outcome == "expired"
    body = operator_client.get(reverse("executions:list"), {"q": "Expired Columns"}).content.decode()
    assert ">expired<" in body and expired.order_id[:8] in body

    # An invalid order fails the execution with InvalidOrderError: outcome "invalid".
    invalid_arn = order_start(lambda_client, customerName="Invalid Columns", amount=-5)
    execution_wait(lambda_client, invalid_arn)
    order_sync()
    invalid = Execution.objects.get(arn=invalid_arn)
    assert invalid.status == "FAILED" and invalid.order_outcome == "invalid" and invalid.order_id

    # The list shows the columns, and its search matches the short order id, the full one and the customer.
    url = reverse("executions:list")
    for query in (order["orderId"][:8], order["orderId"], "columns customer", arn.split("/")[-1][:10]):
        body = operator_client.get(url, {"q": query}).content.decode()
        assert execution.name in body or arn[-20:] in body, query
        assert "Columns Customer Ltd" in body and order["orderId"][:8] in body and ">rejected<" in body
    body = operator_client.get(url, {"q": "Invalid Columns"}).content.decode()
    assert ">invalid<" in body and "Columns Customer Ltd" not in body


def _table():
    from django.conf import settings

    return settings.ORDERS_TABLE


@pytest.mark.django_db
def test_other_functions_show_a_dash(operator_client, settings):
    settings.ORDER_APPROVAL_FUNCTION = "OrderApproval"
    Execution.objects.create(
        arn="arn:aws:lambda:us-east-1:1:function:Other/durable-execution/x/1",
        name="other-1",
        function_name="Other",
        status="SUCCEEDED",
    )
    body = operator_client.get(reverse("executions:list")).content.decode()
    row = body[body.index("other-1") :]
    row = row[: row.index("</tr>")]
    assert row.count("—") == 4  # order, customer, outcome, and the unknown start (the instant formatter writes "—")


def test_order_fields_are_read_defensively():
    assert order_ref_from_step_details(None) is None
    assert order_ref_from_step_details({"Result": {"Payload": "not json"}}) is None
    assert order_ref_from_step_details({"Result": {"Payload": '{"orderId": 5}'}}) is None
    ref = order_ref_from_step_details({"Result": {"Payload": '{"orderId": "o-1", "customerName": null}'}})
    assert ref.order_id == "o-1" and ref.customer_name == ""
    assert order_outcome_of(result={"outcome": "expired"}, error_type="", terminal=True) == "expired"
    assert order_outcome_of(result={"outcome": "expired"}, error_type="", terminal=False) == ""
    assert order_outcome_of(result=None, error_type="InvalidOrderError", terminal=True) == "invalid"
    assert order_outcome_of(result=None, error_type="ManualStop", terminal=True) == ""


@pytest.mark.django_db
def test_executions_synced_before_are_backfilled_by_the_migration(settings):
    import importlib

    from django.apps import apps

    from executions.models import HistoryEvent

    settings.ORDER_APPROVAL_FUNCTION = "OrderApproval"
    migration = importlib.import_module("executions.migrations.0010_order_fields_backfill")
    old = Execution.objects.create(
        arn="arn:old:1", name="old-1", function_name="OrderApproval", status="SUCCEEDED", result={"outcome": "approved"}
    )
    invalid = Execution.objects.create(
        arn="arn:old:2", name="old-2", function_name="OrderApproval", status="FAILED", error_type="InvalidOrderError"
    )
    other = Execution.objects.create(arn="arn:old:3", name="old-3", function_name="Other", status="SUCCEEDED")
    for execution, order_id in ((old, "o-old-1"), (invalid, "o-old-2"), (other, "o-old-3")):
        payload = json.dumps({"orderId": order_id, "customerName": "Old Customer"})
        HistoryEvent.objects.create(
            execution=execution, event_id=3, event_type="StepSucceeded", name="create_order",
            details={"Result": {"Payload": payload}}, raw={},
        )  # fmt: skip
    migration.order_fields_backfill(apps, None)
    rows = {e.name: (e.order_id, e.customer_name, e.order_outcome) for e in Execution.objects.all()}
    assert rows == {
        "old-1": ("o-old-1", "Old Customer", "approved"),
        "old-2": ("o-old-2", "Old Customer", "invalid"),
        "old-3": ("", "", ""),
    }
