"""A saved history (from any account) stored as an imported execution, through the poller's own code."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from core.time import timestamp_parse
from executions.events import event_normalize
from executions.models import Execution, MonitoredFunction
from executions.statuses import ExecutionStatus
from executions.sync.derive import execution_derive
from executions.sync.history import HistoryRewritten, events_store, history_forget


@dataclass(frozen=True)
class _ImportedPage:
    events: list
    marker: str | None = None
    next_marker: str | None = None


def history_import(*, events: list[dict], function_name: str, name: str | None = None) -> Execution:
    """Store a saved history (from any account) as an imported execution, through the poller's own code.

    Importing the same history again updates the same execution (its key is derived from the events).
    """
    if not events:
        raise ValueError("the history has no events")
    normalized = sorted((event_normalize(e) for e in events), key=lambda e: int(e["EventId"]))
    started = next((e for e in normalized if e.get("EventType") == "ExecutionStarted"), None)
    identity = (started or {}).get("Id") or hashlib.sha256(
        json.dumps(normalized[:5], sort_keys=True).encode()
    ).hexdigest()[:32]
    function, _ = MonitoredFunction.objects.get_or_create(name=function_name, qualifier="", defaults={"enabled": False})
    arn = f"imported:{function_name}:{identity}"
    execution, _ = Execution.objects.get_or_create(
        arn=arn,
        defaults={
            "name": (name or (started or {}).get("Name") or identity)[:256],
            "function": function,
            "function_name": function_name,
            "status": ExecutionStatus.RUNNING,
            "imported": True,
            "started_at": timestamp_parse((started or {}).get("EventTimestamp")),
        },
    )
    if name and execution.name != name:
        Execution.objects.filter(pk=execution.pk).update(name=name[:256])
        execution.name = name[:256]
    try:
        events_store(execution=execution, page=_ImportedPage(events=normalized))
    except HistoryRewritten:
        history_forget(execution=execution)
        events_store(execution=execution, page=_ImportedPage(events=normalized))
    execution.refresh_from_db()
    execution_derive(execution=execution, changed=True, reached_end=True)
    execution.refresh_from_db()
    return execution
