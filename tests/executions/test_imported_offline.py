"""Imported executions are offline copies (import_history): never in /metrics, never acted on by a bulk action.

A bulk form that includes an imported execution (or one of its callbacks) reports it refused and makes no call
for it. Pure database work: every Lambda call the actions could make is recorded instead of sent."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from executions import durable_api
from executions.models import Execution, OperatorAction
from executions.sync import history_import

pytestmark = pytest.mark.django_db

FUNCTION = "OfflineOnly"


@pytest.fixture(autouse=True)
def console(settings):
    settings.READ_ONLY = False
    cache.clear()  # nonces and action locks
    yield settings
    cache.clear()


@pytest.fixture
def calls(monkeypatch):
    """Every Lambda call an admin action could make, recorded and not sent."""
    made: list[str] = []
    for name in ("callback_fail", "callback_heartbeat", "execution_stop", "execution_pause", "execution_resume"):
        monkeypatch.setattr(durable_api, name, lambda *args, _name=name, **kwargs: made.append(_name))
    return made


def offline_copy(name: str = "offline copy") -> Execution:
    """An imported history of a running execution with an open callback whose deadline is long past."""
    return history_import(
        events=[
            {"EventId": 1, "EventType": "ExecutionStarted", "Id": "x1", "EventTimestamp": "2025-01-01T00:00:00Z"},
            {
                "EventId": 2,
                "EventType": "CallbackStarted",
                "Id": "cb",
                "Name": "approval",
                "EventTimestamp": "2025-01-01T00:00:01Z",
                "CallbackStartedDetails": {"CallbackId": "a-live-callback-id-0123456789", "Timeout": 60},
            },
        ],
        function_name=FUNCTION,
        name=name,
    )


def test_imported_executions_are_not_in_the_metrics(client, settings):
    settings.METRICS_TOKEN = "t0ken"
    before = client.get("/metrics", headers={"authorization": "Bearer t0ken"}).content.decode()
    copy = offline_copy()
    assert copy.imported and copy.status == "RUNNING"
    assert copy.operations.filter(op_type="callback", ended_at=None).exists()
    after = client.get("/metrics", headers={"authorization": "Bearer t0ken"}).content.decode()
    assert FUNCTION not in after, [line for line in after.splitlines() if FUNCTION in line]

    def stored_events(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith("durable_console_history_events_stored ")]

    assert stored_events(after) == stored_events(before)


@pytest.mark.parametrize(
    ("url", "action"), [("/executions/pause", "pause_execution"), ("/executions/resume", "resume_execution")]
)
def test_a_bulk_pause_or_resume_refuses_an_imported_execution(admin_client_, calls, url, action):
    copy = offline_copy()
    if action == "resume_execution":
        Execution.objects.filter(pk=copy.pk).update(status="PAUSED")
    response = admin_client_.post(url, {"reason": "maintenance", "confirm": "yes", "targets": [copy.pk], "nonce": "b1"})
    assert response.status_code == 200
    results = {execution.pk: result for execution, result in response.context["results"]}
    assert list(results) == [copy.pk]
    assert results[copy.pk].audit.outcome == "rejected" and "imported copy" in results[copy.pk].message
    assert 'data-outcome="rejected"' in response.content.decode()
    assert calls == []
    assert list(OperatorAction.objects.values_list("action", "outcome")) == [(action, "rejected")]


def test_a_bulk_callback_failure_refuses_an_imported_callback(admin_client_, calls):
    copy = offline_copy()
    callback = copy.operations.get(op_type="callback")
    response = admin_client_.post(
        "/executions/timeouts/fail", {"reason": "window over", "confirm": "yes", "targets": [callback.pk]}
    )
    assert response.status_code == 200
    results = {operation.pk: result for operation, result in response.context["results"]}
    assert list(results) == [callback.pk]
    assert results[callback.pk].audit.outcome == "rejected" and "imported copy" in results[callback.pk].message
    assert "Failed 0 of 1 selected callbacks" in response.content.decode()
    assert calls == []
    assert list(OperatorAction.objects.values_list("action", "outcome")) == [("fail_callback", "rejected")]
