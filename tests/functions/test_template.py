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


def test_push_to_the_console_is_optional_and_needs_a_token(cloudformation):
    parameters = cloudformation["Parameters"]
    assert parameters["ConsoleUrl"]["Default"] == ""
    assert parameters["ConsoleIngestToken"]["NoEcho"] is True
    assert cloudformation["Conditions"]["PushToConsole"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ConsoleUrl"}, ""]}]}
    (rule,) = cloudformation["Rules"].values()
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ConsoleIngestToken"}, ""]}]}
    pushing = [
        name
        for name, resource in cloudformation["Resources"].items()
        if resource["Type"].startswith(("AWS::Events::", "AWS::SQS::")) or name == "ConsoleEventsRole"
    ]
    assert len(pushing) == 6
    assert all(cloudformation["Resources"][name].get("Condition") == "PushToConsole" for name in pushing)


def test_the_function_reports_to_the_console_through_its_plugin(cloudformation):
    variables = cloudformation["Resources"]["OrderApprovalFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["DURABLE_EXECUTION_PLUGINS"] == {"Fn::If": ["PushToConsole", "durable-console", ""]}
    assert variables["DURABLE_CONSOLE_PUSH_URL"] == {
        "Fn::If": ["PushToConsole", {"Fn::Sub": "${ConsoleUrl}/ingest/operations"}, ""]
    }
    assert variables["DURABLE_CONSOLE_PUSH_TOKEN"] == {"Ref": "ConsoleIngestToken"}
    # The plugin is installed from the function's requirements (CodeUri is the repository root).
    requirements = (TEMPLATE.parent / "requirements.txt").read_text().splitlines()
    assert any(line.split()[-1] == "./functions/console_push" for line in requirements if line.strip())


def test_eventbridge_sends_the_functions_status_changes_to_the_console(cloudformation):
    resources = cloudformation["Resources"]
    rule = resources["ExecutionStatusChangeRule"]
    assert rule["Type"] == "AWS::Events::Rule"
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.lambda"]
    assert pattern["detail-type"] == ["Durable Execution Status Change"]
    function_arn = {"Fn::GetAtt": ["OrderApprovalFunction", "Arn"]}
    assert pattern["detail"]["functionArn"] == [function_arn, {"prefix": {"Fn::Sub": "${OrderApprovalFunction.Arn}:"}}]
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ConsoleEventsDestination", "Arn"]}
    assert target["RoleArn"] == {"Fn::GetAtt": ["ConsoleEventsRole", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ConsoleEventsDeadLetterQueue", "Arn"]}}
    # Retried for up to an hour, then the dead-letter queue (README: Pointing it at a real AWS account).
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 24, "MaximumEventAgeInSeconds": 3600}

    destination = resources["ConsoleEventsDestination"]["Properties"]
    assert destination["InvocationEndpoint"] == {"Fn::Sub": "${ConsoleUrl}/ingest/eventbridge"}
    assert destination["HttpMethod"] == "POST"
    assert destination["InvocationRateLimitPerSecond"] == 20  # the rate the README states
    assert destination["ConnectionArn"] == {"Fn::GetAtt": ["ConsoleEventsConnection", "Arn"]}

    connection = resources["ConsoleEventsConnection"]["Properties"]
    assert connection["AuthorizationType"] == "API_KEY"
    assert connection["AuthParameters"]["ApiKeyAuthParameters"] == {
        "ApiKeyName": "Authorization",
        "ApiKeyValue": {"Fn::Sub": "Bearer ${ConsoleIngestToken}"},
    }

    role = resources["ConsoleEventsRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    ((statement,),) = [policy["PolicyDocument"]["Statement"] for policy in role["Policies"]]
    assert statement == {
        "Effect": "Allow",
        "Action": "events:InvokeApiDestination",
        "Resource": {"Fn::GetAtt": ["ConsoleEventsDestination", "Arn"]},
    }
    (queue_statement,) = resources["ConsoleEventsDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert queue_statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert queue_statement["Action"] == "sqs:SendMessage"
    assert queue_statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {
        "Fn::GetAtt": ["ExecutionStatusChangeRule", "Arn"]
    }
