"""Crafted URLs and poison inputs: 400s (a clear page) or ignored, never 500s; a deep execution input neither
breaks the sync nor the page; a failing history sync backs off exponentially and says why on the page."""

from __future__ import annotations

import pytest
from django.test import Client

from core.pagination import cursor_encode
from executions.models import Execution
from executions.sync import execution_history_sync
from executions.sync.history import history_sync_failed
from tests.executions.page_factories import execution_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(operator_client) -> Client:
    operator_client.raise_request_exception = False  # a 500 is an answer to assert on, not an exception
    return operator_client


@pytest.mark.parametrize(
    "path",
    [
        "/executions/?after=eyJ2IjoxfQ",  # plain base64, not signed
        "/executions/?before=" + "A" * 3000,
        "/executions/?after=" + cursor_encode([1, 2], salt="another.list"),
        "/executions/actions/?after=forged",
        "/executions/{pk}/?after=99999999999999999999999",
        "/executions/{pk}/?before=-5",
        "/executions/{pk}/?after=%C2%B2",  # a superscript two is a digit to str.isdigit
    ],
)
def test_crafted_cursors_and_numbers_are_a_clear_400(viewer, path):
    execution = execution_make()
    response = viewer.get(path.format(pk=execution.pk))
    assert response.status_code == 400
    assert "This page link is not valid" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/executions/?started_after=2025-13-45T99:99",
        "/executions/?started_before=not-a-date&sort=sideways&status=" + "X" * 300,
        "/executions/?started_after=0001-01-01T00:00",
        "/executions/?started_before=9999-12-31T23:59",
        "/executions/actions/?execution=99999999999999999999999&outcome=nonsense",
        "/executions/actions/?execution=%C2%B2",
        "/executions/failures/?since=" + "9" * 100,
        "/executions/timeouts/?function=" + "f" * 5000,
        "/executions/99999999999999999999999/",
    ],
)
def test_crafted_filters_are_ignored_or_refused_never_500(viewer, path):
    execution_make()
    assert viewer.get(path).status_code in (200, 400, 404)


def test_crafted_bulk_targets_are_dropped(admin_client_):
    admin_client_.raise_request_exception = False
    body = {"reason": "x", "confirm": "yes", "targets": ["²", "99999999999999999999", "-1"]}
    for url in ("/executions/pause", "/executions/timeouts/fail"):
        assert admin_client_.post(url, body).status_code == 400


def test_a_failing_sync_backs_off_exponentially_and_the_page_says_why(viewer):
    execution = execution_make(status="RUNNING")
    backoffs = [history_sync_failed(execution_id=execution.pk, error=RecursionError("too deep")) for _ in range(4)]
    assert backoffs == sorted(backoffs) and backoffs[1] == 2 * backoffs[0] and backoffs[3] == 8 * backoffs[0]
    execution.refresh_from_db()
    assert execution.sync_failures == 4 and execution.poll_reason == "error"
    html = viewer.get(f"/executions/{execution.pk}/").content.decode()
    assert "The history sync of this execution is failing" in html and "RecursionError: too deep" in html


def test_the_task_path_backs_off_too(monkeypatch):
    from executions import tasks

    execution = execution_make(status="RUNNING")

    def poison(**kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(tasks, "execution_history_sync", poison)  # stands for any non-transient sync failure
    assert tasks.sync_execution_history.run(execution.pk) == 0
    assert tasks.sync_execution_history.run(execution.pk) == 0
    execution.refresh_from_db()
    assert execution.sync_failures == 2 and "RecursionError" in execution.sync_error


@pytest.mark.slow
def test_an_input_nested_800_levels_deep_syncs_and_shows_too_deep(viewer, aws, settings, lambda_client):
    from tests.executions.sync_support import execution_synced, workflow_run

    settings.DURABLE_API_MAX_RPS = 500
    deep: object = 1
    for _ in range(800):
        deep = {"a": deep}
    arn = workflow_run(lambda_client, "SyncQuick", {"n": 1, "deep": deep})
    execution = execution_synced("SyncQuick", arn, until=lambda e: e.is_terminal)
    execution_history_sync(execution_id=execution.pk)
    execution = Execution.objects.get(pk=execution.pk)
    assert execution.input is None and execution.input_raw.count('{"a"') == 800
    assert execution.sync_error == ""
    page = viewer.get(f"/executions/{execution.pk}/")
    assert page.status_code == 200 and "too deeply nested to display" in page.content.decode()
    download = viewer.get(f"/executions/{execution.pk}/history.json")
    assert download.status_code == 200 and b"".join(download.streaming_content).count(b'\\"a\\"') >= 800
