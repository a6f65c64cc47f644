"""Execution pages rendered from rows in the database (no AWS involved: pages never call it)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from executions.models import Execution, OperatorAction
from tests.executions.page_factories import (
    callback_make,
    events_make,
    execution_make,
    function_make,
    invocation_make,
    operation_make,
)

pytestmark = pytest.mark.django_db


# --- access -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/executions/",
        "/executions/attention/",
        "/executions/failures/",
        "/executions/timeouts/",
        "/executions/actions/",
    ],
)
def test_pages_need_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_user_without_a_role_gets_403(client, django_user_model):
    user = django_user_model.objects.create_user(username="nobody", password="pw-nobody")
    client.force_login(user)
    response = client.get("/executions/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


# --- overview -------------------------------------------------------------------------------


def test_overview_counts_link_to_filtered_lists(operator_client):
    function = function_make()
    execution_make(function=function, status="RUNNING")
    execution_make(
        function=function,
        status="RUNNING",
        needs_attention=True,
        attention_reasons=[{"code": "callback_overdue", "message": "Callback approval is overdue"}],
    )
    execution_make(function=function, status="FAILED", error_type="InvalidOrderError")
    execution_make(function=function, status="TIMED_OUT")
    execution_make(function=function, status="SUCCEEDED")
    old = execution_make(function=function, status="FAILED", started_ago=timedelta(days=3))
    Execution.objects.filter(pk=old.pk).update(ended_at=timezone.now() - timedelta(days=2))

    response = operator_client.get("/")
    assert response.status_code == 200
    counts = response.context["counts"]
    assert (counts.running, counts.attention, counts.failed_24h, counts.timed_out_24h, counts.total) == (2, 1, 2, 1, 6)
    # The failures tile counts the list it opens (the failed and the timed-out execution of the last 24 h).
    assert len(operator_client.get("/executions/failures/?since=24h").context["rows"]) == counts.failed_24h
    html = response.content.decode()
    assert 'href="/executions/?status=RUNNING"' in html
    assert 'href="/executions/attention/"' in html
    assert 'href="/executions/failures/?since=24h"' in html
    assert 'href="/executions/timeouts/?since=24h"' in html
    # The status chart is inline SVG with one rect per (day, status) that has executions.
    assert "<svg" in html and 'class="s-SUCCEEDED"' in html and 'class="s-FAILED"' in html
    assert "Callback approval is overdue" in html


def test_overview_hourly_range(operator_client):
    execution_make(status="SUCCEEDED")
    response = operator_client.get("/?range=24h")
    assert response.status_code == 200 and response.context["hourly"] is True


def test_overview_warns_when_the_sync_is_stale(operator_client):
    function_make(
        synced_ago=timedelta(hours=2),
        last_sync_error="DurableApiUnavailable: endpoint unreachable",
        last_sync_error_at=timezone.now() - timedelta(minutes=1),
    )
    execution_make(status="RUNNING")
    html = operator_client.get("/").content.decode()
    assert "Data may be out of date" in html
    assert "endpoint unreachable" in html


def test_fresh_sync_shows_no_banner(operator_client):
    function_make(synced_ago=timedelta(seconds=3))
    html = operator_client.get("/executions/").content.decode()
    assert "Data may be out of date" not in html
    assert "synced" in html


# --- list ---------------------------------------------------------------------------------


def test_list_shows_what_each_execution_is_doing(operator_client):
    now = timezone.now()
    execution_make(
        name="cb-one",
        activity={
            "kind": "callback",
            "name": "approval",
            "since": (now - timedelta(hours=3, minutes=12)).isoformat(),
            "deadline": (now + timedelta(hours=20, seconds=30)).isoformat(),
        },
    )
    execution_make(name="retry-one", activity={"kind": "retry", "name": "charge", "attempt": 3})
    execution_make(
        name="sleep-one", activity={"kind": "wait", "name": "pause", "until": (now + timedelta(minutes=5)).isoformat()}
    )
    execution_make(name="weird-one", activity={"kind": "teleport", "name": "x"})
    execution_make(name="broken-one", activity={"kind": "callback"})
    html = operator_client.get("/executions/").content.decode()
    assert "waiting on callback <code>approval</code> for 3 h 12 m, 20 h left" in html
    assert "retrying step <code>charge</code> (attempt 3)" in html
    assert "sleeping in <code>pause</code> until" in html
    assert "teleport <code>x</code>" in html
    assert "waiting on callback" in html  # missing keys are tolerated


def test_list_filters_combine_and_live_in_the_url(operator_client):
    f1, f2 = function_make("OrderApproval"), function_make("Billing")
    a = execution_make(function=f1, name="alpha-order", status="FAILED", has_failures=True)
    execution_make(function=f1, name="alpha-ok", status="SUCCEEDED")
    execution_make(function=f2, name="alpha-billing", status="FAILED")
    execution_make(function=f1, name="beta", status="RUNNING", needs_attention=True)

    def names(query):
        response = operator_client.get("/executions/" + query)
        assert response.status_code == 200
        return {e.name for e in response.context["page"].rows}

    assert names("?status=FAILED&function=OrderApproval&q=alpha") == {a.name}
    assert names("?status=FAILED&status=SUCCEEDED&function=OrderApproval") == {"alpha-order", "alpha-ok"}
    assert names("?attention=on") == {"beta"}
    assert names("?failures=on") == {"alpha-order"}
    assert names("?q=" + a.arn) == {a.name}
    after = (timezone.now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert names(f"?started_after={after}") == set()
    assert names("?status=NEW_STATUS_FROM_THE_FUTURE") == set()


def test_list_keyset_pagination_walks_every_row_once(operator_client, settings):
    settings.EXECUTIONS_PAGE_SIZE = 7
    function = function_make()
    base = timezone.now() - timedelta(hours=1)
    for i in range(23):
        # Duplicate start times exercise the id tie-breaker.
        execution_make(function=function, started_at=base + timedelta(seconds=i // 2), name=f"e{i:02d}")
    seen, url, pages = [], "/executions/", 0
    while url:
        response = operator_client.get(url)
        page = response.context["page"]
        seen += [e.name for e in page.rows]
        pages += 1
        url = f"/executions/?after={page.next_cursor}" if page.next_cursor else None
    assert pages == 4
    assert len(seen) == 23 and len(set(seen)) == 23
    starts = list(Execution.objects.filter(name__in=seen).order_by("-started_at", "-id").values_list("name", flat=True))
    assert seen == starts
    # Going back from the last page returns the previous one exactly.
    response = operator_client.get(f"/executions/?before={page.prev_cursor}")
    assert [e.name for e in response.context["page"].rows] == seen[14:21]
    # Cursors are signed: a forged or edited one (here: the old unsigned format) is a clear 400.
    forged = base64.urlsafe_b64encode(json.dumps([None, 1]).encode()).decode().rstrip("=")
    for bad in (forged, page.next_cursor or page.prev_cursor + "x", "%%%"):
        response = operator_client.get(f"/executions/?after={bad}")
        assert response.status_code == 400
        assert "This page link is not valid" in response.content.decode()


def test_list_sorts_by_duration(operator_client):
    execution_make(name="short", status="SUCCEEDED", duration_ms=1000)
    execution_make(name="long", status="SUCCEEDED", duration_ms=90_000)
    execution_make(name="running", status="RUNNING")
    rows = operator_client.get("/executions/?sort=-duration").context["page"].rows
    assert [e.name for e in rows][:2] == ["long", "short"]
    rows = operator_client.get("/executions/?sort=duration").context["page"].rows
    assert [e.name for e in rows][:2] == ["short", "long"]


def test_list_htmx_refresh_returns_only_the_table(operator_client):
    execution_make(name="row-a")
    response = operator_client.get("/executions/?q=row", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="exec-table"') and "row-a" in html and "<html" not in html
    assert 'hx-trigger="every 15s' in html


def test_list_query_count_does_not_grow_with_rows(operator_client, settings):
    settings.EXECUTIONS_PAGE_SIZE = 50
    function = function_make()
    for _ in range(5):
        execution_make(function=function)
    operator_client.get("/executions/actions/")  # the session's first request records its activity: not counted
    with CaptureQueriesContext(connection) as small:
        operator_client.get("/executions/")
    for _ in range(45):
        execution_make(function=function)
    with CaptureQueriesContext(connection) as large:
        operator_client.get("/executions/")
    assert len(large) == len(small)


# --- detail -------------------------------------------------------------------------------


def _rich_execution():
    function = function_make()
    now = timezone.now()
    execution = execution_make(
        function=function,
        name="rich",
        started_ago=timedelta(minutes=10),
        input={"orderId": "ord-42", "amount": 12},
        version="3",
    )
    start = execution.started_at
    operation_make(execution, operation_id="exec", op_type="execution", name="", status="STARTED")
    operation_make(
        execution,
        name="create_order",
        started_at=start,
        ended_at=start + timedelta(seconds=1),
        result_preview='{"orderId": "ord-42"}',
    )
    operation_make(
        execution,
        name="charge",
        status="SUCCEEDED",
        attempts=3,
        started_at=start + timedelta(seconds=2),
        ended_at=start + timedelta(seconds=40),
        attempt_history=[
            {
                "attempt": 1,
                "started": (start + timedelta(seconds=2)).isoformat(),
                "ended": (start + timedelta(seconds=3)).isoformat(),
                "status": "FAILED",
                "error_type": "CardDeclined",
                "error_message": "declined",
                "next_delay_seconds": 10,
            },
            {
                "attempt": 2,
                "started": (start + timedelta(seconds=13)).isoformat(),
                "ended": (start + timedelta(seconds=14)).isoformat(),
                "status": "FAILED",
                "error_type": "CardDeclined",
                "next_delay_seconds": 20,
            },
            {
                "attempt": 3,
                "started": (start + timedelta(seconds=34)).isoformat(),
                "ended": (start + timedelta(seconds=40)).isoformat(),
                "status": "SUCCEEDED",
            },
        ],
    )
    operation_make(
        execution,
        op_type="wait",
        name="cool_down",
        status="SUCCEEDED",
        wait_seconds=60,
        started_at=start + timedelta(seconds=41),
        ended_at=start + timedelta(seconds=101),
        wait_scheduled_end=start + timedelta(seconds=101),
    )
    group = operation_make(
        execution,
        operation_id="map1",
        op_type="context",
        sub_type="Map",
        name="squares",
        started_at=start + timedelta(seconds=102),
        ended_at=start + timedelta(seconds=110),
    )
    for i in range(3):
        it = operation_make(
            execution,
            operation_id=f"it{i}",
            op_type="context",
            sub_type="MapIteration",
            name=f"squares-{i}",
            parent_operation_id=group.operation_id,
            started_at=start + timedelta(seconds=102),
            ended_at=start + timedelta(seconds=105 + i),
            status="FAILED" if i == 2 else "SUCCEEDED",
        )
        operation_make(
            execution,
            name=f"square_{i}",
            parent_operation_id=it.operation_id,
            started_at=start + timedelta(seconds=103),
            ended_at=start + timedelta(seconds=104 + i),
            status="FAILED" if i == 2 else "SUCCEEDED",
            error_type="ItemError" if i == 2 else "",
        )
    operation_make(
        execution,
        op_type="chained_invoke",
        name="call_target",
        sub_type="ChainedInvoke",
        started_at=start + timedelta(seconds=111),
        ended_at=start + timedelta(seconds=115),
    )
    callback_make(
        execution,
        name="approval",
        opened_ago=now - start - timedelta(seconds=120),
        timeout=timedelta(hours=24),
        heartbeat_timeout_seconds=600,
    )
    operation_make(
        execution,
        op_type="teleport",
        sub_type="Quantum",
        name="mystery",
        status="ENTANGLED",
        started_at=start + timedelta(seconds=116),
        ended_at=start + timedelta(seconds=117),
    )
    for offset, seconds in ((0, 1.5), (13, 1.0), (34, 7), (101, 15), (119, 1.2)):
        invocation_make(execution, start_offset=offset, seconds=seconds)
    invocation_make(
        execution, start_offset=200, seconds=0.5, error_type="Sandbox.Timedout", error_message="Task timed out"
    )
    return execution


def test_detail_renders_every_operation_kind_and_the_timeline(operator_client):
    execution = _rich_execution()
    response = operator_client.get(f"/executions/{execution.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    timeline = response.context["timeline"]
    labels = [row.label for row in timeline.rows]
    # Tree order: map iterations under the map, their steps under the iterations; the execution op is not a row.
    assert labels.index("squares") < labels.index("squares-0") < labels.index("square_0") < labels.index("squares-1")
    depth = {row.label: row.depth for row in timeline.rows}
    assert (depth["squares"], depth["squares-0"], depth["square_0"]) == (0, 1, 2)
    charge = next(row for row in timeline.rows if row.label == "charge")
    assert [s.css.split()[0] for s in charge.segments] == ["attempt", "gap", "attempt", "gap", "attempt"]
    assert "retry delay 10 s" in charge.segments[1].title
    approval = next(row for row in timeline.rows if row.label == "approval")
    assert approval.overflow.startswith("deadline")  # 24 h deadline beyond the activity axis
    assert timeline.invocation_count == 6 and len(timeline.invocations) == 6
    assert "invocation FAILED" in html
    assert "Invocations" in html and "wall-clock" in html
    for kind in ("ChainedInvoke", "MapIteration", "Quantum", "ENTANGLED", "wait"):
        assert kind in html
    # Link to the order; the callback id never reaches the page.
    assert 'href="/approvals/ord-42/"' in html
    assert "SECRET-CALLBACK-TOKEN" not in html
    # Waiting-on panel shows the open callback with its heartbeat.
    assert "Waiting on" in html and "every 10 m" in html


def test_detail_full_axis_includes_the_deadline(operator_client):
    execution = _rich_execution()
    response = operator_client.get(f"/executions/{execution.pk}/?axis=full")
    approval = next(row for row in response.context["timeline"].rows if row.label == "approval")
    assert approval.overflow == "" and any("deadline" in m.css for m in approval.markers)


def test_detail_escapes_payloads_and_errors(operator_client):
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    execution = execution_make(
        status="FAILED", name=evil, error_type=evil, error_message=evil, input={"note": evil}, error_stack=[evil]
    )
    operation_make(execution, name=evil, result_preview=json.dumps({"html": evil}), error_message=evil)
    events_make(execution, 2, details={"Result": {"Payload": json.dumps({"t": "m", "v": {"html": evil}})}})
    html = operator_client.get(f"/executions/{execution.pk}/").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html


def test_detail_of_unknown_event_types_and_decoded_envelopes(operator_client):
    execution = execution_make(status="SUCCEEDED")
    events_make(execution, 1, event_type="HyperspaceJumped", details={"Warp": 9})
    envelope = {"t": "m", "v": {"total": {"t": "d", "v": "12.50"}}}
    events_make(execution, 1, details={"Result": {"Payload": json.dumps(envelope)}})
    html = operator_client.get(f"/executions/{execution.pk}/").content.decode()
    assert "HyperspaceJumped" in html and "Warp" in html
    assert "&quot;total&quot;: &quot;12.50&quot;" in html  # the SDK envelope is unwrapped


def test_detail_hides_callback_ids_in_event_details_and_download(operator_client):
    execution = execution_make()
    events_make(
        execution, 1, event_type="CallbackStarted", details={"CallbackId": "SECRET-CALLBACK-TOKEN-9", "Timeout": 60}
    )
    html = operator_client.get(f"/executions/{execution.pk}/").content.decode()
    assert "SECRET-CALLBACK-TOKEN" not in html
    body = b"".join(operator_client.get(f"/executions/{execution.pk}/history.json").streaming_content)
    assert b"SECRET-CALLBACK-TOKEN" not in body


def test_history_download_is_the_boto3_shape(operator_client):
    execution = execution_make(status="SUCCEEDED")
    events_make(execution, 1200)
    response = operator_client.get(f"/executions/{execution.pk}/history.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(b"".join(response.streaming_content))
    assert [e["EventId"] for e in data["Events"]] == list(range(1, 1201))
    assert data["Events"][0]["EventType"] == "StepSucceeded"


def test_history_filters_and_pages(operator_client, settings):
    settings.HISTORY_PAGE_SIZE = 50
    execution = execution_make(status="FAILED")
    events_make(execution, 120)
    events_make(execution, 3, event_type="StepFailed", details={"Error": {"Payload": {"ErrorType": "Boom"}}})
    url = f"/executions/{execution.pk}/"
    page = operator_client.get(url).context["history"]
    assert [e.event_id for e in page.events][:2] == [1, 2] and page.next_after == 50 and page.total == 123
    page = operator_client.get(url + "?after=50").context["history"]
    assert page.events[0].event_id == 51 and page.prev_before == 51
    page = operator_client.get(url + "?before=51").context["history"]
    assert [e.event_id for e in page.events] == list(range(1, 51))
    page = operator_client.get(url + "?failures=on").context["history"]
    assert [e.event_type for e in page.events] == ["StepFailed"] * 3
    page = operator_client.get(url + "?type=StepFailed&name=step_12").context["history"]
    assert [e.event_id for e in page.events] == [121, 122, 123] or all("12" in e.name for e in page.events)
    # htmx asks for the history section only.
    response = operator_client.get(url + "?after=50", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="history")
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card flush" id="history"') and "Timeline" not in html


def test_huge_history_page_has_constant_queries(operator_client):
    small = execution_make(status="SUCCEEDED")
    events_make(small, 10)
    for i in range(5):
        operation_make(small, name=f"s{i}")
    huge = execution_make(status="SUCCEEDED")
    events_make(huge, 5000)
    for i in range(200):
        operation_make(huge, name=f"h{i}")
    for i in range(50):
        invocation_make(huge, start_offset=i, seconds=0.2)
    operator_client.get("/executions/actions/")  # the session's first request records its activity: not counted
    with CaptureQueriesContext(connection) as q_small:
        assert operator_client.get(f"/executions/{small.pk}/").status_code == 200
    with CaptureQueriesContext(connection) as q_huge:
        response = operator_client.get(f"/executions/{huge.pk}/")
    assert response.status_code == 200
    assert len(q_huge) == len(q_small)
    assert len(response.context["history"].events) == 50  # paginated (HISTORY_PAGE_SIZE)


def test_detail_404_for_unknown_execution(operator_client):
    assert operator_client.get("/executions/999999/").status_code == 404


# --- triage ---------------------------------------------------------------------------------


def test_attention_list_oldest_first_with_reasons(operator_client):
    new = execution_make(
        name="new",
        needs_attention=True,
        started_ago=timedelta(minutes=5),
        attention_reasons=[{"code": "no_progress", "message": "No progress for 20 m"}],
    )
    old = execution_make(
        name="old",
        needs_attention=True,
        started_ago=timedelta(hours=5),
        attention_reasons=[{"code": "callback_overdue", "message": "Callback approval overdue", "operation_id": "cb"}],
    )
    execution_make(name="fine")
    response = operator_client.get("/executions/attention/")
    assert [e.name for e in response.context["rows"]] == [old.name, new.name]
    html = response.content.decode()
    assert "No progress for 20 m" in html and "Callback approval overdue" in html
    assert "Fail callback" not in html  # operators see no action


def test_attention_offers_inline_fail_to_admins(admin_client_):
    execution = execution_make(
        needs_attention=True, attention_reasons=[{"code": "callback_overdue", "message": "overdue"}]
    )
    callback_make(execution, operation_id="cb-overdue")
    html = admin_client_.get("/executions/attention/").content.decode()
    assert f"/executions/{execution.pk}/confirm/fail_callback?op=cb-overdue" in html  # the confirmation step
    assert "SECRET-CALLBACK-TOKEN" not in html


def test_failures_list(operator_client):
    execution_make(name="failed", status="FAILED", error_type="InvalidOrderError", error_message="bad amount")
    execution_make(name="partial", status="SUCCEEDED", has_failures=True)
    execution_make(name="ok", status="SUCCEEDED")
    response = operator_client.get("/executions/failures/?since=all")
    # a succeeded execution recovered from whatever failed inside it: not a failure
    assert {e.name for e in response.context["rows"]} == {"failed"}
    assert "InvalidOrderError" in response.content.decode()


def test_timeouts_list_shows_overdue_callbacks_and_timed_out_executions(admin_client_):
    running = execution_make(name="waiting")
    callback_make(running, name="approval", opened_ago=timedelta(hours=3), timeout=timedelta(hours=1))
    callback_make(running, name="not_yet", opened_ago=timedelta(minutes=3), timeout=timedelta(hours=1))
    execution_make(name="timed", status="TIMED_OUT")
    response = admin_client_.get("/executions/timeouts/")
    assert [op.name for op in response.context["overdue"]] == ["approval"]
    assert [e.name for e in response.context["rows"]] == ["timed"]
    html = response.content.decode()
    assert 'name="targets"' in html and "Review and fail selected" in html


def test_timeouts_list_says_which_succeeded_executions_had_an_operation_time_out(operator_client):
    expired = execution_make(name="order-expired", status="SUCCEEDED", has_failures=True)
    callback_make(expired, name="approval", status="TIMED_OUT", ended_at=timezone.now())
    response = operator_client.get("/executions/timeouts/")
    assert [e.name for e in response.context["rows"]] == ["order-expired"]
    html = response.content.decode()
    assert "Callback approval timed out" in html and "failed operations" not in html


def test_timeouts_list_respects_the_sla(operator_client, settings):
    settings.ATTENTION_CALLBACK_SLA_SECONDS = 3600
    running = execution_make()
    callback_make(running, name="no_deadline", opened_ago=timedelta(hours=2), timeout=None)
    assert [op.name for op in operator_client.get("/executions/timeouts/").context["overdue"]] == ["no_deadline"]


# --- audit log --------------------------------------------------------------------------------


def test_actions_log_filters(operator_client, admin_user):
    execution = execution_make(name="target-exec")
    for outcome in ("succeeded", "closed", "failed"):
        OperatorAction.objects.create(
            user=admin_user,
            username="admin",
            action=OperatorAction.Action.FAIL_CALLBACK,
            execution=execution,
            execution_arn=execution.arn,
            operation_id="cb",
            operation_name="approval",
            reason=f"reason {outcome}",
            outcome=outcome,
        )
    OperatorAction.objects.create(
        user=admin_user,
        username="admin",
        action=OperatorAction.Action.STOP,
        execution=execution,
        execution_arn=execution.arn,
        reason="stop it",
        outcome="succeeded",
    )
    response = operator_client.get("/executions/actions/")
    assert len(response.context["page"].rows) == 4
    response = operator_client.get("/executions/actions/?action=fail_callback&outcome=closed")
    assert [a.reason for a in response.context["page"].rows] == ["reason closed"]
    response = operator_client.get("/executions/actions/?execution=target-exec&user=adm")
    assert len(response.context["page"].rows) == 4
    assert "stop it" in operator_client.get("/executions/actions/").content.decode()


def test_overview_time_to_decision_distribution(operator_client):
    from approvals.models import Decision

    now = timezone.now()
    for minutes in (0.5, 3, 3, 10, 45, 200, 2000):
        decision = Decision.objects.create(
            order_id=f"o-{minutes}",
            decision="approve",
            username="dana",
            outcome="succeeded",
            order_created_at=now - timedelta(minutes=minutes),
        )
        Decision.objects.filter(pk=decision.pk).update(created_at=now)
    Decision.objects.create(
        order_id="lost",
        decision="approve",
        username="dana",
        outcome="already_decided",
        order_created_at=now - timedelta(minutes=1),
    )
    response = operator_client.get("/")
    assert response.context["decision_count"] == 7
    assert response.context["decision_p50"] == pytest.approx(600, abs=2)
    html = response.content.decode()
    assert "1-5 m: 2 decisions" in html and "&gt; 24 h: 1 decision<" in html


@pytest.mark.parametrize("sort", ["-duration", "duration", "-started", "started"])
def test_keyset_walks_forward_and_back_with_null_sort_values(operator_client, settings, sort):
    settings.EXECUTIONS_PAGE_SIZE = 3
    function = function_make()
    for i in range(5):
        execution_make(function=function, name=f"done-{i}", status="SUCCEEDED", duration_ms=1000 * (i % 3))
    for i in range(4):
        execution_make(function=function, name=f"running-{i}")  # no duration yet: NULL sorts last
    forward, pages, url = [], [], f"/executions/?sort={sort}"
    while url:
        page = operator_client.get(url).context["page"]
        pages.append(page)
        forward += [e.name for e in page.rows]
        url = f"/executions/?sort={sort}&after={page.next_cursor}" if page.next_cursor else None
    assert len(forward) == 9 and len(set(forward)) == 9
    if "duration" in sort:
        assert all(name.startswith("running") for name in forward[-4:])
    # Walking back from the last page visits the same pages in reverse.
    backward, page = [], pages[-1]
    while page.prev_cursor:
        page = operator_client.get(f"/executions/?sort={sort}&before={page.prev_cursor}").context["page"]
        backward = [e.name for e in page.rows] + backward
    assert backward + [e.name for e in pages[-1].rows] == forward


def test_timeline_with_a_thousand_operations(operator_client):
    from executions.models import Operation

    execution = execution_make(status="SUCCEEDED")
    start = execution.started_at
    group = operation_make(
        execution,
        operation_id="map",
        op_type="context",
        sub_type="Map",
        name="fan",
        started_at=start,
        ended_at=start + timedelta(seconds=60),
    )
    Operation.objects.bulk_create(
        [
            Operation(
                execution=execution,
                operation_id=f"it{i}",
                parent_operation_id=group.operation_id,
                op_type="context",
                sub_type="MapIteration",
                name=f"fan-{i}",
                status="SUCCEEDED",
                started_at=start + timedelta(milliseconds=i * 50),
                ended_at=start + timedelta(milliseconds=i * 50 + 40),
                first_event_id=10 + i,
            )
            for i in range(1000)
        ]
    )
    from executions.sync.tree import operation_tree_update

    operation_tree_update(execution)  # what the sync does when it derives the events
    with CaptureQueriesContext(connection) as queries:
        response = operator_client.get(f"/executions/{execution.pk}/")
    assert response.status_code == 200
    timeline = response.context["timeline"]
    # The map is one summary lane: its 1,000 iterations are loaded on demand, not drawn at first load.
    assert len(timeline.rows) == 1 and timeline.rows[0].child_count == 1000
    assert timeline.rows[0].summary.children == 1000 and timeline.rows[0].summary.counts == [("SUCCEEDED", 1000)]
    html = response.content.decode()
    assert 'data-children="1000"' in html and "tl-summary" in html and "fan-999" not in html
    assert len(queries) < 30
