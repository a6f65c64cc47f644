"""AWS's semantics for the durable-execution reads, built on the emulator's answers.

- ListDurableExecutionsByFunction: newest first by default (`ReverseOrder=true`: oldest
  first), `Statuses`, `StartedAfter`/`StartedBefore`, `DurableExecutionName`, `Qualifier`
  and `MaxItems` (0..1000, 0 = 100) applied here over all of the function's executions,
  paged with the gateway's own opaque markers.
- GetDurableExecutionHistory: the emulator's events plus what the gateway knows
  (CallbackStartedDetails.Timeout/HeartbeatTimeout, InvocationCompletedDetails,
  ExecutionPaused/ExecutionResumed), paged with own markers. EventIds are stable, as on AWS:
  the emulator numbers its events afresh on every read, in timestamp order, so an event it
  records late (an invocation's completion, an async callback result) would shift the ids of
  events already read; the gateway keeps each event's first id and appends new ones.
- GetDurableExecution: pause status and PauseDetails overlaid, DurableConfig filled.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

from functions.gateway.errors import invalid, not_found
from functions.gateway.state import ExecutionRecord

STATUSES = {"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED", "DELETING", "PAUSING", "PAUSED"}
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"}
DEFAULT_MAX_ITEMS = 100
MARKER_TTL = 24 * 3600  # "Each pagination token expires after 24 hours."


# -- parameters ---------------------------------------------------------------------
def one(query: dict, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def boolean(query: dict, name: str, default: bool) -> bool:
    value = one(query, name)
    if value is None:
        return default
    if value.lower() not in ("true", "false"):
        raise invalid(f"{name} must be true or false, got {value!r}")
    return value.lower() == "true"


def max_items(query: dict) -> int:
    value = one(query, "MaxItems")
    if value is None:
        return DEFAULT_MAX_ITEMS
    try:
        number = int(value)
    except ValueError:
        raise invalid(f"MaxItems must be an integer, got {value!r}")
    if not 0 <= number <= 1000:
        raise invalid(
            f"1 validation error detected: Value '{number}' at 'maxItems' failed to satisfy "
            "constraint: Member must have value between 0 and 1000"
        )
    return number or DEFAULT_MAX_ITEMS


def timestamp(value) -> float:
    """Seconds since the epoch from a JSON number or an ISO 8601 string."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise invalid(f"Invalid timestamp {value!r}: expected ISO 8601")
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    return 0.0


def status_filter(query: dict) -> set[str] | None:
    values = query.get("Statuses")
    if not values:
        return None
    if len(values) > 10:
        raise invalid(
            "1 validation error detected: Value at 'statuses' failed to satisfy constraint: "
            "Member must have length less than or equal to 10"
        )
    unknown = [value for value in values if value not in STATUSES]
    if unknown:
        raise invalid(f"Invalid status {unknown[0]!r}: must be one of {', '.join(sorted(STATUSES))}")
    return set(values)


# -- markers ------------------------------------------------------------------------
def marker_encode(kind: str, position, reverse: bool) -> str:
    data = json.dumps({"k": kind, "p": position, "r": reverse, "t": int(time.time())}, separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def marker_decode(marker: str | None, kind: str, reverse: bool):
    if not marker:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4)))
        position, issued = data["p"], float(data["t"])
        valid = data["k"] == kind and data["r"] == reverse
    except (ValueError, KeyError, TypeError):
        raise invalid("Invalid Marker")
    if not valid:
        raise invalid("Invalid Marker: it was issued for another request")
    if time.time() - issued > MARKER_TTL:
        raise invalid("Invalid Marker: the pagination token has expired")
    return position


# -- statuses -----------------------------------------------------------------------
def status_overlay(item: dict, record: ExecutionRecord | None) -> None:
    """RUNNING becomes PAUSING/PAUSED while the gateway holds a pause."""
    if record and record.pause and item.get("Status") == "RUNNING":
        item["Status"] = "PAUSED" if record.pause.confirmed else "PAUSING"


# -- list ---------------------------------------------------------------------------
def list_page(items: list[tuple], query: dict) -> dict:
    """One AWS page from all of a function's executions: (item with its AWS ARN, the gateway's record) pairs."""
    limit = max_items(query)
    reverse = boolean(query, "ReverseOrder", False)
    statuses = status_filter(query)
    after = timestamp(one(query, "StartedAfter")) if one(query, "StartedAfter") else None
    before = timestamp(one(query, "StartedBefore")) if one(query, "StartedBefore") else None
    name = one(query, "DurableExecutionName")
    qualifier = one(query, "Qualifier")
    position = marker_decode(one(query, "Marker"), "list", reverse)

    selected = []
    for item, record in items:
        if record and record.deleted:
            continue
        status_overlay(item, record)
        started = timestamp(item.get("StartTimestamp"))
        if statuses and item.get("Status") not in statuses:
            continue
        if (after is not None and started <= after) or (before is not None and started >= before):
            continue
        if name and item.get("DurableExecutionName") != name:
            continue
        if qualifier and not str(item.get("FunctionArn", "")).endswith(f":{qualifier}"):
            continue
        selected.append(((started, item["DurableExecutionArn"]), item))
    # AWS: newest first by default; ReverseOrder=true is chronological (oldest first).
    selected.sort(key=lambda pair: pair[0], reverse=not reverse)
    if position is not None:
        key = (float(position[0]), str(position[1]))
        selected = [pair for pair in selected if (pair[0] > key if reverse else pair[0] < key)]
    page = selected[:limit]
    answer: dict = {"DurableExecutions": [item for _, item in page]}
    if len(selected) > limit:
        answer["NextMarker"] = marker_encode("list", list(page[-1][0]), reverse)
    return answer


