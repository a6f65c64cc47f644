"""Approvals pages: the inbox, one order, decisions (approve/reject), the nav badge, the audit list."""

from __future__ import annotations

import csv
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from approvals import orders_table, selectors, services
from approvals.forms import (
    BULK_MAX,
    DUE_WINDOWS,
    ApproveForm,
    BulkApproveForm,
    DecisionFilterForm,
    InboxFilterForm,
    RejectForm,
)
from approvals.four_eyes import user_identities_folded
from approvals.orders_table import OrderNotFound, OrdersTableUnavailable
from core.aws import aws_interactive
from core.pagination import InvalidCursor
from core.redirects import safe_next
from core.roles import ADMINS, ALL_ROLES, APPROVERS, role_required, user_can_decide

logger = logging.getLogger(__name__)

DECIDED_EVENT = "approvals:decided"
BULK_EVENT = "approvals:bulk"  # the inbox table reloads after a bulk approval (single decisions swap their row)
MAX_ORDER_ID_CHARS = 128  # the order function makes uuids; anything longer is not an order id


def _unavailable(request, error: OrdersTableUnavailable, *, partial: str | None = None):
    context = {"error": error, "table": error.table, "endpoint": error.endpoint}
    if partial and request.htmx:
        # Keep the polling wrapper alive so the table comes back on its own when DynamoDB does.
        return render(request, partial, {**context, "unavailable": True, **_inbox_refresh_context(request)})
    return render(request, "approvals/unavailable.html", context, status=503)


def _inbox_refresh_context(request) -> dict:
    return {"refresh_seconds": settings.APPROVALS_REFRESH_SECONDS, "refresh_url": request.get_full_path()}


def _inbox_return_path(request) -> str:
    query = request.GET.copy()
    return f"{request.path}?{query.urlencode()}" if query else request.path


# --- inbox -------------------------------------------------------------------------------------


def _can_decide(request) -> bool:
    """The user's role may decide, and the console is not frozen (READ_ONLY)."""
    return user_can_decide(request.user) and not settings.READ_ONLY


_NO_FILTERS = {"q": "", "sort": "", "amount_min": None, "amount_max": None, "due": ""}


def _filter_query(filters: dict) -> str:
    """The inbox's filters as a query string (without the cursor), for the pager's links."""
    query = QueryDict(mutable=True)
    for name in _NO_FILTERS:
        if filters.get(name) not in (None, ""):
            query[name] = str(filters[name])
    return query.urlencode()


@require_GET
@role_required(*ALL_ROLES)
@aws_interactive()
def inbox(request):
    form = InboxFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else _NO_FILTERS | {"cursor": request.GET.get("cursor", "")}
    try:
        page = selectors.inbox_page(
            cursor=filters["cursor"],
            query=filters["q"],
            sort=filters["sort"],
            amount_min=filters["amount_min"],
            amount_max=filters["amount_max"],
            due_within=DUE_WINDOWS.get(filters["due"]),
            identities=user_identities_folded(request.user),
            can_decide=_can_decide(request),
        )
    except InvalidCursor:
        return render(request, "approvals/bad_cursor.html", status=400)
    except OrdersTableUnavailable as error:
        return _unavailable(request, error, partial="approvals/inbox.html#table")
    context = {
        "page": page,
        "form": form,
        "filters": filters,
        "can_decide": _can_decide(request),
        "read_only": settings.READ_ONLY,
        "first_page": not filters["cursor"],
        "filter_query": _filter_query(filters),
        "bulk_max": BULK_MAX,
        "page_size": settings.APPROVALS_PAGE_SIZE,
        # without JavaScript, a decision redirects back to this very page (filters and cursor kept)
        "next_path": _inbox_return_path(request),
        "reject_form": None,  # a fresh page shows no form errors (the htmx answer to an invalid reject does)
        "reject_open": False,
        **_inbox_refresh_context(request),
    }
    if request.htmx and request.htmx.target == "inbox-table":
        return render(request, "approvals/inbox.html#table", context)
    return render(request, "approvals/inbox.html", context)


@login_not_required
@never_cache
@require_GET
@aws_interactive()
def badge(request):
    count = selectors.orders_pending_count() if request.user.is_authenticated else None
    return render(
        request,
        "approvals/badge.html",
        {"count": count, "authenticated": request.user.is_authenticated, "oob": False},
    )


