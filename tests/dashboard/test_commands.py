"""bootstrap_local and seed_orders against the real local stack."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.orders import execution_wait, order_for_execution


@pytest.mark.django_db
def test_bootstrap_local_creates_table_and_demo_users_idempotently(aws, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    settings.DEMO_PASSWORD = ""
    out = io.StringIO()
    call_command("bootstrap_local", stdout=out)
    text = out.getvalue()
    assert "table Orders: already exists" in text  # the session fixture created it
    password = (tmp_path / "demo-password").read_text().strip()
    assert f"demo password (generated, kept in {tmp_path / 'demo-password'}): {password}" in text
    User = get_user_model()
    for username, group in (("approver", "Approvers"), ("operator", "Operators"), ("admin", "Admins")):
        user = User.objects.get(username=username)
        assert user.check_password(password)
        assert list(user.groups.values_list("name", flat=True)) == [group]

    again = io.StringIO()
    call_command("bootstrap_local", stdout=again)
    assert "user approver (Approvers): kept" in again.getvalue()
    assert User.objects.get(username="approver").check_password(password)


@pytest.mark.django_db
def test_bootstrap_local_uses_demo_password(aws, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    settings.DEMO_PASSWORD = "correct-horse-battery"
    call_command("bootstrap_local", stdout=io.StringIO())
    assert get_user_model().objects.get(username="admin").check_password("correct-horse-battery")


@pytest.mark.django_db
def test_bootstrap_local_refuses_outside_local_mode(settings):
    settings.LOCAL_MODE = False
    with pytest.raises(CommandError, match="local mode"):
        call_command("bootstrap_local", stdout=io.StringIO())


def test_seed_orders_starts_pending_orders_not_requested_by_demo_users(aws, lambda_client, dynamodb_client):
    out = io.StringIO()
    call_command("seed_orders", "--count", "3", "--seed", "7", stdout=out)
    arns = out.getvalue().split()
    assert len(arns) == 3 and len(set(arns)) == 3
    for arn in arns:
        order = order_for_execution(dynamodb_client, aws.table, arn)
        assert order["status"] == "pending_approval"
        assert order["requestedBy"] not in ("approver", "operator", "admin")
        assert order["customerName"] and order["items"] and order["amount"] > 0
        assert lambda_client.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"


def test_seed_orders_reports_an_unreachable_lambda_endpoint(aws, settings):
    from core.aws import aws_clients_reset
    from devstack.services import free_port

    settings.LAMBDA_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    settings.AWS_MAX_ATTEMPTS = 1
    aws_clients_reset()
    with pytest.raises(CommandError, match="could not start an execution of OrderApproval"):
        call_command("seed_orders", "--count", "1", stdout=io.StringIO())


def test_seeded_orders_can_be_completed(aws, lambda_client, dynamodb_client):
    import json

    out = io.StringIO()
    call_command("seed_orders", "--count", "1", "--timeout", "1", stdout=out)
    arn = out.getvalue().split()[0]
    order_for_execution(dynamodb_client, aws.table, arn)
    assert json.loads(execution_wait(lambda_client, arn)["Result"])["outcome"] == "expired"
