"""One way to show time on the execution pages: every instant through `{% instant %}` (absolute with the time zone, or
relative as the user chose on /account/, the other form in the hover title), durations through `|duration`/`|ms`,
date filters naming their zone; execution names, ARNs and operation ids copyable, callback ids never shown."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

from core.formatting import instant_text
from core.templatetags.console import TIME_DISPLAY_RELATIVE, TIME_DISPLAY_SESSION_KEY
from executions.forms import ExecutionFilterForm
from tests.executions.page_factories import callback_make, events_make, execution_make, function_make, operation_make

TEMPLATES = Path(settings.BASE_DIR) / "templates"
SWEPT = sorted(
    [str(p.relative_to(TEMPLATES)) for p in (TEMPLATES / "executions").rglob("*.html")] + ["partials/activity.html"]
)
HAND_MADE = re.compile(r"\|\s*(date|time|naturaltime|naturalday|timesince|timeuntil|clock)\b")
# The shapes the pages used to mix: "2026-12-06 13:25:55.066", "Dec 06 11:30:55", "11:30:55.067".
OLD_SHAPES = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d|[A-Z][a-z]{2} \d\d \d\d:\d\d|>\d\d:\d\d:\d\d\.\d{3}<")


@pytest.mark.parametrize("name", SWEPT)
def test_execution_templates_format_time_only_through_the_single_formatter(name):
    text = (TEMPLATES / name).read_text()
    assert not HAND_MADE.findall(text), f"{name}: use {{% instant %}}, |instant_text, |duration or |ms"
    assert '.u"|slice' not in text


def test_the_started_filters_name_their_time_zone(settings):
    settings.TIME_ZONE = "UTC"
    form = ExecutionFilterForm(statuses=[], functions=[])
    assert form.fields["started_after"].label == "Started after (UTC)"
    assert form.fields["started_before"].label == "Started before (UTC)"


def _execution():
    function_make()
    execution = execution_make(name="order-7f1e22aa", started_ago=timedelta(hours=3))
    operation_make(execution, operation_id="0f9a6b1c2d3e4f50", name="validate")
    callback = callback_make(execution)
    events_make(execution, 3)
    return execution, callback


@pytest.mark.django_db
def test_the_execution_page_writes_every_instant_one_way(operator_client):
    execution, callback = _execution()
    body = operator_client.get(f"/executions/{execution.pk}/").content.decode()
    started = instant_text(execution.started_at, seconds=True)
    assert f'<time datetime="{execution.started_at.isoformat()}"' in body
    assert started in body  # summary, operations table, history table: the same shape, the zone named
    assert body.count(" UTC</time>") >= 5
    assert not OLD_SHAPES.search(body), OLD_SHAPES.search(body).group(0)
    assert instant_text(callback.started_at, seconds=True) in body  # waiting-on table
    # copy buttons: the name, the ARN, operation ids; never the callback id
    assert 'data-copy="order-7f1e22aa"' in body
    assert f'data-copy="{execution.arn}"' in body
    assert 'data-copy="0f9a6b1c2d3e4f50"' in body
    assert callback.callback_id not in body


@pytest.mark.django_db
def test_a_user_who_chose_relative_sees_relative_times_and_the_absolute_in_the_title(operator_client):
    execution, _ = _execution()
    session = operator_client.session
    session[TIME_DISPLAY_SESSION_KEY] = TIME_DISPLAY_RELATIVE
    session.save()
    body = operator_client.get(f"/executions/{execution.pk}/").content.decode()
    started = instant_text(execution.started_at, seconds=True)
    assert re.search(rf'<time datetime="[^"]+" title="{re.escape(started)}">3 h( \d+ m)? ago</time>', body)


@pytest.mark.django_db
def test_the_operation_page_writes_instants_and_a_copyable_id(operator_client):
    execution, callback = _execution()
    body = operator_client.get(f"/executions/{execution.pk}/operations/0f9a6b1c2d3e4f50/").content.decode()
    op = execution.operations.get(operation_id="0f9a6b1c2d3e4f50")
    assert instant_text(op.started_at, seconds=True) in body and instant_text(op.ended_at, seconds=True) in body
    assert 'data-copy="0f9a6b1c2d3e4f50"' in body
    assert not OLD_SHAPES.search(body)
    cb = operator_client.get(f"/executions/{execution.pk}/operations/{callback.operation_id}/").content.decode()
    assert instant_text(callback.deadline, seconds=True) in cb and callback.callback_id not in cb


@pytest.mark.django_db
def test_the_list_and_triage_pages_write_instants_with_the_zone(operator_client, settings):
    settings.TIME_ZONE = "UTC"
    execution = execution_make(name="exec-failed-1", status="FAILED", started_ago=timedelta(hours=2))
    body = operator_client.get("/executions/").content.decode()
    assert "Started after (UTC)" in body and "Started before (UTC)" in body
    assert instant_text(execution.started_at) in body and 'data-copy="exec-failed-1"' in body
    assert not OLD_SHAPES.search(body)
    triage = operator_client.get("/executions/failures/").content.decode()
    assert instant_text(execution.started_at) in triage and 'data-copy="exec-failed-1"' in triage
    assert not OLD_SHAPES.search(triage)
