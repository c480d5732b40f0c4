from ..base import ValueCountPlugin


class SitesPlugin(ValueCountPlugin):
    """The sites a group was seen on, most seen first, with counts."""

    slug = "sites"
    title = "Sites"
    key = "site"
    link_values = False
