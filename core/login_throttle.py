"""Login throttling with django-axes: what is locked, the lockout page, the client's address.

A username is locked after `AXES_FAILURE_LIMIT` failures within the cool-off. An address is locked too,
but only once failures from it name `AXES_ADDRESS_USERNAME_LIMIT` different usernames (someone trying
many accounts): a whole office behind one proxy shares an address, and one person's typos must not lock
it out. Axes calls `lockout_parameters` for every login attempt; `lockout_response` renders the page that
says when to try again.
"""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone


def _address(request_or_attempt) -> str | None:
    return getattr(request_or_attempt, "axes_ip_address", None) or getattr(request_or_attempt, "ip_address", None)


def lockout_parameters(request_or_attempt, credentials=None) -> list:
    """["username"], plus "ip_address" once the address has failed with many different usernames."""
    address = _address(request_or_attempt)
    if address:
        usernames = (
            AccessAttempt.objects.filter(ip_address=address, failures_since_start__gt=0)
            .values("username")
            .distinct()
            .count()
        )
        if usernames >= settings.AXES_ADDRESS_USERNAME_LIMIT:
            return ["username", "ip_address"]
    return ["username"]


def client_address(request) -> str | None:
    """REMOTE_ADDR, or the address `LOGIN_PROXY_COUNT` hops from the right of `LOGIN_CLIENT_IP_HEADER`
    (a header such as X-Forwarded-For that the load balancer sets; the left part is the client's own claim)."""
    header = settings.LOGIN_CLIENT_IP_HEADER
    if header:
        hops = [part.strip() for part in request.META.get(header, "").split(",") if part.strip()]
        if len(hops) >= settings.LOGIN_PROXY_COUNT > 0:
            return hops[-settings.LOGIN_PROXY_COUNT]
    return request.META.get("REMOTE_ADDR")


def lockout_retry_at(*, username: str, address: str | None):
    """When the lockout of this username (or address) ends: its latest failure plus the cool-off."""
    cool_off = settings.AXES_COOLOFF_TIME or timedelta(0)
    latest = AccessAttempt.objects.filter(username=username).aggregate(at=Max("attempt_time"))["at"]
    if latest is None and address:
        latest = AccessAttempt.objects.filter(ip_address=address).aggregate(at=Max("attempt_time"))["at"]
    return (latest or timezone.now()) + cool_off


def lockout_response(request, original_response=None, credentials=None):
    """The lockout page (429): who is locked, and the time to try again."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    retry_at = lockout_retry_at(username=username, address=_address(request))
    context = {
        "username": username,
        "retry_at": retry_at,
        "retry_minutes": max(1, round((retry_at - timezone.now()).total_seconds() / 60)),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "admin_login": request.path.startswith("/admin/"),
    }
    response = render(request, "registration/lockout.html", context, status=429)
    response["Retry-After"] = str(max(1, int((retry_at - timezone.now()).total_seconds())))
    return response
