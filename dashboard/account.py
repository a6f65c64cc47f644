"""The /account/ choices: how instants are written. Stored per user (AccountPreference) and kept in the session,
where the `{% instant %}` tag (core.templatetags.console) reads it without a query."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from core.templatetags.console import TIME_DISPLAY_SESSION_KEY
from dashboard.models import AccountPreference, TimeDisplay


def account_time_display_get(*, user) -> str:
    preference = AccountPreference.objects.filter(user=user).only("time_display").first()
    return preference.time_display if preference else TimeDisplay.ABSOLUTE


def account_time_display_set(*, request, choice: str) -> bool:
    """Store the user's choice (and put it in the session); True when it changed."""
    choice = TimeDisplay(choice)
    preference, _ = AccountPreference.objects.get_or_create(user=request.user)
    changed = preference.time_display != choice
    if changed:
        preference.time_display = choice
        preference.save(update_fields=["time_display", "updated_at"])
    request.session[TIME_DISPLAY_SESSION_KEY] = str(choice)
    return changed


@receiver(user_logged_in, dispatch_uid="dashboard.account.time_display")
def time_display_into_session(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[TIME_DISPLAY_SESSION_KEY] = account_time_display_get(user=user)
