"""Admin views for an execution's lifecycle: pause, resume, delete, and bulk pause / resume of a list selection.

Thin like every view of `executions.views` (sharing `executions.view_helpers`): parse the form, call one action of
`executions.lifecycle`, report. Admins only, read-only mode respected, reason and confirm=yes required.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from executions import lifecycle
from executions.confirm_views import bulk_executions_confirm
from executions.forms import ActionForm, BulkExecutionsForm, PauseForm
from executions.models import Execution
from executions.view_helpers import admin_required, back, form_errors, page_context, report, require_actions_enabled


def _execution_action(request, execution_id: int, form_class, action, **fields):
    """Parse the admin form of one execution's action, run `action` (a `lifecycle` function), report, go back.

    `fields` names extra cleaned form fields passed on to the action (keyword → form field)."""
    execution = get_object_or_404(Execution, pk=execution_id)
    require_actions_enabled(execution)
    form = form_class(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return back(request, execution)
    result = action(
        user=request.user,
        execution=execution,
        reason=form.cleaned_data["reason"],
        nonce=form.cleaned_data.get("nonce") or "",
        **{keyword: form.cleaned_data[name] for keyword, name in fields.items()},
    )
    report(request, result)
    return back(request, execution)


@require_POST
@admin_required
def execution_pause(request, execution_id: int):
    return _execution_action(request, execution_id, PauseForm, lifecycle.execution_pause, keep_timeout="keep_timeout")


@require_POST
@admin_required
def execution_resume(request, execution_id: int):
    return _execution_action(request, execution_id, ActionForm, lifecycle.execution_resume)


@require_POST
@admin_required
def execution_delete(request, execution_id: int):
    return _execution_action(request, execution_id, ActionForm, lifecycle.execution_delete)


def _bulk(request, action: str):
    require_actions_enabled()
    confirmed = (request.POST.get("confirm") or "").strip().lower() == "yes"
    data = request.POST.copy()
    data["confirm"] = "yes"  # the first post (selection, reason) is checked, then answered with the confirmation step
    form = BulkExecutionsForm(request.POST if confirmed else data)
    context = page_context(request, bulk_action=action, results=[], title=f"Bulk {action}")
    if not form.is_valid():
        context["form_errors"] = [error for errors in form.errors.values() for error in errors]
        return render(request, "executions/bulk_result.html", context, status=400)
    if not confirmed:
        return bulk_executions_confirm(request, form=form, action=action)
    nonce = form.cleaned_data.get("nonce") or ""
    results = []
    # imported (offline) copies included: the action refuses them, so the page reports them refused
    for execution in Execution.objects.filter(pk__in=form.cleaned_data["targets"]).order_by("-started_at", "-id"):
        kwargs = {
            "user": request.user,
            "execution": execution,
            "reason": form.cleaned_data["reason"],
            "nonce": f"{nonce}-{execution.pk}" if nonce else "",
        }
        if action == "pause":
            result = lifecycle.execution_pause(**kwargs, keep_timeout=form.cleaned_data["keep_timeout"])
        else:
            result = lifecycle.execution_resume(**kwargs)
        results.append((execution, result))
    done = sum(1 for _, result in results if result.ok)
    verb = "Paused" if action == "pause" else "Resumed"
    level = messages.SUCCESS if done == len(results) else messages.WARNING
    messages.add_message(request, level, f"{verb} {done} of {len(results)} selected executions; outcomes below.")
    context["results"] = results
    return render(request, "executions/bulk_result.html", context)


@require_POST
@admin_required
def executions_bulk_pause(request):
    """Pause the executions selected in a filtered list (a maintenance window): one outcome per execution."""
    return _bulk(request, "pause")


@require_POST
@admin_required
def executions_bulk_resume(request):
    return _bulk(request, "resume")
