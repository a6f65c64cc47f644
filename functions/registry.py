"""Which functions the local Lambda gateway serves, and their durable configuration.

A registration is `NAME=module:function`, optionally followed by
`,timeout=SECONDS,retention=DAYS` (the function's DurableConfig) or `,plain`
for an ordinary (non-durable) handler. The built-in registration is the
order-approval function with the same DurableConfig template.yaml declares.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from functions.order_approval import app as order_approval

DEFAULT_EXECUTION_TIMEOUT = 300  # the emulator CLI's own default
DEFAULT_RETENTION_DAYS = 7


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler_path: str  # "module:function"
    durable: bool = True
    execution_timeout: int = DEFAULT_EXECUTION_TIMEOUT
    retention_days: int = DEFAULT_RETENTION_DAYS

    def load_handler(self) -> Callable:
        module_name, _, attribute = self.handler_path.partition(":")
        if not module_name or not attribute:
            raise ValueError(f"handler must look like module:function, got {self.handler_path!r}")
        return getattr(importlib.import_module(module_name), attribute)

    def durable_config(self) -> dict:
        return {"ExecutionTimeout": self.execution_timeout, "RetentionPeriodInDays": self.retention_days}


BUILTIN_FUNCTIONS = (
    FunctionSpec(
        name="OrderApproval",
        handler_path="functions.order_approval.app:handler",
        execution_timeout=order_approval.EXECUTION_TIMEOUT_SECONDS,
        retention_days=order_approval.RETENTION_PERIOD_DAYS,
    ),
)


def function_spec_parse(text: str) -> FunctionSpec:
    """Parse `NAME=module:function[,timeout=S][,retention=D][,plain]`."""
    name, sep, rest = text.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise ValueError(f"expected NAME=module:function[,timeout=S][,retention=D][,plain], got {text!r}")
    handler_path, *options = [part.strip() for part in rest.split(",")]
    kwargs: dict = {}
    for option in options:
        key, _, value = option.partition("=")
        if key == "timeout":
            kwargs["execution_timeout"] = int(value)
        elif key == "retention":
            kwargs["retention_days"] = int(value)
        elif key == "plain":
            kwargs["durable"] = False
        elif key:
            raise ValueError(f"unknown option {key!r} in {text!r}")
    return FunctionSpec(name=name.strip(), handler_path=handler_path, **kwargs)


def function_registry(extra: list[str] | None = None, *, include_builtin: bool = True) -> dict[str, FunctionSpec]:
    specs = {spec.name: spec for spec in BUILTIN_FUNCTIONS} if include_builtin else {}
    for text in extra or []:
        spec = function_spec_parse(text)
        specs[spec.name] = spec
    return specs


def emulator_function_configs(registry: dict[str, FunctionSpec]) -> dict:
    """The emulator's --function-configs JSON (needed for chained invokes)."""
    return {name: ({"DurableConfig": spec.durable_config()} if spec.durable else {}) for name, spec in registry.items()}
