"""Django admin: monitored functions are editable; the synced copy is read-only (the poller owns it)."""

from django.contrib import admin, messages

from executions.models import Execution, HistoryEvent, Invocation, MonitoredFunction, Operation
from executions.tasks import sync_execution_history, sync_functions


@admin.register(MonitoredFunction)
class MonitoredFunctionAdmin(admin.ModelAdmin):
    list_display = ("name", "qualifier", "enabled", "last_sync_succeeded_at", "last_sync_error_at", "last_sync_stats")
    list_filter = ("enabled",)
    search_fields = ("name",)
    readonly_fields = (
        "list_watermark",
        "last_sync_started_at",
        "last_sync_succeeded_at",
        "last_sync_error",
        "last_sync_error_at",
        "last_sync_stats",
        "created_at",
    )
    actions = ["sync_now"]

    @admin.action(description="Sync now (one cycle per selected function, in the background)")
    def sync_now(self, request, queryset):
        for function in queryset:
            name = f"{function.name}:{function.qualifier}" if function.qualifier else function.name
            sync_functions.delay(function_name=name)
        messages.info(request, f"Queued a sync of {queryset.count()} function(s).")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdmin):
    list_display = ("name", "function_name", "status", "started_at", "needs_attention", "poll_reason", "next_poll_at")
    list_filter = ("status", "needs_attention", "has_failures", "history_complete", "imported", "function_name")
    search_fields = ("arn", "name")
    date_hierarchy = "started_at"
    actions = ["sync_now"]

    @admin.action(description="Sync history now")
    def sync_now(self, request, queryset):
        for execution_id in queryset.filter(imported=False).values_list("pk", flat=True):
            sync_execution_history.delay(execution_id)
        messages.info(request, "Queued the history syncs.")


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdmin):
    list_display = ("execution", "op_type", "sub_type", "name", "status", "attempts", "started_at", "ended_at")
    list_filter = ("op_type", "status")
    search_fields = ("operation_id", "name", "execution__arn")
    exclude = ("callback_id",)  # a secret: it answers the callback


@admin.register(HistoryEvent)
class HistoryEventAdmin(ReadOnlyAdmin):
    list_display = ("execution", "event_id", "event_type", "sub_type", "name", "timestamp")
    list_filter = ("event_type",)
    search_fields = ("execution__arn", "operation_id")
    exclude = ("raw", "details")  # may hold callback ids and large payloads


@admin.register(Invocation)
class InvocationAdmin(ReadOnlyAdmin):
    list_display = ("execution", "event_id", "request_id", "started_at", "ended_at", "error_type")
    search_fields = ("execution__arn", "request_id")
