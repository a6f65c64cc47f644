from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    path("account/notifications/", views.preferences, name="preferences"),
    path("account/notifications/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("notifications/", views.notification_list, name="list"),
]
