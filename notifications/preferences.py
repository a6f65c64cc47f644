"""Who wants what: each role's defaults, a user's own choices, and the signed one-click unsubscribe token.

Defaults per role (a user in several roles gets the union): approvers get new orders and reminders, operators the
attention digest, admins escalations (and, as approvers may, orders). A `Preference` row overrides the default of
one (kind, channel). The requester's outcome email goes to the order's `requestedBy` address whether or not it
belongs to a user; a user with that address who turned the kind off is honoured.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import Q

from approvals.four_eyes import user_identities
from core.roles import ADMINS, APPROVERS, OPERATORS, user_roles
from functions.order_approval.validation import identity_key
from notifications.models import Channel, Kind, Mode, Preference

# (kind -> mode) each role receives by email unless the user says otherwise.
ROLE_DEFAULTS: dict[str, dict[str, str]] = {
    APPROVERS: {
        Kind.ORDER_PENDING: Mode.IMMEDIATE,
        Kind.ORDER_DIGEST: Mode.IMMEDIATE,
        Kind.ORDER_REMINDER: Mode.IMMEDIATE,
    },
    OPERATORS: {Kind.EXECUTION_ATTENTION: Mode.DIGEST},
    ADMINS: {Kind.ORDER_ESCALATION: Mode.IMMEDIATE},
}
# Kinds anyone may receive about their own orders, on by default.
PERSONAL_DEFAULTS: dict[str, str] = {Kind.ORDER_OUTCOME: Mode.IMMEDIATE}
# The kinds a user can choose on /account/notifications/, in the order shown.
USER_KINDS = (
    Kind.ORDER_PENDING,
    Kind.ORDER_REMINDER,
    Kind.ORDER_ESCALATION,
    Kind.ORDER_OUTCOME,
    Kind.EXECUTION_ATTENTION,
)
UNSUBSCRIBE_SALT = "notifications.unsubscribe"


@dataclass(frozen=True)
class Choice:
    kind: str
    channel: str
    enabled: bool
    mode: str
    default: bool  # no row of the user's own: the role's default


def _defaults_for(roles: set[str]) -> dict[str, str]:
    defaults = dict(PERSONAL_DEFAULTS)
    for role in sorted(roles):
        for kind, mode in ROLE_DEFAULTS.get(role, {}).items():
            defaults.setdefault(kind, mode)
    return defaults


def choices_for(user, *, channel: str = Channel.EMAIL) -> dict[str, Choice]:
    """The effective choice of every kind for `user` on `channel` (digest kinds follow their base kind)."""
    defaults = _defaults_for(user_roles(user))
    own = {p.kind: p for p in Preference.objects.filter(user=user, channel=channel)}
    result = {}
    for kind in Kind.values:
        base = preference_kind(kind)
        row = own.get(base)
        if row is not None:
            result[kind] = Choice(kind, channel, row.enabled, row.mode, default=False)
        else:
            result[kind] = Choice(kind, channel, base in defaults, defaults.get(base, Mode.IMMEDIATE), default=True)
    return result


def preference_set(*, user, kind: str, channel: str = Channel.EMAIL, enabled: bool, mode: str = Mode.IMMEDIATE) -> None:
    Preference.objects.update_or_create(
        user=user, kind=kind, channel=channel, defaults={"enabled": enabled, "mode": mode}
    )


def preference_kind(kind: str) -> str:
    """The kind whose choice applies to `kind`: an order digest follows the choice for new pending orders."""
    return Kind.ORDER_PENDING if kind == Kind.ORDER_DIGEST else kind


@dataclass(frozen=True)
class Recipient:
    user_id: int | None
    email: str
    mode: str
    identities: frozenset[str] = frozenset()  # the user's folded names (four-eyes), as approvals.four_eyes folds them


def recipients_for(*, kind: str, roles: tuple[str, ...]) -> list[Recipient]:
    """Active users in any of `roles` with an email address who receive `kind` by email, with their mode."""
    members = Q(groups__name__in=roles) | (Q(is_superuser=True) if ADMINS in roles else Q(pk__in=[]))
    users = (
        get_user_model()
        .objects.filter(members, is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("pk")
        .prefetch_related("groups")
    )
    base = preference_kind(kind)
    preferences: dict[int, Preference] = {
        p.user_id: p for p in Preference.objects.filter(channel=Channel.EMAIL, kind=base)
    }
    found = []
    for user in users:
        row = preferences.get(user.pk)
        defaults = _defaults_for(user_roles(user))
        enabled, mode = (row.enabled, row.mode) if row is not None else (base in defaults, defaults.get(base))
        if enabled:
            identities = frozenset(identity_key(name) for name in user_identities(user)) - {""}
            found.append(Recipient(user.pk, user.email, mode, identities))
    return found


def unsubscribe_token(*, user_id: int, kind: str, channel: str = Channel.EMAIL) -> str:
    return signing.dumps({"u": user_id, "k": kind, "c": channel}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_read(token: str) -> tuple[int, str, str]:
    """(user id, kind, channel) of a token; signing.BadSignature when forged or edited."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    kind = preference_kind(data["k"])
    if kind not in Kind.values or data["c"] not in Channel.values:
        raise signing.BadSignature("unknown kind or channel")
    return int(data["u"]), kind, data["c"]
