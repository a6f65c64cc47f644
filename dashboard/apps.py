from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Durable Console"

    def ready(self):
        from dashboard import account, checks  # noqa: F401 - deployment checks; the sign-in receiver
