"""Synthetic histories of big durable executions, shaped as AWS prints them, for tests and benchmarks.

`history_events(operations)` is the `Events` list of `aws lambda get-durable-execution-history --output json`
for an execution of about `operations` operations (never more, so 3,000 stays within AWS's limit):

- `load_batch`: a top-level step retried once before it succeeds;
- `notify` (from 40 operations): a parallel of three branches, each a child context with one step, one of
  them retried;
- `regions` (from 40 operations): a map of three iterations, each running a nested map of four iterations
  whose step fails in one of them (a failure four levels deep);
- `fan`: the top-level map that is the bulk: iterations `fan-0`, `fan-1`, ..., each a child context
  (`MapIteration`) with one step `process_item` inside; a few iterations fail (`fan-1234` when the map is
  that big) with `ValidationError` and the item's number in the message, every 97th step is retried once;
  the map tolerates the failures and succeeds;
- `summarize`: a last top-level step; and an `InvocationCompleted` every 100 iterations.

At 3,000 operations that is 1,479 iterations (2,958 operations) and about 6,000 events: each operation has
a start and an end event, a retried step two more. `running=True` stops mid-map: the last iterations are
still started (some with their step running, some not begun), the map and the execution still open.

`history_import(operations)` imports those events through `manage.py import_history` (a temporary JSON file,
the command's own code) and returns the Execution. Same arguments, same execution: the key of an imported
execution is the `Id` of its ExecutionStarted event.
"""

from __future__ import annotations

import io
import json
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.core.management import call_command

from executions.models import Execution

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FUNCTION_NAME = "BigBatch"
FAN_FAILED = 1234  # the iteration of the big map that always fails when the map has that many
RETRY_EVERY = 97
INVOCATION_EVERY = 100
RUNNING_SHARE = 0.04  # share of the map's iterations still running when `running=True`
EXTRAS_FROM = 40  # below this many operations only load_batch, the map and summarize


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def _error(error_type: str, message: str) -> dict:
    return {"Error": {"Payload": {"ErrorType": error_type, "ErrorMessage": message}}}


def _result(value) -> dict:
    return {"Result": {"Payload": json.dumps(value), "Truncated": False}}


class _History:
    def __init__(self):
        self.events: list[dict] = []
        self.clock = 0.0

    def add(self, event_type: str, op_id: str | None, *, sub_type=None, name=None, parent=None, details=None):
        item = {"EventType": event_type, "EventId": len(self.events) + 1, "EventTimestamp": _at(self.clock)}
        if op_id:
            item["Id"] = op_id
        if parent:
            item["ParentId"] = parent
        if name:
            item["Name"] = name
        if sub_type:
            item["SubType"] = sub_type
        item[f"{event_type}Details"] = details or {}
        self.events.append(item)
        return item

    def tick(self, seconds: float) -> None:
        self.clock += seconds

    def context_start(self, op_id: str, name: str, sub_type: str, parent: str | None = None) -> None:
        self.add("ContextStarted", op_id, sub_type=sub_type, name=name, parent=parent)

    def context_end(self, op_id: str, name: str, sub_type: str, parent: str | None, error: dict | None = None):
        if error:
            self.add("ContextFailed", op_id, sub_type=sub_type, name=name, parent=parent, details=error)
        else:
            self.add("ContextSucceeded", op_id, sub_type=sub_type, name=name, parent=parent, details=_result(None))

    def step(self, op_id, name, parent, seconds, *, retry=False, error: dict | None = None, result=None) -> None:
        self.add("StepStarted", op_id, sub_type="Step", name=name, parent=parent)
        if retry:
            self.tick(seconds / 2)
            failure = {
                **_error("ThrottlingError", "rate exceeded, retrying"),
                "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 2},
            }
            self.add("StepFailed", op_id, sub_type="Step", name=name, parent=parent, details=failure)
            self.tick(2)
            self.add("StepStarted", op_id, sub_type="Step", name=name, parent=parent)
        self.tick(seconds)
        if error:
            self.add("StepFailed", op_id, sub_type="Step", name=name, parent=parent, details=error)
        else:
            self.add("StepSucceeded", op_id, sub_type="Step", name=name, parent=parent, details=_result(result))

    def invocation(self, number: int, started: float) -> None:
        details = {"StartTimestamp": _at(started), "EndTimestamp": _at(self.clock), "RequestId": f"req-{number:05d}"}
        self.add("InvocationCompleted", None, details=details)


