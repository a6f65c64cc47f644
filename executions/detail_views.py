"""One execution's pages: the detail page, its timeline (own URL, ETag), a group's children on demand, one
operation, and the history download.

Every read is bounded (executions/selectors/operations.py), so an execution at AWS's limit of 3,000
operations costs about what a small one does; the tree facts were precomputed at sync time.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import condition, require_GET

from core.decoding import REDACTED, secrets_redact
from executions import selectors
from executions.attention import outcome_words
from executions.formatting import execution_timeout_info
from executions.forms import ActionForm, FailCallbackForm, HistoryFilterForm, OperationFilterForm, StopForm
from executions.models import Execution, Operation
from executions.timeline import Chart, chart_make, timeline_build
from executions.view_helpers import BadQuery, bad_query, page_context, query_int, viewer_required

MAX_AXIS_MS = 400 * 86400 * 1000  # an axis longer than this is not one a page of ours drew


OPEN_KINDS = ("callback", "wait", "step", "chained_invoke")


def _waiting_on(execution: Execution, now, pushes: list) -> dict:
    """The open operations, as the history shows them with the reports it does not show yet laid over them (a
    callback answered elsewhere is no longer listed; a step reported started is, marked)."""
    if execution.is_terminal or execution.deleted_at:
        return {}
    operations, total = selectors.open_operations(execution=execution)
    if pushes:
        operations = selectors.operations_with_pushes(execution=execution, operations=operations, pushes=pushes)
        operations = [op for op in operations if op.ended_at is None and op.op_type in OPEN_KINDS]
    callbacks = [op for op in operations if op.op_type == "callback"]
    waits = [op for op in operations if op.op_type == "wait"]
    retries = [op for op in operations if op.op_type == "step" and (op.attempts or 0) > 1]
    steps = [op for op in operations if op.op_type == "step" and (op.attempts or 0) <= 1]
    invokes = [op for op in operations if op.op_type == "chained_invoke"]
    for op in callbacks:
        op.overdue = selectors.callback_is_overdue(op, now=now)
        op.past_deadline = bool(op.deadline and op.deadline < now)
    return {
        "callbacks": callbacks,
        "waits": waits,
        "retries": retries,
        "steps": steps,
        "invokes": invokes,
        "more": max(0, total - len(operations)),
    }


def _reported_mark(rows: list[Operation], pushes: list) -> None:
    """The operations table shows the history's rows; a row with a report the history does not show yet also
    says what was reported (`op.reported`)."""
    reported = {push.operation_id: push for push in pushes}
    for op in rows:
        op.reported = reported.get(op.operation_id)


def _chart_query(chart: Chart | None) -> str:
    """The axis of the page, passed to the URLs that draw more rows on it."""
    if chart is None:
        return ""
    return f"t0={int(chart.start.timestamp() * 1000)}&t1={int(chart.end.timestamp() * 1000)}"


def _timeline_context(request, execution: Execution, now: datetime, pushes: list) -> dict:
    operations = selectors.timeline_operations(execution=execution)
    timeline = timeline_build(
        execution=execution,
        operations=selectors.operations_with_pushes(execution=execution, operations=operations, pushes=pushes),
        invocations=selectors.execution_invocations(execution=execution),
        now=now,
        full_axis=request.GET.get("axis") == "full",
        pauses=selectors.execution_pause_spans(execution=execution),
        root=selectors.execution_root(execution=execution),
    )
    chart = Chart(execution=execution, start=timeline.start, end=timeline.end, now=now) if timeline.start else None
    return {
        "timeline": timeline,
        "chart_query": _chart_query(chart),
        "timeline_etag": _timeline_etag(request, execution.pk, execution=execution, now=now) or "",
        "timeline_refresh_seconds": settings.TIMELINE_REFRESH_SECONDS,
        "operation_total": selectors.operations_count(execution=execution),
    }


def _etag_resolution(age_seconds: float) -> int:
    """Seconds per ETag of a running execution: about 1 % of its age, at least a minute, a minute times a power
    of two (so the version changes once per period, not whenever the age moves the period)."""
    periods = max(1.0, age_seconds / 100 / 60)
    return 60 * 2 ** math.ceil(math.log2(periods))


def _timeline_etag(request, execution_id: int, *, execution: Execution | None = None, now=None) -> str | None:
    """The timeline's version: the history position it reflects, and for a running execution the time at the
    chart's resolution (a bar that grows by less than 1 % of the axis is not a change)."""
    if execution is None:
        execution = (
            Execution.objects.only("id", "status", "derived_event_id", "started_at", "deleted_at", "pushed_at")
            .filter(pk=execution_id)
            .first()
        )
        if execution is None:
            return None
    axis = "full" if request.GET.get("axis") == "full" else "fit"
    tag = f"tl-{execution.pk}-{execution.derived_event_id}-{execution.status}-{axis}"
    if execution.pushed_at:  # reported states are drawn over the history until it shows them
        tag += f"-p{int(execution.pushed_at.timestamp() * 1000)}"
    if not execution.is_terminal and execution.started_at:
        now = now or timezone.now()
        tag += f"-{int(now.timestamp() // _etag_resolution((now - execution.started_at).total_seconds()))}"
    return tag


