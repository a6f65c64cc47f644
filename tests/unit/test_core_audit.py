"""core.audit: who acted, and error text scrubbed of callback ids and clipped."""

from types import SimpleNamespace
from urllib.parse import quote

from django.contrib.auth.models import AnonymousUser

from core.audit import ERROR_CHARS, SECRET_PLACEHOLDER, audit_actor, audit_error, secret_scrub

CALLBACK_ID = "Ab+cd/ef==:12"


def test_secret_scrub_removes_plain_and_url_encoded_forms():
    text = (
        f"Connect timeout on endpoint URL: https://lambda/callbacks/{quote(CALLBACK_ID, safe='')}/succeed "
        f"(id {CALLBACK_ID}, path {quote(CALLBACK_ID)})"
    )
    scrubbed = secret_scrub(text, CALLBACK_ID)
    assert CALLBACK_ID not in scrubbed
    assert quote(CALLBACK_ID, safe="") not in scrubbed
    assert quote(CALLBACK_ID) not in scrubbed
    assert scrubbed.count(SECRET_PLACEHOLDER) == 3
    assert scrubbed.startswith("Connect timeout on endpoint URL: https://lambda/callbacks/")


def test_secret_scrub_ignores_empty_secrets():
    assert secret_scrub("nothing to hide", "") == "nothing to hide"


def test_audit_error_scrubs_clips_and_accepts_any_object():
    assert audit_error(None) == ""
    assert audit_error(ValueError(f"bad {CALLBACK_ID}"), CALLBACK_ID) == f"bad {SECRET_PLACEHOLDER}"
    long = audit_error("x" * (ERROR_CHARS + 500))
    assert len(long) == ERROR_CHARS


def test_audit_error_scrubs_before_clipping():
    """A secret that straddles the clip point is still removed (clipping first would keep its start)."""
    text = "y" * (ERROR_CHARS - 3) + CALLBACK_ID
    assert audit_error(text, CALLBACK_ID) == "y" * (ERROR_CHARS - 3) + SECRET_PLACEHOLDER[:3]


def test_audit_actor():
    assert audit_actor(None) == {"user": None, "username": ""}
    user = SimpleNamespace(pk=7, get_username=lambda: "approver")
    assert audit_actor(user) == {"user": user, "username": "approver"}
    unsaved = SimpleNamespace(pk=None, get_username=lambda: "ghost")
    assert audit_actor(unsaved) == {"user": None, "username": "ghost"}
    assert audit_actor(AnonymousUser()) == {"user": None, "username": ""}
