from django.contrib import admin

from executions.models import MonitoredFunction


@admin.register(MonitoredFunction)
class MonitoredFunctionAdmin(admin.ModelAdmin):
    list_display = ("name", "qualifier", "enabled", "last_sync_succeeded_at", "last_sync_error_at")
    list_filter = ("enabled",)
    search_fields = ("name",)
    readonly_fields = (
        "list_watermark",
        "last_sync_started_at",
        "last_sync_succeeded_at",
        "last_sync_error",
        "last_sync_error_at",
        "created_at",
    )