def _order_context(execution: Execution) -> dict:
    """The order an order-approval execution is for, and how it ended (the Outcome badge)."""
    order = selectors.execution_order_facts(execution=execution)
    order_id = (order.order_id if order else "") or selectors.execution_order_id(execution=execution)
    outcome = selectors.execution_outcome(execution=execution, facts=order)
    return {"order": order, "order_id": order_id, "outcome": outcome, "outcome_words": outcome_words(outcome)}


def _live_context(request, execution: Execution, history_filters) -> dict:
    """What a running execution's page re-fetches every few seconds: its head, summary and Waiting on panel."""
    now = timezone.now()
    pushes = selectors.execution_pushes(execution=execution)
    return page_context(
        request,
        execution=execution,
        **_timeline_context(request, execution, now, pushes),
        **_order_context(execution),
        history=selectors.history_page(execution=execution, filters=history_filters, limit=1),
        waiting=_waiting_on(execution, now, pushes),
        push=selectors.execution_push_state(execution=execution, pushes=pushes),
        live_refresh_seconds=settings.TIMELINE_REFRESH_SECONDS,
        timeout=execution_timeout_info(execution=execution, now=now),
        fail_form=FailCallbackForm(),
        now=now,
    )


@require_GET
@viewer_required
def execution_detail(request, execution_id: int):
    execution = selectors.execution_get(execution_id=execution_id)
    if execution is None:
        raise Http404("No such execution in the console's database.")
    history_form = HistoryFilterForm(request.GET or None)
    history_filters = history_form.filters() if request.GET else selectors.HistoryFilters()
    op_filter = (request.GET.get("op") or "").strip()[:256]
    if op_filter:
        history_filters = dataclasses.replace(history_filters, operation_id=op_filter)
    try:
        after, before = query_int(request, "after"), query_int(request, "before")
    except BadQuery as error:
        return bad_query(request, error)
    base = {"execution": execution, "op_filter": op_filter}
    if op_filter:
        base["op_filtered"] = selectors.operation_get(execution=execution, operation_id=op_filter)
    if request.htmx and request.htmx.target == "live":
        return _hide_callback_ids(
            render(request, "executions/detail.html#live", _live_context(request, execution, history_filters)),
            execution,
        )
    if request.htmx and request.htmx.target == "history":
        history = selectors.history_page(execution=execution, filters=history_filters, after=after, before=before)
        base.update(
            history=history, history_form=history_form, event_types=selectors.history_event_types(execution=execution)
        )
        return _hide_callback_ids(
            render(request, "executions/detail.html#history", page_context(request, **base)), execution
        )
    operations_form = OperationFilterForm(request.GET or None)
    operations = selectors.operations_page(
        execution=execution, filters=operations_form.filters(), number=operations_form.page_number()
    )
    pushes = selectors.execution_pushes(execution=execution)
    _reported_mark(operations.rows, pushes)
    statuses, types = selectors.operation_choices(execution=execution)
    base.update(
        operations=operations, operations_form=operations_form, operation_statuses=statuses, operation_types=types
    )
    if request.htmx and request.htmx.target == "operations":
        return _hide_callback_ids(
            render(request, "executions/detail.html#operations", page_context(request, **base)), execution
        )

    now = timezone.now()
    history = selectors.history_page(execution=execution, filters=history_filters, after=after, before=before)
    context = page_context(
        request,
        **base,
        **_timeline_context(request, execution, now, pushes),
        **_order_context(execution),
        history=history,
        history_form=history_form,
        event_types=selectors.history_event_types(execution=execution),
        waiting=_waiting_on(execution, now, pushes),
        push=selectors.execution_push_state(execution=execution, pushes=pushes),
        live_refresh_seconds=settings.TIMELINE_REFRESH_SECONDS,
        recent_actions=list(execution.actions.order_by("-created_at")[:10]),
        stop_form=StopForm(),
        fail_form=FailCallbackForm(),
        lifecycle_form=ActionForm(),
        timeout=execution_timeout_info(execution=execution, now=now),
        now=now,
    )
    return _hide_callback_ids(render(request, "executions/detail.html", context), execution)


@require_GET
@viewer_required
@condition(etag_func=_timeline_etag)
def execution_timeline(request, execution_id: int):
    """The timeline alone (a running execution's page re-fetches it): a 304 while nothing changed."""
    execution = selectors.execution_get(execution_id=execution_id)
    if execution is None:
        raise Http404("No such execution in the console's database.")
    pushes = selectors.execution_pushes(execution=execution)
    context = page_context(
        request, execution=execution, **_timeline_context(request, execution, timezone.now(), pushes)
    )
    response = _hide_callback_ids(render(request, "executions/detail.html#timeline", context), execution)
    response["Cache-Control"] = "private, no-cache"  # always revalidated: the ETag makes that one 304
    return response


