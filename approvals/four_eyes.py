"""Four-eyes: whoever requested an order may not decide it.

An order's `requestedBy` is free text written by the requesting system (a username or an e-mail address, in any
case), so a user is compared under every name they may appear as, case-insensitively. DynamoDB enforces the same
rule inside the conditional claim (`order_claim(not_by=...)`), with the exact spellings.
"""

from __future__ import annotations


def user_identities(user) -> list[str]:
    """The names an order's requestedBy may use for this user (four-eyes compares all of them)."""
    names = [user.get_username(), getattr(user, "email", "") or ""]
    return [name for name in dict.fromkeys(n.strip() for n in names) if name]


def user_identities_folded(user) -> frozenset[str]:
    """`user_identities`, case-folded, for comparing with `requested_by_any`."""
    return frozenset(name.lower() for name in user_identities(user))


def requested_by_any(requested_by: str, identities_folded: frozenset[str]) -> bool:
    """Whether `requested_by` names one of the (case-folded) identities; an empty requester names nobody."""
    requester = (requested_by or "").strip().lower()
    return bool(requester) and requester in identities_folded


def user_is_requester(requested_by: str, user) -> bool:
    """Whether `user` requested the order whose requestedBy is `requested_by`."""
    return requested_by_any(requested_by, user_identities_folded(user))
