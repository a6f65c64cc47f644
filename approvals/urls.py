from django.urls import path

from approvals import views

app_name = "approvals"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("badge", views.badge, name="badge"),
    path("decisions/", views.decisions, name="decisions"),
    path("<str:order_id>/", views.order_detail, name="order"),
    path("<str:order_id>/approve", views.order_approve, name="approve"),
    path("<str:order_id>/reject", views.order_reject, name="reject"),
]