def _axis(request, execution: Execution, now: datetime) -> Chart | None:
    """The page's axis from t0/t1 (epoch ms), so expanded rows line up with the page's; else the execution's."""
    try:
        t0, t1 = query_int(request, "t0"), query_int(request, "t1")
    except BadQuery:
        t0 = t1 = 0
    if 0 < t0 < t1 and t1 - t0 <= MAX_AXIS_MS:
        start = datetime.fromtimestamp(t0 / 1000, tz=UTC)
        return Chart(execution=execution, start=start, end=start + timedelta(milliseconds=t1 - t0), now=now)
    chart, _ = chart_make(execution=execution, operations=[], invocations=[], now=now)
    return chart


@require_GET
@viewer_required
def timeline_children(request, execution_id: int):
    """A page of a group's children (failed, retrying and running first), drawn on the page's axis."""
    execution = get_object_or_404(Execution, pk=execution_id)
    group = selectors.group_get(execution=execution, key=request.GET.get("group", ""))
    if group is None:
        raise Http404("No such group in this execution.")
    try:
        number, depth = max(1, query_int(request, "page")), min(64, query_int(request, "depth"))
    except BadQuery as error:
        return bad_query(request, error)
    status = (request.GET.get("status") or "")[:32]
    now = timezone.now()
    chart = _axis(request, execution, now)
    page = selectors.group_children_page(execution=execution, group=group, status=status, number=number)
    group_key = "" if group.op_type == "execution" else group.operation_id
    children = selectors.operations_with_pushes(
        execution=execution, operations=page.rows, pushes=selectors.execution_pushes(execution=execution), add_new=False
    )
    rows = [chart.row(op, depth=depth, parent_key=group_key, lazy=True) for op in children] if chart else []
    context = {
        "execution": execution,
        "rows": rows,
        "page": page,
        "status": status,
        "group_key": group_key,
        "depth": depth,
        "chart_query": _chart_query(chart),
    }
    return _hide_callback_ids(render(request, "executions/partials/timeline_children.html", context), execution)


@require_GET
@viewer_required
def operation_detail(request, execution_id: int, operation_id: str):
    """One operation: its facts, attempts, error, result and events; its children when it is a group."""
    execution = get_object_or_404(Execution, pk=execution_id)
    op = selectors.operation_get(execution=execution, operation_id=operation_id)
    if op is None:
        raise Http404("No such operation in this execution.")
    events, events_total = selectors.operation_events(execution=execution, operation_id=operation_id)
    parent = op.parent_id and Operation.objects.filter(pk=op.parent_id).only("operation_id", "name", "op_type").first()
    children = None
    if op.child_count:
        try:
            number = max(1, query_int(request, "page"))
        except BadQuery as error:
            return bad_query(request, error)
        children = selectors.group_children_page(execution=execution, group=op, number=number)
    context = {
        "execution": execution,
        "op": op,
        "parent": parent,
        "events": events,
        "events_total": events_total,
        "children": children,
    }
    template = "executions/operation.html#panel" if request.htmx else "executions/operation.html"
    return _hide_callback_ids(render(request, template, page_context(request, **context)), execution)


def _callback_ids(execution: Execution) -> list[str]:
    ids = Operation.objects.filter(execution=execution).exclude(callback_id="").values_list("callback_id", flat=True)
    return [value for value in ids if len(value) >= 8]


def _hide_callback_ids(response, execution: Execution):
    """Callback ids answer callbacks: whatever key or payload a workflow put them in, they never leave."""
    ids = _callback_ids(execution)
    if ids:
        text = response.content.decode()
        for value in ids:
            text = text.replace(value, REDACTED)
        response.content = text.encode()
    return response


@require_GET
@viewer_required
def execution_history_download(request, execution_id: int):
    """The whole stored history, as the JSON `GetDurableExecutionHistory` returns (streamed).

    Callback ids are hidden: they are bearer tokens that answer the callback.
    """
    execution = get_object_or_404(Execution, pk=execution_id)

    ids = _callback_ids(execution)

    def chunks():
        yield '{"Events": ['
        first = True
        for raw in selectors.history_raw_iter(execution=execution):
            text = json.dumps(secrets_redact(raw), default=str)
            for value in ids:
                text = text.replace(value, REDACTED)
            yield ("" if first else ",\n") + text
            first = False
        yield "]}\n"

    response = StreamingHttpResponse(chunks(), content_type="application/json")
    safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in (execution.name or str(execution.pk)))
    response["Content-Disposition"] = f'attachment; filename="history-{safe_name[:80]}.json"'
    return response
