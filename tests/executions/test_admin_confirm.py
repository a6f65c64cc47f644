"""The confirmation step of every admin action: a page naming the target (execution, order, customer, amount) and
the effect in words, for admins only, working without JavaScript; after the action the message links to the
audit row. Rows are written to the database; the actions that would call AWS are posted against a stubbed gateway
only where the answer does not matter (the real-stack flows are in test_actions.py and test_browser.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from executions import durable_api
from executions.models import OperatorAction
from tests.executions.page_factories import callback_make, execution_make, operation_make

pytestmark = pytest.mark.django_db

ORDER_INPUT = {"customerName": "Ada Lovelace", "amount": 1250.5, "requestedBy": "rita@example.com"}


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


@pytest.fixture(autouse=True)
def writable(settings):
    settings.READ_ONLY = False


@pytest.fixture
def order_execution():
    execution = execution_make(input=ORDER_INPUT)
    operation_make(execution, name="create_order", result_preview='{"orderId": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}')
    callback = callback_make(execution, operation_id="cb-approval", opened_ago=timedelta(hours=3))
    return execution, callback


EFFECTS = {
    "fail_callback": "The order 1b4e28ba-2fa1-11d2-883f-0016d3cca427 becomes failed and its requester "
    "(rita@example.com) is notified.",
    "heartbeat": "nothing changes for the order",
    "stop": "is neither processed nor cancelled, and its requester is not notified",
    "pause": "an approval decided meanwhile is acted on only after the resume",
}


@pytest.mark.parametrize("action", ["fail_callback", "heartbeat", "stop", "pause"])
def test_each_confirmation_names_the_target_and_the_effect(admin_client_, order_execution, action):
    execution, callback = order_execution
    callback.heartbeat_timeout_seconds = 600
    callback.save()
    query = "?op=cb-approval" if action in ("fail_callback", "heartbeat") else ""
    response = admin_client_.get(f"/executions/{execution.pk}/confirm/{action}{query}")
    assert response.status_code == 200
    html = response.content.decode()
    for target in (execution.name, "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "Ada Lovelace", "1,250.50"):
        assert target in html
    assert EFFECTS[action] in _text(html)
    assert 'name="csrfmiddlewaretoken"' in html and 'name="confirm" value="yes" required' in html
    assert "SECRET-CALLBACK-TOKEN" not in html


def test_delete_and_resume_confirmations(admin_client_):
    ended = execution_make(status="SUCCEEDED", input=ORDER_INPUT, result={"orderId": "o-9", "outcome": "approved"})
    html = admin_client_.get(f"/executions/{ended.pk}/confirm/delete").content.decode()
    assert "It cannot be undone." in html and "keeps its <b>approved</b> status" in html and "o-9" in html
    paused = execution_make(status="PAUSED")
    html = admin_client_.get(f"/executions/{paused.pk}/confirm/resume").content.decode()
    assert "ResumeDurableExecution" in html and f'action="/executions/{paused.pk}/resume"' in html
    # an action that does not apply says so and offers no form
    html = admin_client_.get(f"/executions/{ended.pk}/confirm/stop").content.decode()
    assert "does not apply" in html and 'class="confirmform"' not in html


def test_a_callback_not_yet_overdue_needs_the_extra_confirmation(admin_client_):
    execution = execution_make()
    callback_make(execution, operation_id="cb-fresh", opened_ago=timedelta(minutes=1))
    html = admin_client_.get(f"/executions/{execution.pk}/confirm/fail_callback?op=cb-fresh").content.decode()
    assert "not past its deadline yet" in html and 'name="confirm_early"' in html
    # another function's callback: the effect speaks of the workflow, not of an order
    assert "The workflow receives the error" in html and "becomes failed" not in html


def test_confirmations_are_for_admins_only(operator_client, order_execution):
    execution, _ = order_execution
    for url in (
        f"/executions/{execution.pk}/confirm/fail_callback?op=cb-approval",
        f"/executions/{execution.pk}/confirm/stop",
    ):
        assert operator_client.get(url).status_code == 403
    assert "confirm/" not in operator_client.get(f"/executions/{execution.pk}/").content.decode()
    assert "confirm/" not in operator_client.get("/executions/timeouts/").content.decode()


def test_unknown_action_or_callback_is_a_404_and_read_only_refuses(admin_client_, order_execution, settings):
    execution, _ = order_execution
    assert admin_client_.get(f"/executions/{execution.pk}/confirm/explode").status_code == 404
    assert admin_client_.get(f"/executions/{execution.pk}/confirm/fail_callback?op=nope").status_code == 404
    assert admin_client_.post(f"/executions/{execution.pk}/confirm/stop").status_code == 405
    settings.READ_ONLY = True
    assert admin_client_.get(f"/executions/{execution.pk}/confirm/stop").status_code == 403


def test_the_action_needs_the_csrf_token(admin_user, order_execution):
    execution, _ = order_execution
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(f"/executions/{execution.pk}/stop", {"reason": "x", "confirm": "yes"})
    assert response.status_code == 403 and not OperatorAction.objects.exists()


def test_after_the_action_the_message_links_to_the_audit_row(admin_client_, order_execution, monkeypatch):
    execution, _ = order_execution

    def stop(**kwargs):
        raise durable_api.ExecutionAlreadyFinished("already ended")  # an answer that needs no real call

    monkeypatch.setattr(durable_api, "execution_stop", stop)
    response = admin_client_.post(
        f"/executions/{execution.pk}/stop", {"reason": "runaway", "confirm": "yes"}, follow=True
    )
    audit = OperatorAction.objects.get()
    link = f'href="/executions/actions/?execution={execution.pk}#action-{audit.pk}"'
    assert link in response.content.decode()
    page = admin_client_.get(f"/executions/actions/?execution={execution.pk}").content.decode()
    assert f'<tr id="action-{audit.pk}">' in page


def test_bulk_failure_is_confirmed_on_its_own_page(admin_client_, order_execution, monkeypatch):
    _, callback = order_execution
    calls = []
    monkeypatch.setattr(durable_api, "callback_fail", lambda **kwargs: calls.append(kwargs))
    response = admin_client_.post("/executions/timeouts/fail", {"targets": [callback.pk], "reason": "window over"})
    html = response.content.decode()
    assert response.status_code == 200 and calls == []  # nothing sent yet
    assert 'id="confirm"' in html and "Ada Lovelace" in html and "1,250.50" in html
    assert "1b4e28ba-2fa1-11d2-883f-0016d3cca427" in html and "becomes failed and its requester is notified" in html
    assert f'name="targets" value="{callback.pk}"' in html and 'value="window over"' in html
    # without a reason it is the list again with the error
    response = admin_client_.post("/executions/timeouts/fail", {"targets": [callback.pk], "reason": ""})
    assert response.status_code == 400 and calls == []


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_bulk_pause_and_resume_are_confirmed_on_their_own_page(admin_client_, monkeypatch, action):
    from executions import lifecycle

    calls = []
    monkeypatch.setattr(lifecycle, f"execution_{action}", lambda **kwargs: calls.append(kwargs))
    execution = execution_make(status="RUNNING" if action == "pause" else "PAUSED", input=ORDER_INPUT)
    page = admin_client_.get("/executions/").content.decode()
    assert 'id="bulk-lifecycle"' in page and "I confirm" not in page.split('id="bulk-lifecycle"')[1]
    response = admin_client_.post(
        f"/executions/{action}", {"targets": [execution.pk], "reason": "db upgrade", "keep_timeout": "yes"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and calls == []  # nothing sent yet
    assert 'id="confirm"' in html and execution.name in html and "Ada Lovelace" in html and "1,250.50" in html
    assert f'action="/executions/{action}"' in html and f'name="targets" value="{execution.pk}"' in html
    assert ("keeps running while paused" in html) if action == "pause" else ("processed now" in _text(html))
    assert 'name="confirm" value="yes" required' in html
