from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Durable Console core"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from core.middleware import session_started

        user_logged_in.connect(session_started, dispatch_uid="core.session_started")
