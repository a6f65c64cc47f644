"""The least-privilege IAM policy of the dashboard (web, worker and beat share it).

`deploy/iam-policy.json` is the template: CloudFormation-style placeholders
`${AWS::Region}`, `${AWS::AccountId}`, `${OrdersTable}` and `${FunctionName}`.
A resource naming `${FunctionName}` is repeated for every monitored function.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

POLICY_TEMPLATE = Path(__file__).resolve().parent.parent / "deploy" / "iam-policy.json"


def iam_policy_template() -> dict:
    return json.loads(POLICY_TEMPLATE.read_text())


def iam_policy_render(*, account_id: str, region: str, functions: list[str], orders_table: str) -> dict:
    """The policy for one deployment, with every placeholder filled in."""
    if not (account_id.isdigit() and len(account_id) == 12):
        raise ValueError(f"account id must be 12 digits, not {account_id!r}")
    names = [name.split(":", 1)[0] for name in functions]  # a qualifier is covered by the ':*' pattern
    common = {"${AWS::Region}": region, "${AWS::AccountId}": account_id, "${OrdersTable}": orders_table}

    def fill(text: str) -> str:
        for placeholder, value in common.items():
            text = text.replace(placeholder, value)
        return text

    policy = copy.deepcopy(iam_policy_template())
    for statement in policy["Statement"]:
        resources = []
        for resource in statement["Resource"]:
            variants = (
                [resource.replace("${FunctionName}", n) for n in names] if "${FunctionName}" in resource else [resource]
            )
            resources.extend(fill(variant) for variant in variants)
        statement["Resource"] = list(dict.fromkeys(resources))
    return policy
