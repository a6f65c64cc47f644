"""`GET /search?q=`: one result opens it, several are listed by kind, none says what can be searched."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from approvals.selectors import inbox_row
from core.aws import aws_interactive
from core.roles import ADMINS, ALL_ROLES, OPERATORS, role_required, user_roles
from dashboard.search import MAX_QUERY_CHARS, SearchQueryInvalid, search_query_clean, search_run


def _executions_visible(user) -> bool:
    return bool(user_roles(user) & {OPERATORS, ADMINS})


@require_GET
@role_required(*ALL_ROLES)
@aws_interactive()
def search(request):
    executions_visible = _executions_visible(request.user)
    context = {"query": "", "results": None, "executions_visible": executions_visible, "max_chars": MAX_QUERY_CHARS}
    try:
        query = search_query_clean(request.GET.get("q"))
    except SearchQueryInvalid as error:
        return render(request, "search.html", {**context, "error": str(error)}, status=400)
    context["query"] = query
    if not query:
        return render(request, "search.html", context)
    results = search_run(query=query, executions_visible=executions_visible)
    target = results.single_target()
    if target and request.GET.get("list") != "1":
        kind, key = target
        return redirect("approvals:order", key) if kind == "order" else redirect("executions:detail", key)
    context.update(results=results, order_rows=[inbox_row(order, can_decide=False) for order in results.orders])
    return render(request, "search.html", context)
