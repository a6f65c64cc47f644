"""deploy/iam-policy.json and its rendering (dashboard/iam.py): least privilege in shape and in scope.

That the policy is enough for the code (every boto3 operation the production code calls is allowed, and
nothing more) is checked against the code itself in tests/production/test_iam_policy.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dashboard.iam import POLICY_TEMPLATE, iam_policy_render, iam_policy_template

PROJECT = Path(__file__).resolve().parents[2]
EXPECTED_ACTIONS = {
    "lambda:ListDurableExecutionsByFunction",
    "lambda:GetDurableExecution",
    "lambda:GetDurableExecutionHistory",
    "lambda:SendDurableExecutionCallbackSuccess",
    "lambda:SendDurableExecutionCallbackFailure",
    "lambda:SendDurableExecutionCallbackHeartbeat",
    "lambda:StopDurableExecution",
    "lambda:PauseDurableExecution",
    "lambda:ResumeDurableExecution",
    "lambda:DeleteDurableExecution",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
    "ses:SendRawEmail",
}
ARN_LAMBDA = re.compile(r"^arn:aws:lambda:\$\{AWS::Region\}:\$\{AWS::AccountId\}:function:\$\{FunctionName\}(:\*)?$")
# Notification email through Amazon SES (django-anymail): the account's verified identities in the region.
ARN_SES = re.compile(r"^arn:aws:ses:\$\{AWS::Region\}:\$\{AWS::AccountId\}:identity/\*$")
ARN_DYNAMODB = re.compile(
    r"^arn:aws:dynamodb:\$\{AWS::Region\}:\$\{AWS::AccountId\}:table/\$\{OrdersTable\}(/index/status-createdAt-index)?$"
)


def _allowed_actions(policy) -> set[str]:
    return {action for statement in policy["Statement"] for action in statement["Action"]}


def test_policy_shape():
    policy = iam_policy_template()
    assert policy["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in policy["Statement"]]
    assert len(sids) == len(set(sids))
    for statement in policy["Statement"]:
        assert set(statement) == {"Sid", "Effect", "Action", "Resource"}, "no NotAction/NotResource/Condition tricks"
        assert statement["Effect"] == "Allow"
        assert isinstance(statement["Action"], list) and isinstance(statement["Resource"], list)


def test_no_wildcard_actions_and_nothing_beyond_the_listed_apis():
    policy = iam_policy_template()
    actions = _allowed_actions(policy)
    assert not [a for a in actions if "*" in a]
    assert actions == EXPECTED_ACTIONS


def test_resources_are_scoped_to_the_monitored_functions_and_the_orders_table():
    for statement in iam_policy_template()["Statement"]:
        for resource in statement["Resource"]:
            assert resource != "*"
            service = {a.split(":")[0] for a in statement["Action"]}
            assert len(service) == 1, "one service per statement"
            pattern = {"lambda": ARN_LAMBDA, "dynamodb": ARN_DYNAMODB, "ses": ARN_SES}[service.pop()]
            assert pattern.match(resource), resource


def test_execution_apis_use_qualified_arns():
    """Lambda authorises durable-execution calls against `function:NAME:<version>/durable-execution/...`:
    an unqualified function ARN never matches, so every execution-level statement needs `:*`."""
    for statement in iam_policy_template()["Statement"]:
        if statement["Action"] == ["lambda:ListDurableExecutionsByFunction"]:
            continue
        if statement["Action"][0].startswith("lambda:"):
            assert all(r.endswith(":${FunctionName}:*") for r in statement["Resource"]), statement


def test_render_fills_every_placeholder_per_function():
    policy = iam_policy_render(
        account_id="123456789012", region="eu-west-1", functions=["OrderApproval", "Billing:prod"], orders_table="Ord"
    )
    text = json.dumps(policy)
    assert "${" not in text
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["AnswerCallbacksAndStopExecutions"]["Resource"] == [
        "arn:aws:lambda:eu-west-1:123456789012:function:OrderApproval:*",
        "arn:aws:lambda:eu-west-1:123456789012:function:Billing:*",
    ]
    assert by_sid["OrdersTable"]["Resource"] == [
        "arn:aws:dynamodb:eu-west-1:123456789012:table/Ord",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/Ord/index/status-createdAt-index",
    ]
    assert by_sid["SendNotificationEmail"]["Resource"] == ["arn:aws:ses:eu-west-1:123456789012:identity/*"]


def test_the_template_file_is_the_one_in_deploy():
    assert POLICY_TEMPLATE == PROJECT / "deploy" / "iam-policy.json"


def test_render_lists_a_qualified_function_once():
    policy = iam_policy_render(
        account_id="123456789012", region="us-east-1", functions=["Billing", "Billing:prod"], orders_table="Orders"
    )
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadDurableExecutions"]["Resource"] == ["arn:aws:lambda:us-east-1:123456789012:function:Billing:*"]


def test_render_leaves_the_template_untouched():
    before = iam_policy_template()
    iam_policy_render(account_id="123456789012", region="us-east-1", functions=["F"], orders_table="T")
    assert iam_policy_template() == before
    assert "${FunctionName}" in json.dumps(before)


@pytest.mark.parametrize("account_id", ["42", "12345678901x", "1234567890123", ""])
def test_render_refuses_an_account_id_that_is_not_12_digits(account_id):
    with pytest.raises(ValueError, match="12 digits"):
        iam_policy_render(account_id=account_id, region="us-east-1", functions=["F"], orders_table="T")
