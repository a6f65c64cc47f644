"""Triage lists that say what failed: only real failures, the operation, error and attempts of each row, links to the
failing event and operation, rows grouped by error type, empty states that state their thresholds, and the order's
outcome in words (rows written straight to the database: pages never call AWS)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from executions.attention import order_outcome
from tests.executions.page_factories import (
    callback_make,
    events_make,
    execution_make,
    invocation_make,
    operation_make,
)

pytestmark = pytest.mark.django_db

ORDER_INPUT = {"customerName": "Ada Lovelace", "amount": 1250.5, "requestedBy": "rita", "items": [{"sku": "A"}]}


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="trow" data-execution="(\d+)"', html)


def _failed_step(execution, *, name="charge_card", error_type="PaymentDeclined", attempts=3, **fields):
    history = [
        {"attempt": n, "status": "FAILED", "error_type": error_type, "error_message": "card declined"}
        for n in range(1, attempts + 1)
    ]
    return operation_make(
        execution,
        name=name,
        status="FAILED",
        attempts=attempts,
        attempt_history=history,
        error_type=error_type,
        error_message="card declined",
        **fields,
    )


# --- the outcome, a pure function ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "result", "error_type", "is_order", "expected"),
    [
        ("SUCCEEDED", {"orderId": "o-1", "outcome": "approved"}, "", True, "approved"),
        ("SUCCEEDED", {"orderId": "o-1", "outcome": "rejected"}, "", True, "rejected"),
        ("SUCCEEDED", {"orderId": "o-1", "outcome": "expired"}, "", True, "expired"),
        ("SUCCEEDED", {"orderId": "o-1", "outcome": "failed", "error": {"type": "ManualFailure"}}, "", True, "failed"),
        ("FAILED", None, "InvalidOrderError", True, "invalid"),
        ("FAILED", None, "RuntimeError", True, "failed"),
        ("STOPPED", None, "ManualStop", True, "failed"),
        ("RUNNING", None, "", True, ""),
        ("SUCCEEDED", {"total": 3}, "", False, ""),  # another function's result
        ("FAILED", None, "RuntimeError", False, ""),
    ],
)
def test_order_outcome(status, result, error_type, is_order, expected):
    assert order_outcome(status=status, result=result, error_type=error_type, is_order=is_order) == expected


def test_a_stored_outcome_wins():
    assert order_outcome(status="SUCCEEDED", result={"orderId": "o", "outcome": "approved"}, stored="expired") == (
        "expired"
    )


# --- failures: only real failures, and which ----------------------------------------------------------------------


def test_failures_holds_only_real_failures_and_says_which(operator_client):
    # a succeeded run whose step failed once and then succeeded on a retry: recovered, not a failure
    retried = execution_make(status="SUCCEEDED", has_failures=True)
    operation_make(
        retried,
        name="reserve_stock",
        status="SUCCEEDED",
        attempts=2,
        attempt_history=[
            {"attempt": 1, "status": "FAILED", "error_type": "Throttled"},
            {"attempt": 2, "status": "SUCCEEDED"},
        ],
    )
    # an expired approval: the callback timed out, the workflow expired the order and succeeded
    expired = execution_make(
        status="SUCCEEDED", has_failures=True, input=ORDER_INPUT, result={"orderId": "o-exp", "outcome": "expired"}
    )
    callback_make(expired, status="TIMED_OUT", ended_at=timezone.now() - timedelta(minutes=1))
    # real failures
    failed = execution_make(
        status="FAILED", has_failures=True, error_type="PaymentDeclined", error_message="card declined"
    )
    step = _failed_step(failed)
    invalid = execution_make(
        status="FAILED", has_failures=True, input=ORDER_INPUT, error_type="InvalidOrderError", error_message="no items"
    )
    stopped = execution_make(status="STOPPED", has_failures=True)
    _failed_step(stopped, name="ship", error_type="CarrierDown", attempts=1)
    running = execution_make(status="RUNNING", has_failures=True)
    invocation_make(running, start_offset=1, seconds=1, error_type="Runtime.ExitError", error_message="exit 137")

    html = operator_client.get("/executions/failures/").content.decode()
    rows = _rows(html)
    assert str(retried.pk) not in rows and str(expired.pk) not in rows
    assert set(rows) == {str(failed.pk), str(invalid.pk), str(stopped.pk), str(running.pk)}
    # which: the operation, the error, the attempts, and links to the failing event and the operation's events
    assert "Execution failed in step charge_card" in html
    assert "PaymentDeclined" in html and "card declined" in html and "3 attempts" in html
    assert f'href="/executions/{failed.pk}/?failures=on#history"' in html
    assert f'href="/executions/{failed.pk}/?op={step.operation_id}#history"' in html
    assert f'href="/executions/{failed.pk}/operations/{step.operation_id}/"' in html
    assert "Step ship failed without recovery; the execution is stopped" in html
    assert "1 invocation failed; the execution is running" in html and "Runtime.ExitError" in html
    assert "Execution failed: order invalid" in html
    assert 'class="pill outcome invalid"' in html


def test_failure_rows_group_by_error_type_with_counts(operator_client):
    for _ in range(2):
        e = execution_make(status="FAILED", has_failures=True, error_type="PaymentDeclined", error_message="declined")
        _failed_step(e)
    other = execution_make(status="FAILED", has_failures=True, error_type="KeyError", error_message="'sku'")
    html = operator_client.get("/executions/failures/").content.decode()
    heads = re.findall(r'<span class="glabel">([^<]+)</span> <span class="gcount"[^>]*>(\d+)</span>', html)
    assert heads == [("PaymentDeclined", "2"), ("KeyError", "1")]  # biggest group first
    # the KeyError row sits under its own header
    assert html.index("KeyError</span>") < html.index(f'data-execution="{other.pk}"')


# --- attention and timeouts ----------------------------------------------------------------------------------------


def test_attention_rows_name_the_operation_error_and_attempts(operator_client):
    e = execution_make(needs_attention=True, has_failures=True)
    step = operation_make(
        e,
        name="call_partner",
        status="PENDING",
        ended_at=None,
        attempts=4,
        attempt_history=[
            {"attempt": n, "status": "FAILED", "error_type": "TimeoutError", "error_message": "partner slow"}
            for n in range(1, 5)
        ],
    )
    e.attention_reasons = [
        {"code": "step_retries", "message": "Step call_partner failed 4 attempts.", "operation_id": step.operation_id}
    ]
    e.save()
    html = operator_client.get("/executions/attention/").content.decode()
    assert _rows(html) == [str(e.pk)]
    assert "Step call_partner failed 4 attempts." in html
    assert "TimeoutError" in html and "partner slow" in html and "4 attempts" in html
    assert f"?op={step.operation_id}#history" in html
    assert re.search(r'<span class="glabel">TimeoutError</span> <span class="gcount"[^>]*>1</span>', html)


def test_timeouts_say_an_expired_approval_in_words(operator_client):
    e = execution_make(status="SUCCEEDED", input=ORDER_INPUT, result={"orderId": "o-exp-1", "outcome": "expired"})
    callback_make(e, status="TIMED_OUT", ended_at=timezone.now() - timedelta(minutes=1))
    html = operator_client.get("/executions/timeouts/").content.decode()
    assert _rows(html) == [str(e.pk)]
    assert "Approval timed out: order expired" in html
    assert 'class="pill outcome expired"' in html and "Ada Lovelace" in html
    assert re.search(r'<span class="glabel">Approval expired</span>', html)


@pytest.mark.parametrize("path", ["/executions/attention/", "/executions/failures/", "/executions/timeouts/"])
def test_empty_states_state_their_thresholds(operator_client, settings, path):
    settings.ATTENTION_CALLBACK_SLA_SECONDS = 2 * 3600
    settings.ATTENTION_WAIT_GRACE_SECONDS = 600
    settings.ATTENTION_NO_PROGRESS_SECONDS = 1800
    settings.ATTENTION_STEP_FAILED_ATTEMPTS = 5
    settings.ATTENTION_PAUSED_SECONDS = 86400
    html = operator_client.get(path).content.decode()
    assert 'id="empty-state"' in html
    if path.endswith("attention/"):
        for words in (
            "2 h (ATTENTION_CALLBACK_SLA_SECONDS)",
            "10 m (ATTENTION_WAIT_GRACE_SECONDS)",
            "30 m (ATTENTION_NO_PROGRESS_SECONDS)",
            "at least 5 failed attempts (ATTENTION_STEP_FAILED_ATTEMPTS)",
            "1 d (ATTENTION_PAUSED_SECONDS)",
        ):
            assert words in html
    elif path.endswith("failures/"):
        assert "in the last 7 days" in html and "5 failed attempts (ATTENTION_STEP_FAILED_ATTEMPTS)" in html
        assert "approvals that expired" in html
    else:
        assert "2 h (ATTENTION_CALLBACK_SLA_SECONDS)" in html and "10 m (ATTENTION_WAIT_GRACE_SECONDS)" in html


# --- the execution page: one operation's events, the outcome badge ------------------------------------------------


def test_the_history_shows_one_operations_events_with_op(operator_client):
    execution = execution_make(status="SUCCEEDED")
    events_make(execution, 3)
    operation_make(execution, operation_id="op-2", name="step_2")
    html = operator_client.get(f"/executions/{execution.pk}/?op=op-2").content.decode()
    history = html[html.index('id="history"') :]
    assert "step_2" in history and "step_1</code>" not in history and "step_3</code>" not in history
    assert 'id="op-filter"' in html and 'name="op" value="op-2"' in html  # kept while filtering further


def test_the_execution_page_shows_the_outcome_in_words(operator_client):
    execution = execution_make(status="SUCCEEDED", input=ORDER_INPUT, result={"orderId": "o-77", "outcome": "expired"})
    html = operator_client.get(f"/executions/{execution.pk}/").content.decode()
    assert 'class="pill outcome expired"' in html and "Approval timed out: order expired" in html
    assert "Ada Lovelace" in html and "1,250.50" in html
    assert 'hx-trigger="every' not in html.split('id="live"')[1].split(">")[0]  # a finished one does not refresh
    running = execution_make(input=ORDER_INPUT)
    html = operator_client.get(f"/executions/{running.pk}/").content.decode()
    assert 'id="live" class="live-region" hx-get=' in html and "data-keep-focus" in html
    fragment = operator_client.get(f"/executions/{running.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="live")
    assert fragment.content.decode().lstrip().startswith('<div id="live"')
