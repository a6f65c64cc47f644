"""Durable Console push: an instrumentation plugin that reports a durable function's progress to the console.

`factory` is the one object both registrations name: the entry point `durable-console` (group
`aws_durable_execution.plugins`, selected by `DURABLE_EXECUTION_PLUGINS=durable-console`) and
`@durable_execution(plugins=[durable_console_push.factory])`. The SDK deduplicates by identity, so using both
registers it once. The wire format is in README.md.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aws_durable_execution_sdk_python.plugin import (
    DurableInstrumentationPlugin,
    InvocationEndInfo,
    InvocationStartInfo,
    OperationChangeInfo,
    OperationEndInfo,
    OperationInfo,
    OperationStartInfo,
    UserFunctionEndInfo,
    UserFunctionStartInfo,
)

from .events import invocation_event, operation_event, snapshot_event
from .logs import warn
from .sender import Sender

__all__ = [
    "DEFAULT_FLUSH_SECONDS",
    "ENV_FLUSH_SECONDS",
    "ENV_TOKEN",
    "ENV_URL",
    "ConsolePushFactory",
    "ConsolePushPlugin",
    "factory",
]

ENV_URL = "DURABLE_CONSOLE_PUSH_URL"
ENV_TOKEN = "DURABLE_CONSOLE_PUSH_TOKEN"
ENV_FLUSH_SECONDS = "DURABLE_CONSOLE_PUSH_FLUSH_SECONDS"
DEFAULT_FLUSH_SECONDS = 1.5

Hook = TypeVar("Hook", bound=Callable[..., None])


def _guarded(hook: Hook) -> Hook:
    """A hook never raises: reporting must not change the workflow's path (the SDK would also log each one)."""

    @functools.wraps(hook)
    def guarded(self: ConsolePushPlugin, info: Any) -> None:
        try:
            hook(self, info)
        except Exception:
            warn(f"hook:{hook.__name__}", "durable-console-push: %s failed", hook.__name__, exc_info=True)

    return guarded  # type: ignore[return-value]


class ConsolePushPlugin(DurableInstrumentationPlugin):
    """One invocation's reporter: turns each hook into events on the process's sender."""

    def __init__(self, sender: Sender, *, execution_arn: str | None, request_id: str | None) -> None:
        self._sender = sender
        self._execution_arn = execution_arn
        self._request_id = request_id

    def _operation(self, hook: str, info: OperationInfo) -> None:
        self._sender.enqueue(
            operation_event(info, hook=hook, execution_arn=self._execution_arn, request_id=self._request_id)
        )

    @_guarded
    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        self._sender.enqueue(invocation_event(info))
        self._sender.enqueue(snapshot_event(info))
        for operation in info.updated_operations.values():
            self._operation("invocation_start", operation)

    @_guarded
    def on_invocation_end(self, info: InvocationEndInfo) -> None:
        """Wait, at most the flush bound, until this invocation's reports are sent: Lambda may freeze the
        process as soon as the handler returns."""
        last = self._sender.enqueue(invocation_event(info))
        self._sender.flush(through=last)

    @_guarded
    def on_operation_start(self, info: OperationStartInfo) -> None:
        self._operation("operation_start", info)

    @_guarded
    def on_operation_end(self, info: OperationEndInfo) -> None:
        self._operation("operation_end", info)

    @_guarded
    def on_operation_change(self, info: OperationChangeInfo) -> None:
        for operation in info.updated_operations.values():
            self._operation("operation_change", operation)

    @_guarded
    def on_user_function_start(self, info: UserFunctionStartInfo) -> None:
        self._operation("user_function_start", info)

    @_guarded
    def on_user_function_end(self, info: UserFunctionEndInfo) -> None:
        self._operation("user_function_end", info)


_NO_OP = DurableInstrumentationPlugin()


def _flush_seconds(raw: str | None) -> float:
    if raw is None or not raw.strip():
        return DEFAULT_FLUSH_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        warn(
            "config",
            "durable-console-push: %s=%r is not a number of seconds; using the default",
            ENV_FLUSH_SECONDS,
            raw,
        )
        return DEFAULT_FLUSH_SECONDS
    return value


def sender_from_environment(environ: Mapping[str, str]) -> Sender | None:
    """The sender the variables describe, or None (the plugin does nothing) without a usable URL."""
    url = (environ.get(ENV_URL) or "").strip()
    if not url:
        return None
    if urlsplit(url).scheme not in ("http", "https"):
        warn("config", "durable-console-push: %s must be an http(s) URL; reporting is off", ENV_URL)
        return None
    token = (environ.get(ENV_TOKEN) or "").strip()
    return Sender(url, token, flush_seconds=_flush_seconds(environ.get(ENV_FLUSH_SECONDS)))


class ConsolePushFactory:
    """Builds each invocation's plugin; owns the process's one sender, which outlives invocations.

    The environment is read on first use rather than at import, so a process (or a test) can set it before
    the first invocation.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ
        self._lock = threading.Lock()
        self._configured = False
        self._sender: Sender | None = None

    def sender(self) -> Sender | None:
        """The process's sender, configured on first use; None when reporting is off."""
        with self._lock:
            if not self._configured:
                self._sender = sender_from_environment(os.environ if self._environ is None else self._environ)
                self._configured = True
            return self._sender

    def create_plugin(self, info: InvocationStartInfo, /) -> DurableInstrumentationPlugin:
        try:
            sender = self.sender()
            if sender is None:
                return _NO_OP
            return ConsolePushPlugin(sender, execution_arn=info.execution_arn, request_id=info.request_id)
        except Exception:
            warn("create_plugin", "durable-console-push: plugin not created; reporting is off", exc_info=True)
            return _NO_OP

    def reset(self, timeout: float = 1.0) -> None:
        """Stop the sender and forget the configuration: the next invocation reads the environment again."""
        with self._lock:
            sender, self._sender, self._configured = self._sender, None, False
        if sender is not None:
            sender.close(timeout)


factory = ConsolePushFactory()
