"""The three roles (Django groups) and server-side checks for them."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

APPROVERS = "Approvers"
OPERATORS = "Operators"
ADMINS = "Admins"
ALL_ROLES = (APPROVERS, OPERATORS, ADMINS)


def user_roles(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_console_roles", None)
    if cached is None:
        if "groups" in getattr(user, "_prefetched_objects_cache", {}):  # prefetch_related("groups"): no query
            cached = {group.name for group in user.groups.all()} & set(ALL_ROLES)
        else:
            cached = set(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
        if user.is_superuser:
            cached.add(ADMINS)
        user._console_roles = cached
    return cached


def user_is_admin(user) -> bool:
    return ADMINS in user_roles(user)


def user_can_decide(user) -> bool:
    return bool(user_roles(user) & {APPROVERS, ADMINS})


def role_required(*roles: str):
    """Allow the view only to users in one of `roles` (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not (user_roles(request.user) & set(roles)):
                raise PermissionDenied(f"This action needs one of the roles: {', '.join(roles)}.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
