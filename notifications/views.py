"""Notification pages: a user's own choices, the one-click unsubscribe (from an email), the admins' list."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.pagination import InvalidCursor
from core.roles import ADMINS, role_required
from notifications import selectors
from notifications.forms import NotificationFilterForm, PreferencesForm, kind_help
from notifications.models import Channel, Kind, Mode, Status
from notifications.preferences import choices_for, preference_set, unsubscribe_read

MAX_TOKEN_CHARS = 500  # our tokens are about 100 characters


def _webhooks() -> int:
    return len(settings.NOTIFY_WEBHOOK_URLS)


# --- a user's own choices -------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request):
    """Any signed-in user: email on/off and immediate/digest per kind (POST saves, then back here)."""
    if request.method == "POST":
        form = PreferencesForm(request.POST, user=request.user)
        if form.is_valid():
            changed = form.save()
            if changed:
                names = ", ".join(Kind(kind).label for kind in changed)
                messages.success(request, f"Notification settings saved ({names}).")
            else:
                messages.info(request, "Nothing changed: your notification settings are as they were.")
            return redirect("notifications:preferences")
        status = 400
    else:
        form = PreferencesForm(user=request.user)
        status = 200
    context = {
        "form": form,
        "rows": form.rows(),
        "webhooks": _webhooks(),
        "digest_minutes": settings.NOTIFY_DIGEST_MINUTES,
    }
    return render(request, "notifications/preferences.html", context, status=status)


# --- one-click unsubscribe (the link in every email) -------------------------------------------


def mask_email(address: str) -> str:
    """`a•••@example.com`: enough for its owner to recognise, not enough for anyone else to learn it."""
    local, _, domain = address.partition("@")
    if not domain:
        return "•••"
    return f"{local[:1]}•••@{domain}"


def _bad_link(request, message: str, *, status: int = 400, to_list: bool = False):
    context = {"message": message, "status": status, "to_list": to_list}
    return render(request, "notifications/bad_link.html", context, status=status)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows what would be turned off; only the POST from that page turns it off. Signs nobody in."""
    try:
        if len(token) > MAX_TOKEN_CHARS:
            raise signing.BadSignature("too long")
        user_id, kind, channel = unsubscribe_read(token)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return _bad_link(
            request,
            "This unsubscribe link is not valid: it was changed, cut short or not issued by this console. "
            "Open the link from the email again, or sign in and change your notification settings.",
        )
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return _bad_link(
            request, "The account this unsubscribe link was made for no longer exists or is disabled.", status=404
        )
    choice = choices_for(user, channel=channel)[kind]
    if request.method == "POST":
        if choice.enabled:
            preference_set(user=user, kind=kind, channel=channel, enabled=False, mode=choice.mode)
            messages.success(request, f"Done: no more “{Kind(kind).label}” {Channel(channel).label.lower()}s.")
        return redirect("notifications:unsubscribe", token=token)
    context = {
        "kind_label": Kind(kind).label,
        "kind_help": kind_help().get(kind, ""),
        "channel_label": Channel(channel).label.lower(),
        "masked_email": mask_email(user.email),
        "enabled": choice.enabled,
        "token": token,
    }
    return render(request, "notifications/unsubscribe.html", context)


# --- every notification, for admins ----------------------------------------------------------


@require_GET
@role_required(ADMINS)
def notification_list(request):
    form = NotificationFilterForm(request.GET or None)
    filters = form.filters() if request.GET else {}
    try:
        page = selectors.notifications_list(
            **filters, after=request.GET.get("after", ""), before=request.GET.get("before", "")
        )
    except InvalidCursor:
        return _bad_link(request, "The page link's cursor was not issued by the notification list.", to_list=True)
    counts = selectors.notifications_status_counts()
    context = {
        "form": form,
        "page": page,
        "filters": filters,
        "status_counts": [(value, label, counts.get(value, 0)) for value, label in Status.choices],
        "statuses": Status,
        "modes": Mode,
        "webhooks": _webhooks(),
    }
    return render(request, "notifications/list.html", context)