# --- one order --------------------------------------------------------------------------------


def _order_or_404(order_id: str):
    if len(order_id) > MAX_ORDER_ID_CHARS:
        raise Http404("No order with this id.")
    try:
        return orders_table.order_get(order_id=order_id)
    except OrderNotFound:
        raise Http404(f"No order with id {order_id}.")


def _detail_context(request, order, **extra) -> dict:
    own_claim = order.claimed_by == request.user.get_username()
    return {
        "order": order,
        "attribute_pairs": order.attribute_pairs_for(
            claim_comment=own_claim or selectors.decisions_visible_to_all(request.user)
        ),
        "resolve_after": settings.APPROVALS_CLAIM_STALE_SECONDS,
        "read_only": settings.READ_ONLY,
        "row": selectors.inbox_row(
            order, identities=user_identities_folded(request.user), can_decide=_can_decide(request)
        ),
        "execution_pk": selectors.order_execution_pk(execution_arn=order.execution_arn),
        "attempts": selectors.decisions_list(user=request.user).filter(order_id=order.order_id)[:50],
        "can_decide": _can_decide(request),
        "approve_form": extra.pop("approve_form", None) or ApproveForm(),
        "reject_form": extra.pop("reject_form", None) or RejectForm(),
        **extra,
    }


@require_GET
@role_required(*ALL_ROLES)
@aws_interactive()
def order_detail(request, order_id: str):
    try:
        order = _order_or_404(order_id)
    except OrdersTableUnavailable as error:
        return _unavailable(request, error)
    return render(request, "approvals/order_detail.html", _detail_context(request, order))


# --- decisions -------------------------------------------------------------------------------------


def _decide(request, order_id: str, *, approve: bool):
    if len(order_id) > MAX_ORDER_ID_CHARS:  # refused before any read, claim or audit row
        raise BadRequest(f"An order id has at most {MAX_ORDER_ID_CHARS} characters.")
    form = (ApproveForm if approve else RejectForm)(request.POST)
    try:
        if not form.is_valid():
            order = _order_or_404(order_id)
            if request.htmx:
                row = selectors.inbox_row(order, identities=user_identities_folded(request.user))
                return render(
                    request,
                    "approvals/inbox.html#inbox-row",
                    {
                        "row": row,
                        "reject_form": form,
                        "reject_open": not approve,
                        "next_path": safe_next(request, reverse("approvals:inbox")),
                    },
                )
            key = "approve_form" if approve else "reject_form"
            context = _detail_context(request, order, **{key: form, "reject_open": not approve})
            return render(request, "approvals/order_detail.html", context, status=400)
        comment = form.cleaned_data.get("comment" if approve else "reason", "")
        try:
            result = services.order_decide(
                order_id=order_id,
                user=request.user,
                approve=approve,
                comment=comment,
                request_id=getattr(request, "id", ""),
            )
        except OrderNotFound:
            raise Http404(f"No order with id {order_id}.")
        except services.FourEyesViolation as error:
            raise PermissionDenied(f"Four-eyes rule: {error}")
        except services.ReadOnlyMode as error:
            if request.htmx:
                return render(request, "approvals/inbox.html#readonly-row", {"order_id": order_id}, status=403)
            messages.error(request, str(error))
            return redirect(safe_next(request, reverse("approvals:inbox")))
    except OrdersTableUnavailable as error:
        if request.htmx:
            return render(request, "approvals/inbox.html#unavailable-row", {"error": error, "order_id": order_id})
        return _unavailable(request, error)
    if request.htmx:
        response = render(
            request,
            "approvals/inbox.html#outcome-row",
            {"result": result, "approve": approve, "count": selectors.orders_pending_count()},
        )
        return trigger_client_event(response, DECIDED_EVENT)
    messages.add_message(request, getattr(messages, result.level.upper()), result.message)
    if approve and request.POST.get("then") == "next" and result.delivered:
        return _redirect_to_next(request, result.order)
    return redirect(safe_next(request, reverse("approvals:inbox")))


