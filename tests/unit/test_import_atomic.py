"""import_history is all or nothing, strips callback ids, and keeps wrongly typed fields as unreadable."""

from __future__ import annotations

import pytest

from executions.models import Execution, HistoryEvent, Operation
from executions.sync.importing import HistoryFileError, history_import

pytestmark = pytest.mark.django_db


def events(**second):
    return [
        {
            "EventId": 1,
            "EventType": "ExecutionStarted",
            "Id": "exec-1",
            "Name": "imported-one",
            "EventTimestamp": "2025-01-01T10:00:00Z",
            "ExecutionStartedDetails": {"Input": {"Payload": '{"orderId": "o-1"}'}},
        },
        {
            "EventId": 2,
            "EventType": "CallbackStarted",
            "SubType": "Callback",
            "Id": "cb-1",
            "Name": "approval",
            "EventTimestamp": "2025-01-01T10:00:01Z",
            "CallbackStartedDetails": {"CallbackId": "live-callback-id-1234567890", "Timeout": 3600},
            **second,
        },
    ]


def test_a_failed_import_stores_nothing_and_names_the_event_and_field():
    with pytest.raises(HistoryFileError, match=r"event #2: field EventId is 'x'"):
        history_import(events=events(EventId="x"), function_name="OrderApproval")
    assert not Execution.objects.exists() and not HistoryEvent.objects.exists()

    corrected = history_import(events=events(), function_name="OrderApproval")
    assert list(corrected.events.order_by("event_id").values_list("event_id", flat=True)) == [1, 2]


def test_a_failure_after_storing_rolls_everything_back(monkeypatch):
    from executions.sync import importing

    def broken(**kwargs):
        raise ValueError("derive failed")

    monkeypatch.setattr(importing, "execution_derive", broken)  # stands for any failure after the events are stored
    with pytest.raises(HistoryFileError, match="derive failed"):
        history_import(events=events(), function_name="OrderApproval")
    assert not Execution.objects.exists() and not HistoryEvent.objects.exists()


def test_callback_ids_are_not_stored_and_no_action_is_offered_on_the_offline_copy():
    execution = history_import(events=events(), function_name="OrderApproval")
    operation = Operation.objects.get(execution=execution, op_type="callback")
    assert operation.callback_id == ""
    assert "live-callback-id" not in str(list(HistoryEvent.objects.values_list("raw", flat=True)))
    assert execution.imported


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("EventTimestamp", "yesterday", "EventTimestamp"),
        ("EventTimestamp", {"when": 1}, "EventTimestamp"),
        ("Name", 12, "Name"),
        ("CallbackStartedDetails", {"Timeout": "an hour"}, "CallbackStartedDetails.Timeout"),
        ("CallbackStartedDetails", "not an object", "CallbackStartedDetails"),
    ],
)
def test_a_wrongly_typed_field_is_stored_as_unreadable(field, value, path):
    execution = history_import(events=events(**{field: value}), function_name="OrderApproval")
    raw = HistoryEvent.objects.get(execution=execution, event_id=2).raw
    assert path in raw["Unreadable"]
    assert Operation.objects.filter(execution=execution, op_type="callback").exists()
