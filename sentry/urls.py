"""URLs of the dashboard: ``path("sentry/", include("sentry.urls"))``."""

from django.urls import include, path

from . import feeds
from .ingest import remote as remote_ingest
from .ingest import views as ingest
from .params import register_id_converter
from .views import (
    actions,
    alert_setup,
    alerts,
    api_index,
    auth,
    groups,
    overview,
    plugins,
    project_settings,
    releases,
    setup,
    stream,
    workflow,
)

app_name = "sentry"

# Ids in paths are at most 18 digits: a longer one is a 404, not an overflow.
register_id_converter()

urlpatterns = [
    # Ingest (sentry.ingest): with and without the trailing slash, as SDKs
    # and hand-written senders differ. First: patterns are tried in order,
    # and every event resolves its URL (behind 40 dashboard patterns, that
    # was a tenth of the accept path's CPU time).
    path("api/<int:project_id>/envelope/", ingest.envelope, name="api-envelope"),
    path("api/<int:project_id>/envelope", ingest.envelope),
    path("api/<int:project_id>/store/", ingest.store, name="api-store"),
    path("api/<int:project_id>/store", ingest.store),
    path("api/<int:project_id>/security/", ingest.security_report, name="api-security"),
    path("api/<int:project_id>/security", ingest.security_report),
    path("store/", remote_ingest.store, name="remote-store"),
    path("store", remote_ingest.store),
    path("", stream.index, name="index"),
    path("poll/", stream.poll, name="poll"),
    path("search/", stream.search, name="search"),
    path("bulk/", actions.bulk, name="bulk"),
    path("projects/", overview.projects, name="projects"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.logout, name="logout"),
    path("group/<sentry_id:group_id>/", groups.group, name="group"),
    path(
        "group/<sentry_id:group_id>/messages/", groups.group_messages, name="messages"
    ),
    path("group/<sentry_id:group_id>/tags/", groups.group_tags_tab, name="group-tags"),
    path(
        "group/<sentry_id:group_id>/messages/<str:message_id>/",
        groups.message,
        name="message",
    ),
    path(
        "group/<sentry_id:group_id>/messages/<str:message_id>/json/",
        groups.message_json,
        name="message_json",
    ),
    path("group/<sentry_id:group_id>/resolve/", actions.resolve, name="resolve"),
    path("group/<sentry_id:group_id>/unresolve/", actions.unresolve, name="unresolve"),
    path("group/<sentry_id:group_id>/mute/", workflow.mute_group, name="mute"),
    path("group/<sentry_id:group_id>/unmute/", workflow.unmute_group, name="unmute"),
    path("group/<sentry_id:group_id>/history/", workflow.history, name="group-history"),
    path(
        "group/<sentry_id:group_id>/comments/", workflow.comment, name="group-comment"
    ),
    path(
        "group/<sentry_id:group_id>/plugin/<slug:slug>/",
        plugins.panel,
        name="plugin-panel",
    ),
    path("plugins/<slug:slug>/", plugins.dispatch, name="plugin"),
    path("plugins/<slug:slug>/<path:rest>", plugins.dispatch, name="plugin"),
    path("setup/", setup.projects, name="setup"),
    path("setup/<sentry_id:project_id>/", setup.project, name="setup-project"),
    path("setup/keys/", setup.create_key, name="setup-create"),
    path(
        "setup/keys/<sentry_id:key_id>/rename/", setup.rename_key, name="setup-rename"
    ),
    path(
        "setup/keys/<sentry_id:key_id>/disable/",
        setup.disable_key,
        name="setup-disable",
    ),
    path(
        "setup/keys/<sentry_id:key_id>/enable/", setup.enable_key, name="setup-enable"
    ),
    path(
        "setup/keys/<sentry_id:key_id>/rotate/", setup.rotate_key, name="setup-rotate"
    ),
    path("alerts/", alerts.alerts, name="alerts"),
    path("alerts/<str:name>/test/", alerts.test_channel, name="alerts-test"),
    path("alerts/channels/new/", alert_setup.channel_add, name="alerts-channel-add"),
    path(
        "alerts/channels/<sentry_id:channel_id>/",
        alert_setup.channel_edit,
        name="alerts-channel-edit",
    ),
    path("alerts/rules/new/", alert_setup.rule_add, name="alerts-rule-add"),
    path(
        "alerts/rules/<sentry_id:rule_id>/",
        alert_setup.rule_edit,
        name="alerts-rule-edit",
    ),
    # Rules first: a channel is not deleted while a rule sends to it.
    path(
        "alerts/rules/<sentry_id:rule_id>/delete/",
        alert_setup.rule_delete,
        name="alerts-rule-delete",
    ),
    path(
        "alerts/channels/<sentry_id:channel_id>/delete/",
        alert_setup.channel_delete,
        name="alerts-channel-delete",
    ),
    path("projects/new/", project_settings.new_project, name="project-new"),
    path(
        "projects/<slug:project_slug>/settings/",
        project_settings.project_settings,
        name="project-settings",
    ),
    path(
        "projects/<slug:project_slug>/releases/",
        releases.releases,
        name="releases",
    ),
    # A release's name may hold slashes (feature/x): the rest of the path.
    path(
        "projects/<slug:project_slug>/releases/<path:version>/",
        releases.release,
        name="release",
    ),
    path("api/v1/", api_index.index, name="api-index"),
    path("api/v1/", include("sentry.api.urls")),
    path("feeds/messages/", feeds.MessageFeed(), name="feed-messages"),
    path("feeds/groups/", feeds.GroupFeed(), name="feed-groups"),
]
