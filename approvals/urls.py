from django.urls import path

from approvals import orders_views, views

app_name = "approvals"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("badge", views.badge, name="badge"),
    path("decisions/", views.decisions, name="decisions"),
    path("bulk-approve", views.orders_bulk_approve, name="bulk_approve"),
    path("orders/", orders_views.orders, name="orders"),
    path("<str:order_id>/", orders_views.order_resolve, name="order"),
    path("<str:order_id>/approve", views.order_approve, name="approve"),
    path("<str:order_id>/reject", views.order_reject, name="reject"),
    path("<str:order_id>/lines", views.order_lines, name="lines"),
]
