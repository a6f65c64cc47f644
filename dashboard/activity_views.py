"""The activity trail fragment of an order and of an execution (dashboard.activity): the order page and the
execution page load it with htmx; opened directly (the link without JavaScript) it is a page of its own."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from core.roles import ALL_ROLES, OPERATORS, role_required, user_is_admin, user_roles
from dashboard.activity import activity_trail
from executions.models import Execution

MAX_ORDER_ID_CHARS = 128


def _render(request, trail, *, title: str):
    context = {"trail": trail, "title": title}
    if request.htmx:
        return render(request, "partials/activity.html", context)
    return render(request, "activity_page.html", context)


def _show_recipients(request) -> bool:
    return user_is_admin(request.user) or OPERATORS in user_roles(request.user)


@require_GET
@role_required(*ALL_ROLES)
def activity_order(request, order_id: str):
    if len(order_id) > MAX_ORDER_ID_CHARS:
        raise Http404("No order with this id.")
    raw = request.GET.get("execution", "")
    execution_pk = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    trail = activity_trail(
        user=request.user,
        show_recipients=_show_recipients(request),
        order_id=order_id,
        execution_pk=execution_pk,
    )
    return _render(request, trail, title=f"Activity of order {order_id}")


@require_GET
@role_required(*ALL_ROLES)
def activity_execution(request, execution_id: int):
    execution = get_object_or_404(Execution, pk=execution_id)
    trail = activity_trail(user=request.user, show_recipients=_show_recipients(request), execution=execution)
    return _render(request, trail, title=f"Activity of {execution.name or 'execution'}")
