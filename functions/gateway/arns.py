"""AWS-shaped durable-execution ARNs, mapped reversibly onto the emulator's ids.

AWS: `arn:aws:lambda:REGION:ACCOUNT:function:NAME:VERSION/durable-execution/EXECUTION_NAME/ID`
(botocore's `DurableExecutionArn` pattern), where ID is the id of the execution's own
operation (the SDK reads it as the ARN's last `/` segment). The emulator's id is
`<uuid>/<execution operation id>`, so the AWS ID is its last part; the mapping back is
remembered, and when it is not (say, after a gateway restart) found again by listing the
function's executions in the emulator (the function is named in the ARN).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable

AWS_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:(?P<function>[a-zA-Z0-9_-]+)"
    r":(?P<version>\$LATEST(?:\.PUBLISHED)?|[0-9]+)/durable-execution/(?P<name>[a-zA-Z0-9_-]+)/(?P<id>[a-zA-Z0-9_-]+)$"
)
_VERSION = re.compile(r"^(\$LATEST(\.PUBLISHED)?|[0-9]+)$")
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_REMEMBERED = 50_000


def is_aws_arn(value: str) -> bool:
    return bool(AWS_ARN.match(value))


class ArnBook:
    """Both directions of the mapping, bounded; looks up what it does not remember."""

    def __init__(
        self,
        region: str,
        account: str,
        describe: Callable[[str], dict | None],
        executions: Callable[[str], list[dict]],
    ):
        self.region = region
        self.account = account
        self._describe = describe  # emulator id -> the emulator's GetDurableExecution answer (or None)
        self._executions = executions  # function name -> the emulator's items for it
        self._aws: OrderedDict[str, str] = OrderedDict()  # emulator id -> AWS ARN
        self._emulator: dict[str, str] = {}  # AWS ARN -> emulator id
        self._lock = threading.Lock()

    def remember(self, emulator_arn: str, function: str, name: str, version: str = "$LATEST") -> str:
        if not _VERSION.match(version or ""):
            version = "$LATEST"  # an execution ARN names a version, never an alias
        if not _NAME.match(name or ""):
            name = re.sub(r"[^a-zA-Z0-9_-]", "-", name or "")[:64] or "execution"
        ident = emulator_arn.rsplit("/", 1)[-1]
        arn = (
            f"arn:aws:lambda:{self.region}:{self.account}:function:{function}:{version}"
            f"/durable-execution/{name}/{ident}"
        )
        with self._lock:
            self._aws[emulator_arn] = arn
            self._aws.move_to_end(emulator_arn)
            self._emulator[arn] = emulator_arn
            while len(self._aws) > MAX_REMEMBERED:
                _, forgotten = self._aws.popitem(last=False)
                self._emulator.pop(forgotten, None)
        return arn

    def remember_item(self, item: dict) -> str:
        """Remember from an emulator execution item (list item or GetDurableExecution answer)."""
        tail = (item.get("FunctionArn") or "").split(":function:", 1)[-1]
        function, _, version = tail.partition(":")
        return self.remember(item["DurableExecutionArn"], function, item.get("DurableExecutionName") or "", version)

    def aws(self, emulator_arn: str) -> str:
        if is_aws_arn(emulator_arn):
            return emulator_arn
        with self._lock:
            known = self._aws.get(emulator_arn)
        if known:
            return known
        described = self._describe(emulator_arn)
        if described and described.get("DurableExecutionArn") == emulator_arn:
            return self.remember_item(described)
        return emulator_arn

    def emulator(self, aws_arn: str) -> str | None:
        """The emulator's id for an AWS-shaped ARN; None if it is not one, or names no execution."""
        match = AWS_ARN.match(aws_arn)
        if not match:
            return None
        with self._lock:
            known = self._emulator.get(aws_arn)
        if known:
            return known
        for item in self._executions(match["function"]):
            self.remember_item(dict(item))
        with self._lock:
            return self._emulator.get(aws_arn)

    def translate(self, value):
        """Every `*ExecutionArn` string in a JSON value, put into AWS shape (in place)."""
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str) and key.endswith("ExecutionArn") and item:
                    value[key] = self.aws(item)
                else:
                    self.translate(item)
        elif isinstance(value, list):
            for item in value:
                self.translate(item)
        return value
