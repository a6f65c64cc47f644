"""Create the orders table and the demo users (local mode only)."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from approvals.orders_schema import orders_table_create
from approvals.orders_table import OrdersTableUnavailable
from core.roles import ADMINS, APPROVERS, OPERATORS
from devstack.paths import var_dir

DEMO_USERS = {
    "approver": ([APPROVERS], "approver@example.com"),
    "operator": ([OPERATORS], "operator@example.com"),
    "admin": ([ADMINS], "admin@example.com"),
}


class Command(BaseCommand):
    help = "Create the DynamoDB orders table (idempotent) and the demo users approver, operator and admin."

    def handle(self, *args, **options):
        if not settings.LOCAL_MODE:
            raise CommandError("bootstrap_local only runs in local mode (DURABLE_CONSOLE_ENV=local).")
        try:
            created = orders_table_create()
        except OrdersTableUnavailable as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"table {settings.ORDERS_TABLE}: {'created' if created else 'already exists'}")

        password, source, fresh = self._password()
        User = get_user_model()
        for username, (groups, email) in DEMO_USERS.items():
            user, new = User.objects.get_or_create(username=username, defaults={"email": email})
            if new or fresh or settings.DEMO_PASSWORD:
                user.set_password(password)
                user.is_staff = username == "admin"
                user.save()
            user.groups.set(Group.objects.filter(name__in=groups))
            self.stdout.write(f"user {username} ({', '.join(groups)}): {'created' if new else 'kept'}")
        self.stdout.write(f"demo password ({source}): {password}")

    def _password(self) -> tuple[str, str, bool]:
        """(password, where it came from, whether it is new and must be applied to existing users)."""
        if settings.DEMO_PASSWORD:
            return settings.DEMO_PASSWORD, "from DEMO_PASSWORD", True
        stored = var_dir() / "demo-password"
        if stored.exists():
            return stored.read_text().strip(), f"generated earlier, kept in {stored}", False
        password = secrets.token_urlsafe(12)
        stored.write_text(password + "\n")
        stored.chmod(0o600)
        return password, f"generated, kept in {stored}", True
