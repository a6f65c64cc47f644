from django.contrib import admin

from approvals.models import Decision


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    """Read-only: the decision log is append-only."""

    list_display = ("created_at", "username", "decision", "outcome", "order_id", "customer_name", "amount")
    list_filter = ("outcome", "decision", "created_at")
    search_fields = ("order_id", "username", "customer_name", "execution_arn")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
