"""The local gateway's history numbering: an event keeps its EventId between reads (AWS's history is append-only),
although the emulator numbers its events afresh, in timestamp order, on every read."""

from functions.gateway.state import ExecutionRecord, Invocation
from functions.gateway.translate import history_events


def event(event_type: str, at: float, op: str | None = None, **details) -> dict:
    return {"EventType": event_type, "EventTimestamp": at, **({"Id": op} if op else {}), **details}


def ids(events: list[dict]) -> list[tuple]:
    return [(e["EventId"], e["EventType"], e.get("Id")) for e in events]


def test_an_invocation_recorded_late_is_appended_not_inserted():
    record = ExecutionRecord()
    running = Invocation(request_id="r1", start=1.0)
    record.invocations.append(running)
    first = history_events(
        [
            event("ExecutionStarted", 1.0, "e"),
            event("CallbackStarted", 2.0, "cb"),
            event("CallbackSucceeded", 4.0, "cb"),
        ],
        record,
    )
    assert ids(first) == [(1, "ExecutionStarted", "e"), (2, "CallbackStarted", "cb"), (3, "CallbackSucceeded", "cb")]
    # The first invocation's end (3.0) lies between events already read: it comes after them, with a new id.
    running.end = 3.0
    second = history_events(
        [
            event("ExecutionStarted", 1.0, "e"),
            event("CallbackStarted", 2.0, "cb"),
            event("CallbackSucceeded", 4.0, "cb"),
            event("ExecutionSucceeded", 5.0, "e"),
        ],
        record,
    )
    assert ids(second)[:3] == ids(first)
    assert [e["EventType"] for e in second[3:]] == ["InvocationCompleted", "ExecutionSucceeded"]
    assert [e["EventId"] for e in second] == [1, 2, 3, 4, 5]
    assert second[3]["InvocationCompletedDetails"]["RequestId"] == "r1"


def test_the_emulators_own_completion_event_keeps_the_id_of_the_gateways():
    record = ExecutionRecord()
    record.invocations.append(Invocation(request_id="ours", start=1.0, end=2.0))
    before = history_events([event("ExecutionStarted", 1.0, "e")], record)
    emulated = event("InvocationCompleted", 2.1, InvocationCompletedDetails={"RequestId": "emulator-id"})
    after = history_events(
        [event("ExecutionStarted", 1.0, "e"), emulated, event("ExecutionSucceeded", 3.0, "e")], record
    )
    assert ids(after)[:2] == ids(before)
    assert after[1]["InvocationCompletedDetails"]["RequestId"] == "ours" and after[2]["EventId"] == 3


def test_an_event_keeps_the_time_it_was_first_served_with():
    """AWS's events never change: the emulator's own record of an invocation the gateway reported first (its end
    by the gateway's clock) is served with the first time, so a console that stored it sees the same event."""
    record = ExecutionRecord()
    record.invocations.append(Invocation(request_id="ours", start=1.0, end=2.0))
    before = history_events([event("ExecutionStarted", 1.0, "e")], record)
    emulated = event("InvocationCompleted", 2.1, InvocationCompletedDetails={"RequestId": "emulator-id"})
    after = history_events([event("ExecutionStarted", 1.0, "e"), emulated], record)
    assert after[1]["EventTimestamp"] == before[1]["EventTimestamp"] == 2.0
    assert after[1] == before[1]


def test_repeated_events_of_one_operation_are_told_apart_by_their_order():
    record = ExecutionRecord()
    retries = [event("StepStarted", 1.0, "s"), event("StepFailed", 2.0, "s"), event("StepStarted", 3.0, "s")]
    first = history_events([dict(e) for e in retries], record)
    second = history_events([dict(e) for e in [*retries, event("StepSucceeded", 4.0, "s")]], record)
    assert ids(second)[:3] == ids(first) and ids(second)[3] == (4, "StepSucceeded", "s")


def test_without_a_record_the_history_is_numbered_in_time_order():
    events = history_events([event("ExecutionStarted", 1.0, "e"), event("ExecutionSucceeded", 2.0, "e")], None)
    assert [e["EventId"] for e in events] == [1, 2]
