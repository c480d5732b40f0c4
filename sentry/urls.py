"""URLs of the dashboard: ``path("sentry/", include("sentry.urls"))``."""

from django.urls import include, path

from . import feeds
from .ingest import remote as remote_ingest
from .ingest import views as ingest
from .views import dashboard, plugins

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
    path(
        "group/<int:group_id>/plugin/<slug:slug>/", plugins.panel, name="plugin-panel"
    ),
    path("plugins/<slug:slug>/", plugins.dispatch, name="plugin"),
    path("plugins/<slug:slug>/<path:rest>", plugins.dispatch, name="plugin"),
    path("api/v1/", include("sentry.api.urls")),
    path("feeds/messages/", feeds.MessageFeed(), name="feed-messages"),
    path("feeds/groups/", feeds.GroupFeed(), name="feed-groups"),
    # Ingest (sentry.ingest): with and without the trailing slash, as SDKs
    # and hand-written senders differ.
    path("store/", remote_ingest.store, name="remote-store"),
    path("store", remote_ingest.store),
    path("api/<int:project_id>/store/", ingest.store, name="api-store"),
    path("api/<int:project_id>/store", ingest.store),
    path("api/<int:project_id>/envelope/", ingest.envelope, name="api-envelope"),
    path("api/<int:project_id>/envelope", ingest.envelope),
]
