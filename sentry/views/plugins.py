"""A plugin's panel on a group page, and the URLs plugins add."""

from django.http import Http404
from django.shortcuts import render
from django.urls import URLResolver
from django.urls.resolvers import RegexPattern

from ..plugins import get_plugin
from ..plugins.base import safely
from .access import dashboard_view
from .groups import get_group, group_context

#: Methods that only read: the ones SENTRY_PUBLIC may open on plugin URLs.
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _active_plugin(slug):
    plugin = get_plugin(slug)
    if plugin is None:
        raise Http404("No such plugin.")
    return plugin


@dashboard_view
def panel(request, group_id, slug):
    """Show a plugin's panel as a tab of the group page."""
    plugin = _active_plugin(slug)
    if not plugin.has_panel:
        raise Http404("This plugin has no panel.")
    group = get_group(request, group_id)

    html = safely(plugin, "render_panel", request, group)

    return render(
        request,
        "sentry/plugins/panel_page.html",
        {
            **group_context(request, group, plugin.title),
            "plugin": plugin,
            "panel": html,
        },
    )


def dispatch(request, slug, rest=""):
    """Serve ``plugins/<slug>/<rest>`` from the plugin's :meth:`get_urls`."""
    # A plugin URL may change state: SENTRY_PUBLIC only opens it for reads.
    view = _read_dispatch if request.method in SAFE_METHODS else _write_dispatch
    return view(request, slug, rest)


def _dispatch(request, slug, rest=""):
    plugin = _active_plugin(slug)
    resolver = URLResolver(RegexPattern(r"^"), plugin.get_urls())
    match = resolver.resolve(rest)  # raises Resolver404, a 404
    return match.func(request, *match.args, **match.kwargs)


_read_dispatch = dashboard_view(_dispatch)
_write_dispatch = dashboard_view(_dispatch, public=False)
