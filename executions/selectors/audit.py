"""The admin-action audit log, newest first, keyset-paged (signed cursors, `core.pagination`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from core.pagination import Page, keyset_page
from executions.models import OperatorAction

CURSOR_SALT = "executions.actions"


@dataclass
class ActionFilters:
    action: str = ""
    outcome: str = ""
    username: str = ""
    execution: str = ""


def actions_list(*, filters: ActionFilters, after: str = "", before: str = "", limit: int | None = None) -> Page:
    query = OperatorAction.objects.select_related("execution")
    if filters.action:
        query = query.filter(action=filters.action)
    if filters.outcome:
        query = query.filter(outcome=filters.outcome)
    if filters.username:
        query = query.filter(username__icontains=filters.username)
    if filters.execution:
        term = filters.execution
        query = query.filter(
            Q(execution_arn__icontains=term)
            | Q(execution__name__icontains=term)
            | (Q(execution_id=int(term)) if term.isascii() and term.isdigit() and len(term) <= 9 else Q())
        )
    return keyset_page(
        query,
        sort_field="created_at",
        descending=True,
        salt=CURSOR_SALT,
        after=after,
        before=before,
        limit=limit or settings.ACTIONS_PAGE_SIZE,
        strict=True,
    )
