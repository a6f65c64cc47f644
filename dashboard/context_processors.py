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
        "console_read_only": settings.READ_ONLY,
        # Local mode with an endpoint variable set empty: this laptop talks to a real AWS account.
        "console_real_aws": [
            service
            for service, endpoint in (
                ("DynamoDB", settings.DYNAMODB_ENDPOINT_URL),
                ("Lambda", settings.LAMBDA_ENDPOINT_URL),
            )
            if settings.LOCAL_MODE and not endpoint
        ],
    }