# -- get ----------------------------------------------------------------------------
def describe_overlay(described: dict, record: ExecutionRecord | None, include_data: bool, durable_config) -> dict:
    if record and record.deleted:
        raise not_found()
    status_overlay(described, record)
    if record and record.pause and described.get("Status") in ("PAUSING", "PAUSED"):
        pause = record.pause
        details = {"PauseRequestTimestamp": pause.requested, "ExecutionTimeoutPaused": pause.timeout_paused}
        if include_data and pause.reason is not None:
            details["Reason"] = pause.reason
        described["PauseDetails"] = details
    if durable_config:
        described.setdefault("DurableConfig", durable_config)
    if not include_data:
        for key in ("InputPayload", "Result", "Error"):
            described.pop(key, None)
    described["ExecutionDataIncluded"] = include_data
    return described


# -- history ------------------------------------------------------------------------
def _invocation_details(invocation) -> dict:
    details = {"StartTimestamp": invocation.start, "EndTimestamp": invocation.end, "RequestId": invocation.request_id}
    if invocation.error:
        details["Error"] = {"Payload": invocation.error, "Truncated": False}
    return details


def _event_key(event: dict, occurrences: dict) -> tuple:
    """What identifies an event across reads: an invocation by its request id, any other event by its
    type, operation id and how many of the same came before it."""
    event_type = event.get("EventType")
    if event_type == "InvocationCompleted":
        request_id = (event.get("InvocationCompletedDetails") or {}).get("RequestId")
        if request_id:
            return (event_type, request_id)
    base = (event_type, event.get("Id"))
    occurrences[base] = occurrences.get(base, 0) + 1
    return (*base, occurrences[base])


def history_events(events: list[dict], record: ExecutionRecord | None) -> list[dict]:
    """The whole history in AWS's shape: EventIds 1..n, oldest first, an event's id never changing between
    reads (`record.event_ids`; call under the state's lock)."""
    finished = [inv for inv in (record.invocations if record else []) if inv.end is not None]
    by_request = {inv.request_id: inv for inv in finished}
    used: set[str] = set()
    unmatched_clean = [inv for inv in finished if not inv.error]
    merged: list[tuple] = []
    latest = 0.0
    for index, event in enumerate(events):
        event_type = event.get("EventType")
        if event_type == "CallbackStarted" and record:
            details = event.setdefault("CallbackStartedDetails", {})
            for key, value in record.callbacks.get(str(event.get("Id")), {}).items():
                details.setdefault(key, value)
        elif event_type == "InvocationCompleted":
            known = (event.get("InvocationCompletedDetails") or {}).get("RequestId")
            invocation = by_request.get(known) if known else None
            if invocation is None:
                invocation = next((inv for inv in unmatched_clean if inv.request_id not in used), None)
            if invocation is not None:
                used.add(invocation.request_id)
                event["InvocationCompletedDetails"] = _invocation_details(invocation)
        latest = max(latest, timestamp(event.get("EventTimestamp")))
        merged.append((latest, 0, index, event))
    # Invocations the emulator recorded no event for (it records none for a failed invocation).
    extra = [
        {
            "EventType": "InvocationCompleted",
            "EventTimestamp": inv.end,
            "InvocationCompletedDetails": _invocation_details(inv),
        }
        for inv in finished
        if inv.request_id not in used
    ]
    extra += list(record.extra_events if record else [])
    for index, event in enumerate(extra):
        merged.append((timestamp(event.get("EventTimestamp")), 1, index, dict(event)))
    merged.sort(key=lambda entry: entry[:3])
    ledger = record.event_ids if record else {}
    times = record.event_times if record else {}
    occurrences: dict = {}
    numbered = []
    for _, _, _, event in merged:
        key = _event_key(event, occurrences)
        if key not in ledger:
            ledger[key] = len(ledger) + 1
            times[key] = event.get("EventTimestamp")
        # An event never changes once served: the emulator's own record of an invocation the gateway reported
        # first comes with the emulator's clock, and keeps the time first served.
        event["EventId"], event["EventTimestamp"] = ledger[key], times.get(key, event.get("EventTimestamp"))
        numbered.append(event)
    numbered.sort(key=lambda event: event["EventId"])
    return numbered


def history_page(events: list[dict], query: dict) -> dict:
    limit = max_items(query)
    reverse = boolean(query, "ReverseOrder", False)
    start = marker_decode(one(query, "Marker"), "history", reverse)
    ordered = list(reversed(events)) if reverse else events
    if start is not None:
        ordered = [e for e in ordered if (e["EventId"] <= start if reverse else e["EventId"] >= start)]
    page = ordered[:limit]
    answer: dict = {"Events": page}
    if len(ordered) > limit:
        answer["NextMarker"] = marker_encode("history", ordered[limit]["EventId"], reverse)
    return answer
