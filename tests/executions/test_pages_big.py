"""Big executions stay light: an execution at AWS's limit of 3,000 operations, imported through import_history,
costs about what a small one does (bounded queries and HTML), and nothing that matters is hidden."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from executions.models import Execution, Operation
from tests.executions.big_history import history_events, history_import

pytestmark = pytest.mark.django_db

ROW_RE = re.compile(r'<div class="tl-row ([^"]*)" data-key="([^"]+)" data-parent="([^"]*)"')
MORE_RE = re.compile(r'href="([^"]+)" data-children-more')


def fan_iterations(events: list[dict]) -> dict[str, str]:
    """The big map's iterations in the events: name -> how it ended (FAILED, SUCCEEDED or STARTED)."""
    outcome = {}
    for event in events:
        if event.get("ParentId") == "fan" and event.get("SubType") == "MapIteration":
            outcome[event["Name"]] = {"ContextFailed": "FAILED", "ContextSucceeded": "SUCCEEDED"}.get(
                event["EventType"], "STARTED"
            )
    return outcome


@pytest.fixture(scope="module")
def big(django_db_setup, django_db_blocker):
    """The 3,000-operation execution (imported once for the module: the import takes seconds)."""
    with django_db_blocker.unblock():
        execution = history_import(3000, name="big-batch")
        yield execution
        Execution.objects.filter(pk=execution.pk).delete()


def queries_counted() -> CaptureQueriesContext:
    """A query counter that starts from an empty log: an import logs thousands of queries, and a full log (Django
    keeps the last 9,000) would count none."""
    reset_queries()
    return CaptureQueriesContext(connection)


def children_rows(html: str, parent: str) -> list[tuple[str, str]]:
    """(key, css classes) of the rows of `parent`'s children in a timeline fragment (listed rows excluded)."""
    return [
        (key, css) for css, key, row_parent in ROW_RE.findall(html) if row_parent == parent and "tl-listed" not in css
    ]


def test_generator_stays_within_aws_limits():
    events = history_events(3000)
    assert len({e["Id"] for e in events if e.get("Id")}) <= 3000
    assert 5000 < len(events) < 13000
    assert [e["EventId"] for e in events] == list(range(1, len(events) + 1))
    small = history_events(10)
    assert len({e["Id"] for e in small if e.get("Id")}) <= 10
    running = history_events(300, running=True)
    assert running[-1]["EventType"] != "ExecutionSucceeded"
    assert "STARTED" in fan_iterations(running).values()


