from ..base import ValueCountPlugin


class UrlsPlugin(ValueCountPlugin):
    """The URLs a group was seen on, most seen first, with counts."""

    slug = "urls"
    title = "URLs"
    key = "url"
    link_values = True