def _redirect_to_next(request, decided):
    """After "Approve & next": the next order this approver can decide, in inbox order, or the inbox when none."""
    try:
        following = selectors.inbox_next_order(after=decided, identities=user_identities_folded(request.user))
    except OrdersTableUnavailable:
        following = None
    if following is None:
        messages.info(request, "No other order is waiting for your decision.")
        return redirect("approvals:inbox")
    return redirect("approvals:order", following.order_id)


@require_POST
@role_required(APPROVERS, ADMINS)
@aws_interactive()
def order_approve(request, order_id: str):
    return _decide(request, order_id, approve=True)


@require_POST
@role_required(APPROVERS, ADMINS)
@aws_interactive()
def order_reject(request, order_id: str):
    return _decide(request, order_id, approve=False)


@require_POST
@role_required(APPROVERS, ADMINS)
@aws_interactive()
def orders_bulk_approve(request):
    """Approve the selected inbox rows with one comment; each row is decided by itself, exactly once."""
    form = BulkApproveForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(error for field_errors in form.errors.values() for error in field_errors)
        if request.htmx:
            return render(request, "approvals/inbox.html#bulk-outcomes", {"error": errors}, status=400)
        messages.error(request, errors)
        return redirect(safe_next(request, reverse("approvals:inbox")))
    try:
        outcomes = services.orders_approve_bulk(
            order_ids=form.cleaned_data["order"],
            user=request.user,
            comment=form.cleaned_data["comment"].strip(),
            request_id=getattr(request, "id", ""),
        )
    except services.ReadOnlyMode as error:
        if request.htmx:
            return render(request, "approvals/inbox.html#bulk-outcomes", {"error": str(error)}, status=403)
        messages.error(request, str(error))
        return redirect(safe_next(request, reverse("approvals:inbox")))
    context = {
        "outcomes": outcomes,
        "approved": sum(outcome.delivered for outcome in outcomes),
        "next_path": safe_next(request, reverse("approvals:inbox")),
    }
    if request.htmx:
        response = render(request, "approvals/inbox.html#bulk-outcomes", context)
        return trigger_client_event(trigger_client_event(response, DECIDED_EVENT), BULK_EVENT)
    return render(request, "approvals/bulk_outcomes.html", context)


@require_GET
@role_required(*ALL_ROLES)
@aws_interactive()
def order_lines(request, order_id: str):
    """An order's lines, for the inbox row that expands (the whole order page without htmx)."""
    if not request.htmx:
        return redirect("approvals:order", order_id)
    try:
        order = _order_or_404(order_id)
    except OrdersTableUnavailable as error:
        return render(request, "approvals/inbox.html#lines", {"error": error})
    return render(request, "approvals/inbox.html#lines", {"order": order})


# --- the decisions audit ------------------------------------------------------------------------------


class _Echo:
    def write(self, value):
        return value


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets execute cells that start with these characters.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_COLUMNS = [
    ("created_at", "time"),
    ("username", "user"),
    ("decision", "decision"),
    ("outcome", "outcome"),
    ("order_id", "order_id"),
    ("customer_name", "customer"),
    ("amount", "amount"),
    ("requested_by", "requested_by"),
    ("order_created_at", "order_created_at"),
    ("comment", "comment_or_reason"),
    ("error", "error"),
    ("execution_arn", "execution_arn"),
    ("request_id", "request_id"),
]


def _decisions_csv(decisions) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow([header for _, header in CSV_COLUMNS])
        for decision in decisions.iterator(chunk_size=500):
            yield writer.writerow([_csv_cell(getattr(decision, name)) for name, _ in CSV_COLUMNS])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="decisions.csv"'
    return response


@require_GET
@role_required(*ALL_ROLES)
def decisions(request):
    form = DecisionFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    sees_all = selectors.decisions_visible_to_all(request.user)
    queryset = selectors.decisions_list(
        user=request.user,
        username=filters.get("user", ""),
        outcome=filters.get("outcome", ""),
        decision=filters.get("decision", ""),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    if request.GET.get("format") == "csv":
        return _decisions_csv(queryset)
    page = Paginator(queryset, settings.APPROVALS_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context = {
        "form": form,
        "page": page,
        "sees_all": sees_all,
        "usernames": selectors.decision_usernames() if sees_all else [],
        "query": query.urlencode(),
    }
    return render(request, "approvals/decisions.html", context)
