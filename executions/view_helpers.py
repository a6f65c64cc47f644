"""What every execution view shares: role checks, the page context, redirects back, messages, query values.

Query values come from anyone's URL: `query_int` and `query_cursor` refuse what is not ours with a clear 400
(`BadQuery`, rendered by `bad_query`) instead of a 500 or a silent misreading.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html

from core.redirects import safe_next
from core.roles import ADMINS, ALL_ROLES, role_required, user_is_admin
from executions import actions, selectors
from executions.models import Execution

viewer_required = role_required(*ALL_ROLES)
admin_required = role_required(ADMINS)
MAX_QUERY_INT = 2**31 - 1  # EventIds and ids are 32-bit integers in every database we run on


class BadQuery(ValueError):
    """A query value no page of ours produces (a crafted URL)."""


def can_act(request, execution: Execution | None = None) -> bool:
    """Admin actions are offered to Admins, unless read-only or the execution is an imported (offline) copy."""
    if execution is not None and execution.imported:
        return False
    return user_is_admin(request.user) and actions.actions_enabled()


def page_context(request, **extra) -> dict:
    return {
        "freshness": selectors.freshness_get(),
        "can_act": can_act(request, extra.get("execution")),
        "read_only": settings.READ_ONLY,
        **extra,
    }


def query_int(request, name: str) -> int:
    """A non-negative integer GET value (0 when absent or empty); BadQuery for anything else."""
    text = (request.GET.get(name) or "").strip()
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_QUERY_INT:
        raise BadQuery(f"'{name}' must be a whole number from 0 to {MAX_QUERY_INT}.")
    return int(text)


def bad_query(request, error: BadQuery):
    return render(request, "executions/bad_query.html", {"error": str(error)}, status=400)


def require_actions_enabled(execution: Execution | None = None) -> None:
    if not actions.actions_enabled():
        raise PermissionDenied("The console is in read-only mode: admin actions are disabled.")
    if execution is not None and execution.imported:
        raise PermissionDenied("This execution is an imported copy of a history (offline): no action is accepted.")


def back(request, execution: Execution) -> HttpResponseRedirect:
    return HttpResponseRedirect(safe_next(request, reverse("executions:detail", args=[execution.pk])))


def audit_url(audit) -> str:
    """The action log's row of one audit record (filtered to its execution, so it is on the first page)."""
    query = f"?execution={audit.execution_id}" if audit.execution_id else ""
    return f"{reverse('executions:actions')}{query}#action-{audit.pk}"


def report(request, result: actions.ActionResult) -> None:
    getattr(messages, result.level)(
        request,
        format_html('{} <a href="{}">See the audit record →</a>', result.message, audit_url(result.audit)),
    )
    if result.resync_error:
        messages.warning(
            request,
            f"The page could not be refreshed from Lambda right away ({result.resync_error}); "
            "the poller will pick the change up shortly.",
        )


def form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = "" if field == "__all__" else f"{field}: "
        messages.error(request, label + " ".join(errors))
