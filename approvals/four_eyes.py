"""Four-eyes: whoever requested an order may not decide it.

An order's `requestedBy` is free text written by the requesting system (a username or an e-mail address, in any
case or Unicode form), so a user is compared under every name they may appear as, folded on both sides with
`identity_key` (NFKC + casefold; the order function stores the same key as `requestedByKey`, and DynamoDB's
claim condition compares it too).

Renaming does not escape the rule: the order keeps the identity recorded when it was created, and a user is
compared under their current names *and* every username or e-mail they had before (`FormerIdentity`, recorded
whenever a user's username or email changes). Forbidding the change was the alternative; recording keeps
administrators free to fix a typo in an account while the requester stays matched.
"""

from __future__ import annotations

from functions.order_approval.validation import identity_key


def user_identities(user) -> list[str]:
    """The names an order's requestedBy may use for this user now (username and e-mail, trimmed)."""
    names = [user.get_username(), getattr(user, "email", "") or ""]
    return [name for name in dict.fromkeys(n.strip() for n in names) if name]


def user_identity_keys(user) -> list[str]:
    """Every folded identity of `user`: current names and former ones (what the claim condition excludes)."""
    from approvals.models import FormerIdentity

    keys = [identity_key(name) for name in user_identities(user)]
    if getattr(user, "pk", None) is not None:
        keys += FormerIdentity.objects.filter(user_id=user.pk).values_list("key", flat=True)
    return [key for key in dict.fromkeys(keys) if key]


def user_identities_folded(user) -> frozenset[str]:
    """`user_identity_keys` as a set, for comparing with `requested_by_any`."""
    return frozenset(user_identity_keys(user))


def requested_by_any(requested_by: str, identities_folded: frozenset[str]) -> bool:
    """Whether `requested_by` names one of the folded identities; an empty requester names nobody."""
    requester = identity_key(requested_by or "")
    return bool(requester) and requester in identities_folded


def user_is_requester(requested_by: str, user) -> bool:
    """Whether `user` requested the order whose requestedBy is `requested_by`."""
    return requested_by_any(requested_by, user_identities_folded(user))


def former_identities_record(*, user, old_username: str, old_email: str) -> None:
    """Keep the folded names a user is leaving (called when a user's username or email changes)."""
    from approvals.models import FormerIdentity

    current = {identity_key(name) for name in user_identities(user)}
    for key in {identity_key(old_username), identity_key(old_email)} - current - {""}:
        FormerIdentity.objects.get_or_create(user_id=user.pk, key=key)
