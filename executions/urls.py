from django.urls import path

from executions import views

urlpatterns = [
    path("executions/", views.execution_list, name="execution_list"),
    path("executions/attention/", views.attention, name="execution_attention"),
    path("executions/failures/", views.failures, name="execution_failures"),
    path("executions/timeouts/", views.timeouts, name="execution_timeouts"),
    path("executions/timeouts/fail", views.callbacks_bulk_fail, name="callbacks_bulk_fail"),
    path("executions/actions/", views.actions_log, name="execution_actions"),
    path("executions/<int:execution_id>/", views.execution_detail, name="execution_detail"),
    path("executions/<int:execution_id>/history.json", views.execution_history_download, name="execution_history"),
    path("executions/<int:execution_id>/stop", views.execution_stop, name="execution_stop"),
    path(
        "executions/<int:execution_id>/callbacks/<str:operation_id>/fail", views.callback_fail, name="callback_fail"
    ),
    path(
        "executions/<int:execution_id>/callbacks/<str:operation_id>/heartbeat",
        views.callback_heartbeat,
        name="callback_heartbeat",
    ),
]
