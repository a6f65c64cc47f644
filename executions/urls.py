from django.urls import path

from executions import confirm_views, detail_views, ingest_views, lifecycle_views, views

app_name = "executions"
urlpatterns = [
    # Push, then poll: the push plugin's reports and EventBridge's status changes (bearer INGEST_TOKEN, no cookie).
    path("ingest/operations", ingest_views.ingest_operations, name="ingest_operations"),
    path("ingest/eventbridge", ingest_views.ingest_eventbridge, name="ingest_eventbridge"),
    path("executions/", views.execution_list, name="list"),
    path("executions/attention/", views.attention, name="attention"),
    path("executions/failures/", views.failures, name="failures"),
    path("executions/timeouts/", views.timeouts, name="timeouts"),
    path("executions/timeouts/fail", views.callbacks_bulk_fail, name="bulk_fail"),
    path("executions/actions/", views.actions_log, name="actions"),
    path("executions/<int:execution_id>/", detail_views.execution_detail, name="detail"),
    path("executions/<int:execution_id>/timeline/", detail_views.execution_timeline, name="timeline"),
    path("executions/<int:execution_id>/timeline/children", detail_views.timeline_children, name="timeline_children"),
    path(
        "executions/<int:execution_id>/operations/<str:operation_id>/", detail_views.operation_detail, name="operation"
    ),
    path("executions/<int:execution_id>/history.json", detail_views.execution_history_download, name="history"),
    path("executions/<int:execution_id>/confirm/<str:action>", confirm_views.action_confirm, name="confirm"),
    path("executions/<int:execution_id>/stop", views.execution_stop, name="stop"),
    path("executions/<int:execution_id>/pause", lifecycle_views.execution_pause, name="pause"),
    path("executions/<int:execution_id>/resume", lifecycle_views.execution_resume, name="resume"),
    path("executions/<int:execution_id>/delete", lifecycle_views.execution_delete, name="delete"),
    path("executions/pause", lifecycle_views.executions_bulk_pause, name="bulk_pause"),
    path("executions/resume", lifecycle_views.executions_bulk_resume, name="bulk_resume"),
    path("executions/<int:execution_id>/callbacks/<str:operation_id>/fail", views.callback_fail, name="callback_fail"),
    path(
        "executions/<int:execution_id>/callbacks/<str:operation_id>/heartbeat",
        views.callback_heartbeat,
        name="callback_heartbeat",
    ),
]
