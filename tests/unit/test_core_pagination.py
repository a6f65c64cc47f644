"""core.pagination: the one signed cursor codec."""

import pytest
from django.core import signing

from core.pagination import MAX_CURSOR_CHARS, InvalidCursor, cursor_decode, cursor_encode

SALT = "tests.unit.cursor"


@pytest.mark.parametrize(
    "value",
    [
        {"created_at": "2025-11-28T14:05:00+00:00", "id": 42},
        ["2025-11-28T14:05:00+00:00", "order-1"],
        "plain text",
        {"nested": {"unicode": "Zürich ✓", "n": [1, 2, 3]}},
    ],
)
def test_round_trip(value):
    token = cursor_encode(value, salt=SALT)
    assert isinstance(token, str)
    assert cursor_decode(token, salt=SALT) == value


def test_tokens_are_url_safe():
    token = cursor_encode({"id": "a/b?c=d&e"}, salt=SALT)
    assert all(c.isalnum() or c in "-_:." for c in token), token


def test_forged_cursor_is_refused():
    forged = signing.dumps({"id": 1}, key="not-our-secret-key", salt=SALT)
    with pytest.raises(InvalidCursor):
        cursor_decode(forged, salt=SALT)


def test_unsigned_text_is_refused():
    for text in ("", "eyJpZCI6IDF9", "garbage:garbage", "a:b:c"):
        with pytest.raises(InvalidCursor):
            cursor_decode(text, salt=SALT)


def test_tampered_cursor_is_refused():
    token = cursor_encode({"id": 1}, salt=SALT)
    payload, signature = token.rsplit(":", 1)
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    with pytest.raises(InvalidCursor):
        cursor_decode(f"{flipped}:{signature}", salt=SALT)
    with pytest.raises(InvalidCursor):
        cursor_decode(token + "x", salt=SALT)


def test_too_long_cursor_is_refused_before_it_is_read():
    with pytest.raises(InvalidCursor, match="too long"):
        cursor_decode("a" * (MAX_CURSOR_CHARS + 1), salt=SALT)


def test_wrong_salt_is_refused():
    token = cursor_encode({"id": 1}, salt=SALT)
    with pytest.raises(InvalidCursor):
        cursor_decode(token, salt="another.page")


def test_a_cursor_that_is_not_text_is_refused():
    with pytest.raises(InvalidCursor):
        cursor_decode(None, salt=SALT)


def test_invalid_cursor_is_a_value_error():
    assert issubclass(InvalidCursor, ValueError)
