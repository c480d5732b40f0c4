"""What the dashboard asks of the active plugins: each call is safe."""

from django.urls import reverse

from .base import safely
from .registry import get_plugins


def stream_row_tags(request, groups):
    """Return ``{group_id: [(label, value), ...]}`` from every plugin."""
    tags = {}
    for plugin in get_plugins():
        for group_id, pairs in (
            safely(plugin, "get_tags", request, groups, default={}) or {}
        ).items():
            tags.setdefault(group_id, []).extend(pairs)
    return tags


def group_widgets(request, group):
    """Return the rendered sidebar widgets of a group page."""
    widgets = []
    for plugin in get_plugins():
        html = safely(plugin, "render_widget", request, group)
        if html:
            widgets.append(html)
    return widgets


def group_actions(request, group):
    """Return ``[(plugin, action), ...]`` for a group page's sidebar."""
    actions = []
    for plugin in get_plugins():
        for action in safely(plugin, "get_actions", request, group, default=[]) or []:
            actions.append((plugin, action))
    return actions


def group_panels(request, group):
    """Return ``[(title, url), ...]``: the plugin tabs of a group page."""
    return [
        (plugin.title, reverse("sentry:plugin-panel", args=[group.pk, plugin.slug]))
        for plugin in get_plugins()
        if plugin.has_panel
    ]
