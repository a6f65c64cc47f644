"""Crafted page links: a cursor we did not sign, or one carrying out-of-range keys, is refused."""

from __future__ import annotations

import pytest

from core.pagination import InvalidCursor, cursor_encode, keyset_cursor_read, keyset_page
from executions.models import Execution


def test_out_of_range_keys_in_a_signed_cursor_read_as_no_cursor():
    assert keyset_cursor_read(cursor_encode([5, 10**30], salt="s"), is_datetime=False, salt="s") is None
    assert keyset_cursor_read(cursor_encode([10**30, 3], salt="s"), is_datetime=False, salt="s") is None
    assert keyset_cursor_read(cursor_encode([5, 3], salt="s"), is_datetime=False, salt="s") == (5, 3)


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["eyJhIjoxfQ", "x" * 5000, cursor_encode([1, 2], salt="other")])
def test_strict_pages_refuse_a_cursor_that_is_not_theirs(token):
    query = Execution.objects.all()
    with pytest.raises(InvalidCursor):
        keyset_page(query, sort_field="started_at", descending=True, salt="mine", after=token, limit=5, strict=True)
    page = keyset_page(query, sort_field="started_at", descending=True, salt="mine", after=token, limit=5)
    assert page.rows == []
