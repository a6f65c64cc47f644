from django.conf import settings

from core.roles import ADMINS, APPROVERS, OPERATORS, user_roles


def console(request):
    roles = user_roles(getattr(request, "user", None))
    return {
        "console_roles": roles,
        "is_admin": ADMINS in roles,
        "is_approver": bool(roles & {APPROVERS, ADMINS}),
        "is_operator": bool(roles & {OPERATORS, ADMINS}),
        "console_environment": settings.ENVIRONMENT,
    }
