"""The plugin base classes: subclasses supply data, the base renders."""

import logging
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.template.loader import render_to_string

logger = logging.getLogger("sentry.errors")


@dataclass(frozen=True)
class Action:
    """A link or a button a plugin adds to a group page's sidebar."""

    label: str
    url: str
    #: "GET" renders a link, "POST" a button in a form with the CSRF token.
    method: str = "GET"


class Plugin:
    """
    Base class of dashboard plugins.

    Set :attr:`slug` and :attr:`title` and override the hooks you need. A
    hook returns data (``None`` or an empty value: nothing to show) and never
    changes what it is given; this class turns the data into HTML. A hook
    that raises is logged to ``sentry.errors`` and its output left out: a
    broken plugin never takes a page down.

    The groups the hooks get are those the user may see, each with its
    project loaded: ``group.project`` and ``group.qualified_short_id`` cost
    no query.
    """

    #: Identifies the plugin in URLs; unique among the installed plugins.
    slug = ""
    #: The name shown on the widget and on the panel's tab.
    title = ""
    #: Templates the base renders the widget and the panel with.
    widget_template = "sentry/plugins/widget.html"
    panel_template = "sentry/plugins/panel.html"
    #: Call :meth:`post_process` only for a group's first event, for a
    #: regression and for the event that ends a mute, not for every event.
    post_process_only_changes = False
    #: How many times :meth:`post_process` is tried when it raises.
    post_process_attempts = 3
    #: Seconds before the first retry; each further retry waits twice as long.
    post_process_retry_delay = 1.0

    def __init__(self, app_config=None):
        self.app_config = app_config

    def __repr__(self):
        return f"<{type(self).__name__} {self.slug!r}>"

    # Hooks: override these.

    def get_widget_data(self, request, group):
        """
        Return the data of the group page's sidebar widget, or ``None``.

        Called once per group page view. The value reaches
        :attr:`widget_template` as ``data``.
        """
        return None

    def get_panel_data(self, request, group):
        """
        Return the data of the plugin's own tab on the group page.

        Called when that tab is opened. A plugin that does not override this
        has no tab. The value reaches :attr:`panel_template` as ``data``.
        """
        return None

    def get_actions(self, request, group):
        """Return a list of :class:`Action` for the group page's sidebar."""
        return []

    def get_tags(self, request, groups):
        """
        Return ``{group_id: [(label, value), ...]}`` for stream rows.

        Called once per stream page with all its groups: answer with one
        query for the page, never one per group.
        """
        return {}

    def get_urls(self):
        """Return extra URL patterns, served under ``plugins/<slug>/``."""
        return []

    def post_process(self, group, event, is_new, is_regression, **kwargs):
        """
        Act on an event once it is recorded: send an alert, open a ticket.

        Called after the transaction that recorded ``event`` (a
        :class:`~sentry.models.Message`) in ``group`` has committed, on a
        background thread of this plugin's own, in the order events were
        recorded: never in the request that sent the event, never while
        recording waits. ``is_new``: the event created the group;
        ``is_regression``: it reopened a resolved group; ``is_unmuted``
        (since 2.1, passed only when true): it ended the group's mute. The
        events of a muted group are not passed at all. Further keyword
        arguments may be added in later versions: accept ``**kwargs``.

        ``group.project`` is loaded. An event the flood guard counted but did
        not keep is an unsaved ``Message`` (its ``pk`` is ``None``). An event
        whose writing waited for the host's transaction (the in-process
        client inside ``transaction.atomic`` on SQLite) is not passed.

        The return value is ignored. Raising makes the call be tried again,
        up to :attr:`post_process_attempts` times in all, waiting
        :attr:`post_process_retry_delay` seconds, then twice as long...; the
        last failure is logged to ``sentry.errors``.
        """

    def wants_post_process(self):
        """
        Return whether :meth:`post_process` is to be called at all just now.

        Asked once per recorded batch, before anything is read for the hook:
        answer without a query (say ``False`` while the plugin is not set
        up), so that an idle plugin costs recording nothing.
        """
        return True

    @property
    def has_post_process(self):
        return type(self).post_process is not Plugin.post_process

    # Rendering: the base class's job.

    @property
    def has_panel(self):
        return type(self).get_panel_data is not Plugin.get_panel_data

    def render_widget(self, request, group):
        """Return the widget's HTML, or ``None`` when there is nothing to show."""
        data = self.get_widget_data(request, group)
        if not data:
            return None
        context = {"plugin": self, "group": group, "data": data, "request": request}
        return render_to_string(self.widget_template, context, request=request)

    def render_panel(self, request, group):
        """Return the panel's HTML."""
        data = self.get_panel_data(request, group)
        context = {"plugin": self, "group": group, "data": data, "request": request}
        return render_to_string(self.panel_template, context, request=request)


class ValueCountPlugin(Plugin):
    """
    The values a group was seen with, and how often: servers, sites, URLs...

    Reads the per-group value counters (``MessageFilterValue``) that every
    write keeps exact, so a widget or a panel costs the same whatever the
    number of occurrences.
    """

    #: The counter key (``"server_name"``, ``"site"``, ``"url"``, ``"tag:<name>"``).
    key = ""
    #: How many values the widget shows.
    widget_limit = 10
    #: How many values a panel page shows.
    panel_page_size = 50
    #: Show values as links (only http and https URLs become links).
    link_values = False
    widget_template = "sentry/plugins/values_widget.html"
    panel_template = "sentry/plugins/values_panel.html"

    def values(self, group):
        from ..models import MessageFilterValue

        return MessageFilterValue.objects.filter(group=group, key=self.key).order_by(
            "-times_seen", "value"
        )

    def get_widget_data(self, request, group):
        rows = list(self.values(group)[: self.widget_limit + 1])
        if not rows:
            return None
        return {
            "values": rows[: self.widget_limit],
            "more": len(rows) > self.widget_limit,
            # What the shares are of: every occurrence of the group.
            "total": group.times_seen,
        }

    def get_panel_data(self, request, group):
        paginator = Paginator(self.values(group), self.panel_page_size)
        return {
            "page": paginator.get_page(request.GET.get("p")),
            "total": group.times_seen,
        }


def safely(plugin, hook, *args, default=None):
    """Call ``plugin.<hook>(*args)``; log and return ``default`` if it raises."""
    try:
        return getattr(plugin, hook)(*args)
    except Exception:
        logger.exception("Plugin %r failed in %s(); left out", plugin, hook)
        return default
