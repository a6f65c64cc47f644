"""Four-eyes identities: a user is compared under every name they may appear as, folded (NFKC + casefold)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from approvals.four_eyes import requested_by_any, user_identities, user_identities_folded, user_is_requester


def _user(username: str, email: str | None = "") -> SimpleNamespace:
    return SimpleNamespace(get_username=lambda: username, email=email)


def test_identities_are_username_and_email_trimmed_without_duplicates_or_blanks():
    assert user_identities(_user("carol", "carol@example.com")) == ["carol", "carol@example.com"]
    assert user_identities(_user(" carol ", " carol ")) == ["carol"]
    assert user_identities(_user("carol", "")) == ["carol"]
    assert user_identities(_user("carol", None)) == ["carol"]
    assert user_identities(SimpleNamespace(get_username=lambda: "svc")) == ["svc"]  # no email attribute at all


def test_folded_identities_are_lower_case():
    assert user_identities_folded(_user("Carol", "Carol@Example.COM")) == frozenset({"carol", "carol@example.com"})


@pytest.mark.parametrize(
    ("requested_by", "expected"),
    [
        ("carol@example.com", True),
        ("CAROL@EXAMPLE.COM", True),  # any case
        ("  carol  ", True),  # surrounding spaces
        ("carol", True),  # by username
        ("carol2@example.com", False),
        ("arol", False),  # no substring matches
        ("", False),  # an order without a requester was requested by nobody
        ("   ", False),
    ],
)
def test_requester_check(requested_by, expected):
    user = _user("carol", "Carol@example.com")
    assert user_is_requester(requested_by, user) is expected
    assert requested_by_any(requested_by, user_identities_folded(user)) is expected


def test_a_user_without_names_requested_nothing():
    assert not requested_by_any("", frozenset())
    assert not user_is_requester("carol", _user("", ""))


def test_requested_by_none_is_nobody():
    assert not requested_by_any(None, frozenset({"carol"}))


@pytest.mark.parametrize(
    "requested_by",
    ["\uff23\uff21\uff32\uff2f\uff2c@example.com", "Carol@Example.COM", "CAROL@EXAMPLE.COM ", "\uff43arol"],
)
def test_identities_compare_under_nfkc_and_casefold(requested_by):
    """Fullwidth letters (NFKC) and any case (casefold) name the same person."""
    assert user_is_requester(requested_by, _user("carol", "carol@example.com"))


def test_casefold_is_more_than_lower():
    from functions.order_approval.validation import identity_key

    assert identity_key("STRASSE") == identity_key("straße") == "strasse"
    assert identity_key("\u212a") == "k"  # KELVIN SIGN
    assert user_is_requester("Stra\u00dfe", _user("strasse"))
    assert identity_key(None) == identity_key(42) == ""
