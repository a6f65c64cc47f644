"""The one signed cursor codec, and the keyset paginator that uses it.

Page cursors in URLs are signed, so a forged or edited one is refused. `keyset_page` pages any queryset
on (a sort field, id), fast at any depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import F, Q, QuerySet
from django.utils.dateparse import parse_datetime

MAX_CURSOR_CHARS = 2000
MAX_KEY = 2**63 - 1  # primary keys and sort values fit a 64-bit integer column
MAX_KEY_VALUE = 2**63 - 1


class InvalidCursor(ValueError):
    """The page cursor in the URL was not issued by us (or is malformed)."""


def cursor_encode(value, *, salt: str) -> str:
    """`value` (JSON-able) as a signed, URL-safe token."""
    return signing.dumps(value, salt=salt, compress=True)


def cursor_decode(token: str, *, salt: str):
    """The value `cursor_encode` signed with the same salt; InvalidCursor for anything else."""
    if not isinstance(token, str) or len(token) > MAX_CURSOR_CHARS:
        raise InvalidCursor("cursor too long")
    try:
        return signing.loads(token, salt=salt)
    except signing.BadSignature as error:
        raise InvalidCursor("cursor signature mismatch") from error
    except ValueError as error:  # malformed base64 or JSON inside a valid-looking token
        raise InvalidCursor("cursor is malformed") from error


# --- keyset pagination on (field, id), with the signed cursors above ---------------------------------


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None


def keyset_order(field_name: str, descending: bool, reverse: bool = False) -> list:
    """Order by (field, id) with NULLs last in the natural order (first when reversed), on every database."""
    desc = descending != reverse
    nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
    expression = F(field_name).desc(**nulls) if desc else F(field_name).asc(**nulls)
    return [expression, "-id" if desc else "id"]


def keyset_cursor(value, pk: int, *, salt: str) -> str:
    """The signed cursor of the row with `value` in the sort field and primary key `pk`."""
    if isinstance(value, datetime):
        value = value.isoformat()
    return cursor_encode([value, pk], salt=salt)


def keyset_cursor_read(token: str, *, is_datetime: bool, salt: str):
    """(value, pk) from a cursor `keyset_cursor` signed with `salt`, or None when it is not one."""
    try:
        value, pk = cursor_decode(token, salt=salt)
        pk = int(pk)
    except (InvalidCursor, TypeError, ValueError):
        return None
    if not 0 < pk <= MAX_KEY or (isinstance(value, int) and abs(value) > MAX_KEY_VALUE):
        return None
    if value is not None and is_datetime:
        value = parse_datetime(str(value))
        if value is None:
            return None
    elif value is not None:
        try:
            value = int(value)
        except (TypeError, ValueError):
            return None
    return value, pk


def _segments(query: QuerySet, field_name: str, descending: bool, cursor, backwards: bool) -> list[QuerySet]:
    """The querysets that, read in turn, continue the order from `cursor`.

    The order is: rows with a value, by (field, id) — a plain index range scan — then rows
    without one, by id. Splitting the two keeps each query a simple range the index serves.
    """
    desc = descending != backwards
    order = [f"-{field_name}", "-id"] if desc else [field_name, "id"]
    id_order = "-id" if desc else "id"
    valued = query.filter(**{f"{field_name}__isnull": False})
    nulls = query.filter(**{f"{field_name}__isnull": True})
    if cursor is None:
        return [valued.order_by(*order), nulls.order_by(id_order)]
    value, pk = cursor
    op, op_eq, id_op = ("lt", "lte", "lt") if desc else ("gt", "gte", "gt")
    if value is None:
        nulls_after = nulls.filter(**{f"id__{id_op}": pk}).order_by(id_order)
        return [nulls_after, valued.order_by(*order)] if backwards else [nulls_after]
    after_value = valued.filter(
        Q(**{f"{field_name}__{op_eq}": value}) & (Q(**{f"{field_name}__{op}": value}) | Q(**{f"id__{id_op}": pk}))
    ).order_by(*order)
    return [after_value] if backwards else [after_value, nulls.order_by(id_order)]


def _take(segments: list[QuerySet], count: int) -> list:
    rows: list = []
    for segment in segments:
        if len(rows) >= count:
            break
        rows += list(segment[: count - len(rows)])
    return rows


def keyset_page(
    query: QuerySet,
    *,
    sort_field: str,
    descending: bool,
    salt: str,
    after: str = "",
    before: str = "",
    limit: int,
    strict: bool = False,
) -> Page:
    """One page of `query` by keyset pagination on (sort_field, id); fast at any depth.

    A cursor that is not ours (forged, edited, from another list) reads as no cursor: the first page; with
    `strict` it raises InvalidCursor instead (the page answers 400).
    """
    is_dt = sort_field.endswith("_at")
    cursor, backwards = None, False
    if after:
        cursor = keyset_cursor_read(after, is_datetime=is_dt, salt=salt)
    elif before:
        cursor = keyset_cursor_read(before, is_datetime=is_dt, salt=salt)
        backwards = cursor is not None
    if strict and (after or before) and cursor is None:
        raise InvalidCursor("the page cursor was not issued by this list")
    rows = _take(_segments(query, sort_field, descending, cursor, backwards), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else True
    has_prev = cursor is not None if not backwards else more
    next_cursor = keyset_cursor(getattr(rows[-1], sort_field), rows[-1].pk, salt=salt) if rows and has_next else None
    prev_cursor = keyset_cursor(getattr(rows[0], sort_field), rows[0].pk, salt=salt) if rows and has_prev else None
    return Page(rows=rows, next_cursor=next_cursor, prev_cursor=prev_cursor)
