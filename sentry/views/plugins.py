"""A plugin's panel on a group page, and the URLs plugins add."""

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import URLResolver
from django.urls.resolvers import RegexPattern

from ..models import GroupedMessage
from ..plugins import get_plugin
from ..plugins.base import safely
from .access import login_required


def _active_plugin(slug):
    plugin = get_plugin(slug)
    if plugin is None:
        raise Http404("No such plugin.")
    return plugin


@login_required
def panel(request, group_id, slug):
    plugin = _active_plugin(slug)
    if not plugin.has_panel:
        raise Http404("This plugin has no panel.")
    group = get_object_or_404(GroupedMessage.objects.defer("data"), pk=group_id)
    html = safely(plugin, "render_panel", request, group)
    return render(
        request,
        "sentry/plugins/panel_page.html",
        {"group": group, "plugin": plugin, "panel": html, "tab": plugin.title},
    )


@login_required
def dispatch(request, slug, rest=""):
    """Serve ``plugins/<slug>/<rest>`` from the plugin's :meth:`get_urls`."""
    plugin = _active_plugin(slug)
    resolver = URLResolver(RegexPattern(r"^"), plugin.get_urls())
    match = resolver.resolve(rest)  # raises Resolver404, a 404
    return match.func(request, *match.args, **match.kwargs)