def _fan_failures(iterations: int) -> set[int]:
    if iterations < 3:
        return set()
    failed = {iterations // 3, (2 * iterations) // 3}
    if iterations > FAN_FAILED:
        failed.add(FAN_FAILED)
    return failed


def history_events(operations: int, *, running: bool = False) -> list[dict]:
    """The events of an execution of about `operations` operations (at most that many); see the module."""
    if operations < 6:
        raise ValueError("a big history needs at least 6 operations")
    rng = random.Random(operations * 2 + running)
    execution_id = f"big-{operations}{'-running' if running else ''}"
    history = _History()
    history.add(
        "ExecutionStarted",
        execution_id,
        name=f"batch-{operations}",
        details={
            "Input": {"Payload": json.dumps({"items": operations}), "Truncated": False},
            "ExecutionTimeout": 86400,
        },
    )
    invocations, invocation_start = 0, 0.0
    history.tick(0.3)
    history.step("load", "load_batch", None, 0.4, retry=True, result={"items": operations})

    extras = operations >= EXTRAS_FROM
    fixed = 4 + (38 if extras else 0)  # execution, load_batch, fan, summarize; notify 7 + regions 31
    if extras:
        history.context_start("notify", "notify", "Parallel")
        for branch in range(3):
            branch_id = f"notify-{branch}"
            history.context_start(branch_id, f"branch-{branch}", "ParallelBranch", "notify")
            history.step(f"{branch_id}-s", f"send_{branch}", branch_id, 0.1 + branch / 10, retry=branch == 1)
            history.context_end(branch_id, f"branch-{branch}", "ParallelBranch", "notify")
        history.context_end("notify", "notify", "Parallel", None)

        history.context_start("regions", "regions", "Map")
        for region in range(3):
            region_id = f"regions-{region}"
            history.context_start(region_id, f"regions-{region}", "MapIteration", "regions")
            inner = f"{region_id}-shards"
            history.context_start(inner, "shards", "Map", region_id)
            for shard in range(4):
                shard_id = f"{inner}-{shard}"
                history.context_start(shard_id, f"shards-{shard}", "MapIteration", inner)
                failed = region == 2 and shard == 3
                error = _error("ShardUnavailable", f"region {region} shard {shard} did not answer") if failed else None
                history.step(f"{shard_id}-s", "copy_shard", shard_id, 0.05 + shard / 20, error=error)
                history.context_end(shard_id, f"shards-{shard}", "MapIteration", inner, error)
            history.context_end(inner, "shards", "Map", region_id)  # the nested map tolerates a failure
            history.context_end(region_id, f"regions-{region}", "MapIteration", "regions")
        history.context_end("regions", "regions", "Map", None)

    iterations = (operations - fixed) // 2
    failures = _fan_failures(iterations)
    still_running = max(1, round(iterations * RUNNING_SHARE)) if running else 0
    history.context_start("fan", "fan", "Map")
    for index in range(iterations):
        iteration_id, name = f"fan-{index}", f"fan-{index}"
        history.tick(rng.uniform(0.01, 0.2))
        history.context_start(iteration_id, name, "MapIteration", "fan")
        if index >= iterations - still_running:
            if index % 2 == 0:
                history.add(
                    "StepStarted", f"{iteration_id}-s", sub_type="Step", name="process_item", parent=iteration_id
                )
            continue
        error = _error("ValidationError", f"item {index}: amount must be positive") if index in failures else None
        seconds = rng.lognormvariate(-1.0, 0.8)
        history.step(
            f"{iteration_id}-s", "process_item", iteration_id, seconds, retry=index % RETRY_EVERY == 50, error=error,
            result={"item": index, "ok": True},
        )  # fmt: skip
        history.context_end(iteration_id, name, "MapIteration", "fan", error)
        if (index + 1) % INVOCATION_EVERY == 0:
            invocations += 1
            history.invocation(invocations, invocation_start)
            history.tick(0.05)
            invocation_start = history.clock
    if running:
        return history.events
    history.tick(0.1)
    history.context_end("fan", "fan", "Map", None, None)
    history.step("summarize", "summarize", None, 0.3, result={"failed": len(failures)})
    invocations += 1
    history.invocation(invocations, invocation_start)
    history.add("ExecutionSucceeded", execution_id, details=_result({"failed": len(failures)}))
    return history.events


def history_import(operations: int, *, running: bool = False, name: str | None = None) -> Execution:
    """Import `history_events(operations, running=running)` through `manage.py import_history`."""
    events = history_events(operations, running=running)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.json"
        path.write_text(json.dumps({"Events": events}), encoding="utf-8")
        out = io.StringIO()
        arguments = [str(path), "--function", FUNCTION_NAME] + (["--name", name] if name else [])
        call_command("import_history", *arguments, stdout=out)
    return Execution.objects.get(pk=int(out.getvalue().strip()))
