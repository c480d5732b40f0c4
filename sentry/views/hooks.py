"""
Where plugins will plug into the dashboard.

``sentry.plugins`` is being built; until it lands these hooks supply nothing,
and the pages already call them (and render what they return) so that
plugins only have to fill them in. Each returns data, never mutates its
arguments, and must not run a query per group.
"""


def stream_row_tags(request, groups):
    """
    Return ``{group_id: [(label, value), ...]}``: plugin tags of stream rows.

    Called once per stream page (and live update) with the page's groups.
    """
    return {}


def group_widgets(request, group):
    """Return the sidebar widgets of a group page, as rendered HTML strings."""
    return []


def group_panels(request, group):
    """Return ``[(title, url), ...]``: the plugin tabs of a group page."""
    return []
