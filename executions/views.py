"""Execution pages: list, triage, audit log, admin actions (one execution's pages: `detail_views`).

Pages read only the Django database (the poller keeps it fresh); admin actions
go through `executions.actions`. htmx requests get a partial of the same template.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.pagination import InvalidCursor
from executions import actions, selectors
from executions.confirm_views import confirm_targets
from executions.forms import (
    ActionFilterForm,
    ActionForm,
    BulkFailForm,
    ExecutionFilterForm,
    FailCallbackForm,
    StopForm,
    since_parse,
)
from executions.models import Execution, Operation
from executions.statuses import ExecutionStatus
from executions.view_helpers import (
    BadQuery,
    admin_required,
    back,
    bad_query,
    form_errors,
    page_context,
    report,
    require_actions_enabled,
    viewer_required,
)

# --- list -------------------------------------------------------------------------


@require_GET
@viewer_required
def execution_list(request):
    form = ExecutionFilterForm(
        request.GET or None, statuses=selectors.statuses_seen(), functions=selectors.function_names()
    )
    filters = form.filters() if request.GET else selectors.ExecutionFilters()
    try:
        page = selectors.execution_list(
            filters=filters, after=request.GET.get("after", ""), before=request.GET.get("before", "")
        )
    except InvalidCursor:
        return bad_query(request, BadQuery("The page link's cursor was not issued by this list."))
    context = page_context(
        request,
        form=form,
        filters=filters,
        page=page,
        refresh_seconds=settings.LIST_REFRESH_SECONDS,
        bulk_form=ActionForm(),
        now=timezone.now(),
    )
    if request.htmx and not request.htmx.boosted:
        return render(request, "executions/list.html#table", context)
    return render(request, "executions/list.html", context)


# --- triage -----------------------------------------------------------------------


def _function_filter(request) -> str:
    return (request.GET.get("function") or "").strip()[:170]


@require_GET
@viewer_required
def attention(request):
    function = _function_filter(request)
    rows = selectors.attention_list(function=function)
    _annotate_callbacks(rows)
    selectors.triage_annotate(rows=rows, mode="attention")
    return render(
        request,
        "executions/triage.html",
        page_context(
            request,
            mode="attention",
            rows=rows,
            function=function,
            functions=selectors.function_names(),
            groups=selectors.triage_groups(rows),
            thresholds=selectors.thresholds_words(),
            title="Needs attention",
            subtitle="Running executions that look stuck or overdue (and timed-out ones), grouped by what is wrong, "
            "oldest first.",
            fail_form=FailCallbackForm(),
        ),
    )


@require_GET
@viewer_required
def failures(request):
    function = _function_filter(request)
    since_value, since = since_parse(request.GET.get("since", "7d"))
    rows = selectors.failures_list(since=since, function=function)
    _annotate_callbacks(rows)
    selectors.triage_annotate(rows=rows, mode="failures")
    return render(
        request,
        "executions/triage.html",
        page_context(
            request,
            mode="failures",
            rows=rows,
            function=function,
            functions=selectors.function_names(),
            since=since_value,
            groups=selectors.triage_groups(rows),
            thresholds=selectors.thresholds_words(),
            title="Failures",
            subtitle="Executions that failed or timed out, and unfinished ones with an operation that failed without "
            "recovery, grouped by error type, oldest first.",
            fail_form=FailCallbackForm(),
        ),
    )


def _annotate_callbacks(rows: list[Execution]) -> None:
    """Attach the open overdue callbacks each execution has (for the inline fail buttons)."""
    ids = [row.pk for row in rows if row.status == ExecutionStatus.RUNNING]
    by_execution: dict[int, list[Operation]] = {}
    now = timezone.now()
    if ids:
        for op in selectors.open_callbacks_query().filter(execution_id__in=ids).defer("callback_id"):
            op.overdue = selectors.callback_is_overdue(op, now=now)
            by_execution.setdefault(op.execution_id, []).append(op)
    for row in rows:
        row.open_callbacks = by_execution.get(row.pk, [])


def _timeouts_context(request, **extra) -> dict:
    function = _function_filter(request)
    since_value, since = since_parse(request.GET.get("since", "7d"))
    overdue = selectors.overdue_callbacks(function=function)
    rows = selectors.timed_out_list(since=since, function=function)
    _annotate_callbacks(rows)
    selectors.triage_annotate(rows=rows, mode="timeouts")
    return page_context(
        request,
        mode="timeouts",
        rows=rows,
        overdue=overdue,
        groups=selectors.triage_groups(rows),
        thresholds=selectors.thresholds_words(),
        function=function,
        functions=selectors.function_names(),
        since=since_value,
        title="Timeouts",
        subtitle="Open callbacks past their deadline or SLA, and executions that timed out, grouped by what timed out, "
        "oldest first.",
        bulk_form=extra.pop("bulk_form", None) or BulkFailForm(),
        fail_form=FailCallbackForm(),
        now=timezone.now(),
        **extra,
    )


@require_GET
@viewer_required
def timeouts(request):
    return render(request, "executions/triage.html", _timeouts_context(request))


# --- audit log ----------------------------------------------------------------------


@require_GET
@viewer_required
def actions_log(request):
    form = ActionFilterForm(request.GET or None)
    filters = form.filters() if request.GET else selectors.ActionFilters()
    try:
        page = selectors.actions_list(
            filters=filters, after=request.GET.get("after", ""), before=request.GET.get("before", "")
        )
    except InvalidCursor:
        return bad_query(request, BadQuery("The page link's cursor was not issued by the action log."))
    return render(request, "executions/actions.html", page_context(request, form=form, page=page))


# --- admin actions -------------------------------------------------------------------


def _bulk_fail_confirm(request, form: BulkFailForm):
    """The confirmation step of a bulk callback failure: every selected callback with its execution and order, what
    happens, the reason, and the explicit confirmation."""
    operations = list(
        Operation.objects.filter(pk__in=form.cleaned_data["targets"], op_type="callback")
        .select_related("execution")
        .defer("callback_id")
        .order_by("started_at", "id")
    )
    return render(
        request,
        "executions/confirm_bulk.html",
        page_context(
            request,
            targets=confirm_targets(operations=operations),
            reason=form.cleaned_data["reason"],
            nonce=form.cleaned_data.get("nonce") or "",
            query=request.GET.urlencode(),
        ),
    )


def _callback_operation(execution: Execution, operation_id: str) -> Operation:
    operation = execution.operations.filter(operation_id=operation_id).first()
    if operation is None or operation.op_type != "callback":
        raise Http404("No such callback in this execution.")
    return operation


@require_POST
@admin_required
def callback_fail(request, execution_id: int, operation_id: str):
    execution = get_object_or_404(Execution, pk=execution_id)
    require_actions_enabled(execution)
    operation = _callback_operation(execution, operation_id)
    form = FailCallbackForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return back(request, execution)
    result = actions.callback_fail(
        user=request.user,
        execution=execution,
        operation=operation,
        reason=form.cleaned_data["reason"],
        nonce=form.cleaned_data.get("nonce") or "",
        early_confirmed=(form.cleaned_data.get("confirm_early") or "").strip().lower() == "yes",
    )
    report(request, result)
    return back(request, execution)


@require_POST
@admin_required
def callback_heartbeat(request, execution_id: int, operation_id: str):
    execution = get_object_or_404(Execution, pk=execution_id)
    require_actions_enabled(execution)
    operation = _callback_operation(execution, operation_id)
    form = FailCallbackForm(request.POST, reason_required=False)
    if not form.is_valid():
        form_errors(request, form)
        return back(request, execution)
    result = actions.callback_heartbeat(
        user=request.user,
        execution=execution,
        operation=operation,
        reason=form.cleaned_data.get("reason") or "",
        nonce=form.cleaned_data.get("nonce") or "",
    )
    report(request, result)
    return back(request, execution)


@require_POST
@admin_required
def execution_stop(request, execution_id: int):
    execution = get_object_or_404(Execution, pk=execution_id)
    require_actions_enabled(execution)
    form = StopForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return back(request, execution)
    result = actions.execution_stop(
        user=request.user,
        execution=execution,
        reason=form.cleaned_data["reason"],
        error_type=form.cleaned_data["error_type"],
        nonce=form.cleaned_data.get("nonce") or "",
    )
    report(request, result)
    return back(request, execution)


@require_POST
@admin_required
def callbacks_bulk_fail(request):
    """Fail several overdue callbacks together; the page shows one outcome per callback."""
    require_actions_enabled()
    confirmed = (request.POST.get("confirm") or "").strip().lower() == "yes"
    # The first post (reason and selection) is checked, then answered with the confirmation step; the second one
    # (confirm=yes) acts.
    data = request.POST.copy()
    data["confirm"] = "yes"
    form = BulkFailForm(request.POST if confirmed else data)
    if not form.is_valid():
        return render(request, "executions/triage.html", _timeouts_context(request, bulk_form=form), status=400)
    if not confirmed:
        return _bulk_fail_confirm(request, form)
    operations = (
        # imported (offline) copies included: the action refuses them, so the page reports them refused
        Operation.objects.filter(pk__in=form.cleaned_data["targets"], op_type="callback")
        .select_related("execution")
        .order_by("started_at", "id")
    )
    results = []
    nonce = form.cleaned_data.get("nonce") or ""
    for operation in operations:
        result = actions.callback_fail(
            user=request.user,
            execution=operation.execution,
            operation=operation,
            reason=form.cleaned_data["reason"],
            nonce=f"{nonce}-{operation.pk}" if nonce else "",
        )
        results.append((operation, result))
    done = sum(1 for _, result in results if result.ok)
    level = messages.SUCCESS if done == len(results) else messages.WARNING
    messages.add_message(request, level, f"Failed {done} of {len(results)} selected callbacks; outcomes below.")
    return render(request, "executions/triage.html", _timeouts_context(request, results=results))
