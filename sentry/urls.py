"""URLs of the dashboard: ``path("sentry/", include("sentry.urls"))``."""

from django.urls import path

from .views import dashboard

app_name = "sentry"

urlpatterns = [
    path("", dashboard.index, name="index"),
    path("login/", dashboard.LoginView.as_view(), name="login"),
    path("logout/", dashboard.logout, name="logout"),
    path("group/<int:group_id>/", dashboard.group, name="group"),
    path("group/<int:group_id>/resolve/", dashboard.resolve, name="resolve"),
    path(
        "group/<int:group_id>/messages/<str:message_id>/",
        dashboard.message,
        name="message",
    ),
]
