from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from dashboard import activity_views, search_views, views

handler500 = "dashboard.errors.server_error"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("account/", views.account, name="account"),
    path("search", search_views.search, name="search"),  # /search?q= (healthz and metrics have no slash either)
    path("search/", RedirectView.as_view(pattern_name="search", query_string=True, permanent=True)),
    path("activity/order/<str:order_id>/", activity_views.activity_order, name="activity_order"),
    path("activity/execution/<int:execution_id>/", activity_views.activity_execution, name="activity_execution"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("approvals/", include("approvals.urls")),
    path("", include("executions.urls")),
    path("", include("notifications.urls")),
]
