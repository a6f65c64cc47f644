"""The All orders page, and `/approvals/<id>/` for short order ids (the first characters the inbox shows)."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from approvals import selectors, views
from approvals.orders_forms import OrdersFilterForm
from approvals.orders_table import OrdersTableUnavailable
from approvals.selectors_orders import SHORT_ID_MIN_CHARS, OrderFilters, orders_find, orders_with_id_prefix
from core.aws import aws_interactive
from core.pagination import InvalidCursor
from core.roles import ALL_ROLES, role_required

# What a short order id may look like: the start of a uuid (hex digits and dashes).
SHORT_ID = re.compile(r"^[0-9a-fA-F-]+$")
SHORT_ID_CHOICES = 20


@require_GET
@role_required(*ALL_ROLES)
@aws_interactive()
def order_resolve(request, order_id: str):
    """The order page for a full id; for the start of one, the order it names (or a choice when it names several)."""
    try:
        return views.order_detail(request, order_id)
    except Http404:
        if not (SHORT_ID_MIN_CHARS <= len(order_id) < 36 and SHORT_ID.match(order_id)):
            raise
    try:
        matches = orders_with_id_prefix(prefix=order_id, limit=SHORT_ID_CHOICES)
    except OrdersTableUnavailable as error:
        return views._unavailable(request, error)
    if len(matches.orders) == 1:
        return redirect("approvals:order", matches.orders[0].order_id)
    if not matches.orders:
        raise Http404(f"No order id starts with {order_id}.")
    context = {"prefix": order_id, "orders": matches.orders, "complete": matches.complete}
    return render(request, "approvals/order_choice.html", context)


def _filters(data: dict) -> OrderFilters:
    return OrderFilters(
        status=data.get("status") or "",
        customer=data.get("customer") or "",
        requester=data.get("requester") or "",
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        amount_min=data.get("amount_min"),
        amount_max=data.get("amount_max"),
    )


@require_GET
@role_required(*ALL_ROLES)
@aws_interactive()
def orders(request):
    form = OrdersFilterForm(request.GET)
    context = {"form": form, "found": None, "first_page": not request.GET.get("cursor")}
    if not form.is_valid():
        return render(request, "approvals/orders.html", context, status=400)
    try:
        found = orders_find(
            filters=_filters(form.cleaned_data),
            limit=settings.APPROVALS_PAGE_SIZE,
            cursor=form.cleaned_data["cursor"],
        )
    except InvalidCursor:
        return render(request, "approvals/bad_cursor.html", status=400)
    except OrdersTableUnavailable as error:
        return views._unavailable(request, error)
    query = request.GET.copy()
    query.pop("cursor", None)
    context.update(
        found=found,
        rows=[selectors.inbox_row(order, can_decide=False) for order in found.orders],
        query=query.urlencode(),
        first_url=f"{reverse('approvals:orders')}?{query.urlencode()}" if query else reverse("approvals:orders"),
        filtered=any(value for key, value in form.cleaned_data.items() if key != "cursor"),
    )
    return render(request, "approvals/orders.html", context)
