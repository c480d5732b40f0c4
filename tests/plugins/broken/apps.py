from django.apps import AppConfig
from django.http import HttpResponse
from django.urls import path

from sentry.plugins import Action, Plugin


class BrokenPlugin(Plugin):
    """Fails in every rendering hook; its URL works."""

    slug = "broken"
    title = "Broken"

    def get_widget_data(self, request, group):
        raise RuntimeError("widget exploded")

    def get_panel_data(self, request, group):
        raise RuntimeError("panel exploded")

    def get_tags(self, request, groups):
        raise RuntimeError("tags exploded")

    def get_actions(self, request, group):
        raise RuntimeError("actions exploded")

    def get_urls(self):
        return [path("hello/<int:n>/", lambda request, n: HttpResponse(f"hello {n}"))]


class ShowsTagsPlugin(Plugin):
    slug = "shows-tags"
    title = "Shows tags"

    def get_tags(self, request, groups):
        return {group.pk: [("seen", str(group.times_seen))] for group in groups}

    def get_actions(self, request, group):
        return [Action("File a ticket", f"/tickets/new/?group={group.pk}", "POST")]


class BrokenConfig(AppConfig):
    name = "tests.plugins.broken"
    label = "tests_broken_plugin"
    sentry_plugin = BrokenPlugin