def test_first_load_shows_the_summary_lane_and_the_failures(operator_client, big):
    iterations = fan_iterations(history_events(3000))
    failed = sorted(name for name, status in iterations.items() if status == "FAILED")
    assert (
        "fan-1234" in failed and len(iterations) == Operation.objects.get(execution=big, operation_id="fan").child_count
    )
    assert Operation.objects.filter(execution=big).count() == 3000

    response = operator_client.get(f"/executions/{big.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert len(response.content) < 300_000
    timeline = response.context["timeline"]
    fan = next(row for row in timeline.rows if row.key == "fan")
    assert fan.lazy and fan.summary.children == len(iterations)
    assert dict(fan.summary.counts) == {"SUCCEEDED": len(iterations) - len(failed), "FAILED": len(failed)}
    assert fan.summary.durations and [label for label, _ in fan.summary.durations] == ["min", "median", "p95", "max"]
    # The failed iterations (and their failed steps) are listed in the lane, with their errors, at first load.
    assert {row.key for row in fan.summary.attention} >= set(failed)
    assert f"{len(iterations) - len(failed):,} succeeded" in html and f"{len(failed)} failed" in html
    assert "fan-1234" in html and "item 1234: amount must be positive" in html and "ValidationError" in html
    # A failure four levels deep (a nested map's shard) is visible too; the map's other iterations are not drawn.
    assert "region 2 shard 3 did not answer" in html
    assert "fan-1233" not in html and "fan-1000" not in html
    assert len(timeline.rows) < 100


def test_expanding_the_group_pages_through_every_child_once(operator_client, big):
    iterations = fan_iterations(history_events(3000))
    page = operator_client.get(f"/executions/{big.pk}/")
    fan_row = re.search(r'data-key="fan"[^>]*data-lazy="([^"]+)"', page.content.decode())
    url = unescape(fan_row.group(1)) + "&page=1"

    seen: list[str] = []
    pages = 0
    while url:
        with queries_counted() as queries:
            response = operator_client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert 0 < len(queries) <= 12
        html = response.content.decode()
        rows = children_rows(html, "fan")
        assert rows and len(rows) <= 50
        seen += [key for key, _ in rows]
        more = MORE_RE.search(html)
        url = unescape(more.group(1)) if more else None
        pages += 1
    assert len(seen) == len(set(seen)) == len(iterations)  # none twice
    assert set(seen) == set(iterations)  # none missing
    failed = [name for name, status in iterations.items() if status == "FAILED"]
    assert set(seen[: len(failed)]) == set(failed)  # failures first
    assert pages == -(-len(iterations) // 50)


def test_children_filtered_by_status(operator_client, big):
    url = f"/executions/{big.pk}/timeline/children?group=fan&depth=1&status=FAILED"
    html = operator_client.get(url).content.decode()
    keys = [key for key, _ in children_rows(html, "fan")]
    assert sorted(keys) == sorted(n for n, s in fan_iterations(history_events(3000)).items() if s == "FAILED")
    assert "item 1234: amount must be positive" in html or "fan-1234" in keys
    empty = operator_client.get(f"/executions/{big.pk}/timeline/children?group=fan&depth=1&status=TIMED_OUT")
    assert "No child matches" in empty.content.decode()
    assert operator_client.get(f"/executions/{big.pk}/timeline/children?group=nope").status_code == 404


def test_queries_do_not_grow_with_operations(operator_client, big):
    executions = [history_import(10, name="small"), history_import(300, name="medium"), big]
    counts, sizes = [], []
    for execution in executions:
        operator_client.get(f"/executions/{execution.pk}/")  # warm the session and caches
        with queries_counted() as queries:
            response = operator_client.get(f"/executions/{execution.pk}/")
        assert response.status_code == 200
        counts.append(len(queries))
        sizes.append(len(response.content))
    assert counts[0] == counts[1] == counts[2] > 0, counts
    assert sizes[2] < 300_000, sizes
    print(f"detail page at 10, 300, 3,000 operations: {counts} queries, {sizes} bytes")


def test_operations_table_is_paged_and_filtered(operator_client, big, settings):
    base = f"/executions/{big.pk}/"

    def table(query: str):
        response = operator_client.get(base + query)
        assert response.status_code == 200
        return response.context["operations"]

    first = table("")
    assert first.total == 2999 and len(first.rows) == settings.OPERATIONS_PAGE_SIZE and first.number == 1
    second = table("?opage=2")
    assert second.number == 2 and not {op.pk for op in first.rows} & {op.pk for op in second.rows}
    last = table("?opage=10000")
    assert last.number == last.pages and last.rows  # past the end: the last page

    failures = table("?ofailures=on")
    failed_ids = {op.operation_id for op in failures.rows}
    assert {"fan-1234", "fan-1234-s", "regions-2-shards-3", "regions-2-shards-3-s"} <= failed_ids
    assert all(op.status == "FAILED" for op in failures.rows)
    assert table("?ostatus=FAILED").total == failures.total

    steps = table("?otype=step")
    assert steps.total == Operation.objects.filter(execution=big, op_type="step").count()
    assert all(op.op_type == "step" for op in steps.rows)
    named = table("?oname=fan-123")
    assert {op.name for op in named.rows} == {"fan-123"} | {f"fan-{n}" for n in range(1230, 1240)}
    combined = table("?oname=fan-12&otype=context&ostatus=FAILED")
    assert [op.name for op in combined.rows] == ["fan-1234"]

    # htmx asks for the table alone: a fragment, not the page.
    fragment = operator_client.get(base + "?ofailures=on", headers={"HX-Request": "true", "HX-Target": "operations"})
    text = fragment.content.decode()
    assert 'id="operations"' in text and 'id="timeline"' not in text and "fan-1234" in text


def test_operation_page_of_a_failed_iteration_and_of_the_map(operator_client, big):
    step = operator_client.get(f"/executions/{big.pk}/operations/fan-1234-s/").content.decode()
    assert "ValidationError" in step and "item 1234: amount must be positive" in step
    fan = operator_client.get(f"/executions/{big.pk}/operations/fan/")
    assert fan.status_code == 200
    children = fan.context["children"]
    assert children.total == Operation.objects.get(execution=big, operation_id="fan").child_count
    assert children.rows[0].status == "FAILED" and len(children.rows) <= 50
    assert operator_client.get(f"/executions/{big.pk}/operations/nope/").status_code == 404


def test_timeline_url_answers_304_while_nothing_changed(operator_client, big):
    url = f"/executions/{big.pk}/timeline/"
    response = operator_client.get(url)
    assert response.status_code == 200 and response["ETag"]
    assert 'id="timeline"' in response.content.decode() and 'id="operations"' not in response.content.decode()
    again = operator_client.get(url, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304 and again.content == b""
    other_axis = operator_client.get(url + "?axis=full", headers={"If-None-Match": response["ETag"]})
    assert other_axis.status_code == 200


def _grown(events: list[dict], *, finished: int, added: int) -> list[dict]:
    """The history of the running execution later: `finished` of its open iterations end, `added` new ones start."""
    events = [dict(e) for e in events]
    clock = events[-1]["EventTimestamp"]
    open_iterations = [n for n, status in fan_iterations(events).items() if status == "STARTED"]
    new = []
    for name in open_iterations[:finished]:
        new.append({"EventType": "ContextSucceeded", "Id": name, "ParentId": "fan", "Name": name,
                    "SubType": "MapIteration", "EventTimestamp": clock, "ContextSucceededDetails": {}})  # fmt: skip
    for index in range(added):
        name = f"fan-new-{index}"
        new.append({"EventType": "ContextStarted", "Id": name, "ParentId": "fan", "Name": name,
                    "SubType": "MapIteration", "EventTimestamp": clock, "ContextStartedDetails": {}})  # fmt: skip
    for offset, event in enumerate(new, start=len(events) + 1):
        event["EventId"] = offset
    return events + new


def test_a_running_map_that_grows_refreshes_and_an_unchanged_one_stays_304(operator_client, big):
    from executions.sync import history_import as import_events

    events = history_events(300, running=True)
    running = history_import(300, running=True, name="growing")
    assert running.status == "RUNNING"
    url = f"/executions/{running.pk}/timeline/"
    first = operator_client.get(url)
    etag = first["ETag"]
    assert operator_client.get(url, headers={"If-None-Match": etag}).status_code == 304
    big_url = f"/executions/{big.pk}/timeline/"
    big_etag = operator_client.get(big_url)["ETag"]
    fan_before = Operation.objects.get(execution=running, operation_id="fan").summary

    # More events arrive (the same path a sync takes: the new events are stored and derived).
    import_events(events=_grown(events, finished=2, added=3), function_name="BigBatch", name="growing")
    running.refresh_from_db()
    fan_after = Operation.objects.get(execution=running, operation_id="fan").summary
    assert fan_after["children"] == fan_before["children"] + 3

    later = operator_client.get(url, headers={"If-None-Match": etag})
    assert later.status_code == 200 and later["ETag"] != etag
    html = later.content.decode()
    # The map's lane has the new counts (its running children counted, the more of them behind a link).
    assert fan_after["counts"]["STARTED"] == fan_before["counts"]["STARTED"] + 3 - 2
    assert f"{fan_after['counts']['STARTED']} started" in html and f"{fan_after['children']:,} children" in html
    assert f"{fan_after['counts']['STARTED']} started" not in first.content.decode()
    children = operator_client.get(f"/executions/{running.pk}/timeline/children?group=fan&depth=1&status=STARTED")
    keys = {key for key, _ in children_rows(children.content.decode(), "fan")}
    assert {"fan-new-0", "fan-new-1", "fan-new-2"} <= keys
    # The unchanged execution still costs one 304.
    assert operator_client.get(big_url, headers={"If-None-Match": big_etag}).status_code == 304
    assert operator_client.get(url, headers={"If-None-Match": later["ETag"]}).status_code == 304


def test_executions_synced_before_the_tree_get_it_from_the_data_migration(operator_client):
    import importlib

    from django.apps import apps

    backfill = importlib.import_module("executions.migrations.0007_operation_tree_backfill")
    execution = history_import(300, name="synced-before-0006")
    stored = {op.operation_id: op.summary for op in Operation.objects.filter(execution=execution, child_count__gt=0)}
    # What 0006 leaves on the rows of an execution synced before it: its defaults.
    Operation.objects.filter(execution=execution).update(
        child_count=0, descendant_count=0, attention_rank=3, timeline_visible=True, summarized=False, summary=None
    )
    backfill.tree_backfill(apps, None)
    after = {op.operation_id: op.summary for op in Operation.objects.filter(execution=execution, child_count__gt=0)}
    assert after == stored and after["fan"]["children"] == 129
    fan = Operation.objects.get(execution=execution, operation_id="fan")
    assert fan.summarized and fan.timeline_visible
    assert not Operation.objects.get(execution=execution, operation_id="fan-5").timeline_visible
    timeline = operator_client.get(f"/executions/{execution.pk}/").context["timeline"]
    keys = {row.key for row in timeline.rows}
    assert "fan" in keys and "fan-5" not in keys and len(keys) < 100
