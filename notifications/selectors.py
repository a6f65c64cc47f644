"""Reads of the notification pages: the admins' list (keyset-paged, filtered) and its status counts."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from core.pagination import Page, keyset_page
from notifications.models import Notification

CURSOR_SALT = "notifications.list"
PAGE_SIZE = 50


def notifications_list(
    *,
    kind: str = "",
    status: str = "",
    channel: str = "",
    recipient: str = "",
    digest: int | None = None,
    after: str = "",
    before: str = "",
    limit: int = PAGE_SIZE,
) -> Page:
    """Newest first; each row carries `item_count` (how many notifications a digest holds, 0 otherwise).

    A page cursor that is not ours raises core.pagination.InvalidCursor.
    """
    items = (
        Notification.objects.filter(digest=OuterRef("pk"))
        .order_by()
        .values("digest")
        .annotate(n=Count("pk"))
        .values("n")
    )
    query = Notification.objects.annotate(item_count=Coalesce(Subquery(items, output_field=IntegerField()), 0))
    if kind:
        query = query.filter(kind=kind)
    if status:
        query = query.filter(status=status)
    if channel:
        query = query.filter(channel=channel)
    if recipient:
        query = query.filter(recipient__icontains=recipient)
    if digest:
        query = query.filter(Q(digest_id=digest) | Q(pk=digest))
    return keyset_page(
        query,
        sort_field="created_at",
        descending=True,
        salt=CURSOR_SALT,
        after=after,
        before=before,
        limit=limit,
        strict=True,
    )


def notifications_status_counts() -> dict[str, int]:
    """How many notifications are in each status (all of them, whatever the filters)."""
    return dict(Notification.objects.order_by().values_list("status").annotate(n=Count("id")))
