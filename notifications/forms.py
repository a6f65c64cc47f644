"""Forms of the notification pages: a user's own choices per kind, and the admins' list filters."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.conf import settings

from core.roles import user_roles
from notifications.models import Channel, Kind, Mode, Status
from notifications.preferences import (
    PERSONAL_DEFAULTS,
    ROLE_DEFAULTS,
    USER_KINDS,
    Choice,
    _defaults_for,
    choices_for,
    preference_set,
)

MAX_RECIPIENT_FILTER_CHARS = 320


def _fractions(values) -> str:
    return " and ".join(f"{round(value * 100)} %" for value in values)


def kind_help() -> dict[str, str]:
    """One line per kind a user can choose: what it is about and when it is sent."""
    return {
        Kind.ORDER_PENDING: "A new order waits for approval (one digest instead when many arrive at once); "
        "never about your own orders.",
        Kind.ORDER_REMINDER: f"An order is still pending at {_fractions(settings.NOTIFY_REMINDER_AT)} "
        "of its approval window.",
        Kind.ORDER_ESCALATION: f"An order is still undecided at {_fractions([settings.NOTIFY_ESCALATE_AT])} "
        "of its window: the approvers have not acted.",
        Kind.ORDER_OUTCOME: "An order you requested was approved, rejected (with the reason), expired or failed.",
        Kind.EXECUTION_ATTENTION: "An execution newly needs attention (each reason once), failed or timed out.",
    }


def kinds_for(roles: set[str]) -> list[str]:
    """The kinds a user in `roles` can receive, in the page's order: their roles' kinds and the personal ones."""
    applies = set(PERSONAL_DEFAULTS)
    for role in roles:
        applies |= set(ROLE_DEFAULTS.get(role, {}))
    return [kind for kind in USER_KINDS if kind in applies]


def _default_sources(kind: str, roles: set[str]) -> list[str]:
    if kind in PERSONAL_DEFAULTS:
        return ["everyone, about their own orders"]
    return [role for role in sorted(roles) if kind in ROLE_DEFAULTS.get(role, {})]


@dataclass(frozen=True)
class PreferenceRow:
    """One kind on the page: its fields, what the role's default is, and whether the user has overridden it."""

    kind: str
    label: str
    help: str
    enabled_field: forms.BoundField
    mode_field: forms.BoundField
    current: Choice
    default_enabled: bool
    default_mode: str
    default_sources: list[str]

    @property
    def default_mode_label(self) -> str:
        return Mode(self.default_mode).label

    @property
    def same_as_default(self) -> bool:
        return (self.current.enabled, self.current.mode) == (self.default_enabled, self.default_mode)


class PreferencesForm(forms.Form):
    """Email on/off and immediate/digest for each kind that applies to the user (webhooks are system-wide)."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.roles = user_roles(user)
        self.kinds = kinds_for(self.roles)
        self.current = choices_for(user, channel=Channel.EMAIL)
        for kind in self.kinds:
            choice = self.current[kind]
            self.fields[f"{kind}-email"] = forms.BooleanField(required=False, initial=choice.enabled)
            self.fields[f"{kind}-mode"] = forms.ChoiceField(choices=Mode.choices, initial=choice.mode)

    def rows(self) -> list[PreferenceRow]:
        defaults = _defaults_for(self.roles)
        helps = kind_help()
        return [
            PreferenceRow(
                kind=kind,
                label=Kind(kind).label,
                help=helps[kind],
                enabled_field=self[f"{kind}-email"],
                mode_field=self[f"{kind}-mode"],
                current=self.current[kind],
                default_enabled=kind in defaults,
                default_mode=defaults.get(kind, Mode.IMMEDIATE),
                default_sources=_default_sources(kind, self.roles),
            )
            for kind in self.kinds
        ]

    def save(self) -> list[str]:
        """Store the kinds whose value changed (an untouched kind keeps following its role's default)."""
        changed = []
        for kind in self.kinds:
            enabled = self.cleaned_data[f"{kind}-email"]
            mode = self.cleaned_data[f"{kind}-mode"]
            current = self.current[kind]
            if (enabled, mode) != (current.enabled, current.mode):
                preference_set(user=self.user, kind=kind, channel=Channel.EMAIL, enabled=enabled, mode=mode)
                changed.append(kind)
        return changed


class NotificationFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Kind.choices])
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Status.choices])
    channel = forms.ChoiceField(required=False, choices=[("", "Any channel"), *Channel.choices])
    recipient = forms.CharField(required=False, max_length=MAX_RECIPIENT_FILTER_CHARS)
    digest = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)

    def filters(self) -> dict:
        """The valid filters (an invalid value is ignored, as the other list pages do)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "kind": data.get("kind") or "",
            "status": data.get("status") or "",
            "channel": data.get("channel") or "",
            "recipient": (data.get("recipient") or "").strip(),
            "digest": data.get("digest"),
        }
