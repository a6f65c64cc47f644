"""deploy/iam-policy.json is enough for the code, and no more; the iam_policy command; template.yaml.

"Enough" is checked against the code itself: every boto3 operation that the dashboard's production code
can call (found by reading its syntax tree) must be allowed, and every allowed action must be one the code
calls. The policy's shape, scope and rendering are unit tests (tests/unit/test_iam_policy.py).
"""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import boto3
import pytest
from django.core.management import CommandError, call_command

from dashboard.iam import iam_policy_render, iam_policy_template

PROJECT = Path(__file__).resolve().parents[2]
PRODUCTION_CODE = ["approvals", "executions", "dashboard"]
# Code that never runs in a deployment: the local stack and the local demo-data commands.
LOCAL_ONLY_PATHS = {
    "devstack",
    "dashboard/management/commands/bootstrap_local.py",
    "dashboard/management/commands/seed_orders.py",
}
# Gateway functions used only by the local-only code above (asserted below).
LOCAL_ONLY_FUNCTIONS = {"orders_table_create", "execution_start"}


def _operations(service: str) -> dict[str, str]:
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    operations = dict(client.meta.method_to_api_mapping)
    for waiter in client.waiter_names:
        operations[f"waiter:{waiter}"] = client.get_waiter(waiter).config.operation
    return operations


def _production_files() -> list[Path]:
    """The production modules (the gateways among them are the only code that calls AWS)."""
    files = []
    for top in PRODUCTION_CODE:
        for path in sorted((PROJECT / top).rglob("*.py")):
            relative = path.relative_to(PROJECT).as_posix()
            if "/migrations/" in relative or any(relative.startswith(p) for p in LOCAL_ONLY_PATHS):
                continue
            files.append(path)
    return files


def _used_operations() -> dict[str, set[str]]:
    """{snake_case operation or waiter:name: {'file:function', ...}} for the production code."""
    known = set(_operations("lambda")) | set(_operations("dynamodb"))
    used: dict[str, set[str]] = {}
    for path in _production_files():
        source = path.read_text()
        if "aws_client(" not in source:
            continue  # only gateways build boto3 clients (dashboard/aws.py is the one factory)
        tree = ast.parse(source)
        for top in tree.body:
            scope = getattr(top, "name", "<module>")
            if scope in LOCAL_ONLY_FUNCTIONS:
                continue
            for node in ast.walk(top):
                names = []
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    names.append(node.func.attr)
                    if node.func.attr == "get_waiter" and node.args and isinstance(node.args[0], ast.Constant):
                        names.append(f"waiter:{node.args[0].value}")
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    names.append(node.value)
                for name in names:
                    if name in known:
                        used.setdefault(name, set()).add(f"{path.relative_to(PROJECT)}:{scope}")
    return used


def _iam_actions(operation: str) -> set[str]:
    actions = set()
    for service, prefix in (("lambda", "lambda"), ("dynamodb", "dynamodb")):
        mapping = _operations(service)
        if operation in mapping:
            actions.add(f"{prefix}:{mapping[operation]}")
    return actions


def _allowed_actions(policy) -> set[str]:
    return {action for statement in policy["Statement"] for action in statement["Action"]}


def _email_actions() -> set[str]:
    """Notification email in production goes through django-anymail's Amazon SES backend
    (EMAIL_BACKEND=anymail.backends.amazon_ses.EmailBackend, README): it calls SES v2 `SendEmail` with the raw
    MIME message, which IAM authorises as `ses:SendRawEmail`. Read from the installed backend, not assumed."""
    import inspect

    from anymail.backends import amazon_ses

    source = inspect.getsource(amazon_ses)
    assert '"sesv2"' in source and 'api_name = "send_email"' in source and '"Raw"' in source
    return {"ses:SendRawEmail"}


def test_every_operation_the_code_calls_is_allowed_and_nothing_more():
    used = _used_operations()
    required = {action for operation in used for action in _iam_actions(operation)} | _email_actions()
    allowed = _allowed_actions(iam_policy_template())
    missing = {
        a: sorted(w for op, where in used.items() if a in _iam_actions(op) for w in where) for a in required - allowed
    }
    assert not missing, f"the code calls APIs the policy does not allow: {missing}"
    assert allowed <= required, f"the policy allows APIs the code never calls: {allowed - required}"


def test_local_only_gateway_functions_are_not_called_by_production_code():
    for path in _production_files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                assert name not in LOCAL_ONLY_FUNCTIONS, f"{path}: {name} needs more than the IAM policy allows"


def test_iam_policy_command_prints_the_policy_for_the_configured_deployment(settings):
    settings.DURABLE_FUNCTIONS = ["OrderApproval", "Refunds"]
    settings.ORDERS_TABLE = "ProdOrders"
    out = io.StringIO()
    call_command("iam_policy", "--account-id", "210987654321", "--region", "us-west-2", stdout=out)
    policy = json.loads(out.getvalue())
    resources = [r for s in policy["Statement"] for r in s["Resource"]]
    assert "arn:aws:lambda:us-west-2:210987654321:function:Refunds:*" in resources
    assert "arn:aws:dynamodb:us-west-2:210987654321:table/ProdOrders" in resources
    with pytest.raises(CommandError, match="12 digits"):
        call_command("iam_policy", "--account-id", "42")


def test_policy_names_what_template_yaml_deploys():
    """The default function, table and index of the policy are the ones the SAM template creates."""
    from cfnlint.decode.decode import decode_str

    from approvals.orders_table import STATUS_INDEX

    template, problems = decode_str((PROJECT / "template.yaml").read_text())
    assert not problems
    resources = template["Resources"].values()
    (table,) = [r["Properties"] for r in resources if r["Type"] == "AWS::DynamoDB::Table"]
    functions = [r["Properties"].get("FunctionName") for r in resources if r["Type"] == "AWS::Serverless::Function"]
    assert STATUS_INDEX in [index["IndexName"] for index in table["GlobalSecondaryIndexes"]]
    policy = iam_policy_render(
        account_id="123456789012", region="us-east-1", functions=functions, orders_table=table["TableName"]
    )
    resources_text = json.dumps(policy)
    assert f"table/{table['TableName']}/index/{STATUS_INDEX}" in resources_text
    assert all(f"function:{name}:*" in resources_text for name in functions)
