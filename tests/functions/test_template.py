"""template.yaml (SAM) is validated offline: cfn-lint, then the SAM translator."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from functions.order_approval import app
from functions.registry import BUILTIN_FUNCTIONS

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class _PolicyLoader:
    """The AWS managed policies template.yaml names, by name (the translator asks for their ARNs)."""

    def load(self):
        names = ("AWSLambdaBasicExecutionRole", "AWSLambdaBasicDurableExecutionRolePolicy")
        return {name: f"arn:aws:iam::aws:policy/service-role/{name}" for name in names}


@pytest.fixture(scope="module")
def cloudformation():
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    document = yaml_parse(TEMPLATE.read_text())
    # `sam package` replaces the local CodeUri with the uploaded artifact; do the same.
    document["Resources"]["OrderApprovalFunction"]["Properties"]["CodeUri"] = "s3://artifacts/order-approval.zip"
    return transform(document, {"AWS::Region": "us-east-1"}, _PolicyLoader())


def test_cfn_lint_is_clean():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_function_has_the_durable_config_the_local_gateway_uses(cloudformation):
    function = cloudformation["Resources"]["OrderApprovalFunction"]
    assert function["Type"] == "AWS::Lambda::Function"
    properties = function["Properties"]
    assert properties["FunctionName"] == "OrderApproval"
    assert properties["Handler"] == "functions.order_approval.app.handler"
    (spec,) = [s for s in BUILTIN_FUNCTIONS if s.name == "OrderApproval"]
    assert properties["DurableConfig"] == {
        "ExecutionTimeout": spec.execution_timeout,
        "RetentionPeriodInDays": spec.retention_days,
    }
    assert properties["DurableConfig"]["ExecutionTimeout"] > app.MAX_APPROVAL_TIMEOUT_SECONDS
    assert properties["Environment"]["Variables"]["ORDERS_TABLE"] == {"Ref": "OrdersTable"}


def test_table_matches_what_the_dashboard_queries(cloudformation):
    table = cloudformation["Resources"]["OrdersTable"]["Properties"]
    assert table["TableName"] == "Orders"
    assert table["KeySchema"] == [{"AttributeName": "orderId", "KeyType": "HASH"}]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "status-createdAt-index"
    assert index["KeySchema"] == [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "createdAt", "KeyType": "RANGE"},
    ]
