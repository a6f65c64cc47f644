"""The confirmation step of every admin action on one execution: a page (GET, admins only) naming the target (the
execution, and for an order-approval execution its order, customer and amount) and the effect in words, holding
the action's form. It works without JavaScript and at phone width; the form posts to the action's own URL, which
checks the role, the CSRF token and confirm=yes again.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from executions import selectors
from executions.forms import ActionForm, FailCallbackForm, StopForm
from executions.models import Execution, Operation
from executions.statuses import ExecutionStatus
from executions.view_helpers import admin_required, page_context, require_actions_enabled

# action -> (URL name, needs a callback, the statuses it applies to (None: any))
CONFIRMABLE = {
    "fail_callback": ("executions:callback_fail", True, (ExecutionStatus.RUNNING,)),
    "heartbeat": ("executions:callback_heartbeat", True, (ExecutionStatus.RUNNING,)),
    "stop": ("executions:stop", False, None),
    "pause": ("executions:pause", False, (ExecutionStatus.RUNNING,)),
    "resume": ("executions:resume", False, (ExecutionStatus.PAUSED, ExecutionStatus.PAUSING)),
    "delete": ("executions:delete", False, None),
}


def _next(request) -> str:
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


@require_GET
@admin_required
def action_confirm(request, execution_id: int, action: str):
    if action not in CONFIRMABLE:
        raise Http404("No such admin action.")
    execution = get_object_or_404(Execution, pk=execution_id)
    require_actions_enabled(execution)
    url_name, on_callback, statuses = CONFIRMABLE[action]
    operation = None
    if on_callback:
        operation = (
            execution.operations.filter(operation_id=(request.GET.get("op") or "")[:256], op_type="callback")
            .defer("callback_id")
            .first()
        )
        if operation is None:
            raise Http404("No such callback in this execution.")
        operation.overdue = selectors.callback_is_overdue(operation)
        action_url = reverse(url_name, args=[execution.pk, operation.operation_id])
    else:
        action_url = reverse(url_name, args=[execution.pk])
    applies = statuses is None or execution.status in statuses
    if action == "stop":
        applies = not execution.is_terminal
    if action == "delete":
        applies = execution.is_terminal
    if on_callback and operation.ended_at:
        applies = False
    order = selectors.execution_order_facts(execution=execution)
    form = {"stop": StopForm, "fail_callback": FailCallbackForm}.get(action, ActionForm)()
    return render(
        request,
        "executions/confirm.html",
        page_context(
            request,
            execution=execution,
            action=action,
            action_url=action_url,
            applies=applies,
            op=operation,
            order=order,
            form=form,
            next=_next(request),
            cancel_url=_next(request) or reverse("executions:detail", args=[execution.pk]),
            now=timezone.now(),
        ),
    )


def confirm_targets(*, operations: list[Operation]) -> list[dict]:
    """What a bulk confirmation lists per selected callback: the callback, its execution and its order."""
    unique = {op.execution_id: op.execution for op in operations}
    selectors.outcomes_annotate(list(unique.values()))
    orders = {pk: execution.order for pk, execution in unique.items()}
    return [{"op": op, "execution": op.execution, "order": orders.get(op.execution_id)} for op in operations]


def bulk_executions_confirm(request, *, form, action: str):
    """The confirmation step of a bulk pause or resume: every selected execution with its order, what happens, the
    reason, and the explicit confirmation (the second post, confirm=yes, acts)."""
    executions = list(Execution.objects.filter(pk__in=form.cleaned_data["targets"]).order_by("-started_at", "-id"))
    selectors.outcomes_annotate(executions)
    return render(
        request,
        "executions/confirm_bulk_executions.html",
        page_context(
            request,
            action=action,
            action_url=reverse("executions:bulk_pause" if action == "pause" else "executions:bulk_resume"),
            targets=executions,
            reason=form.cleaned_data["reason"],
            keep_timeout=form.cleaned_data.get("keep_timeout"),
            nonce=form.cleaned_data.get("nonce") or "",
        ),
    )
