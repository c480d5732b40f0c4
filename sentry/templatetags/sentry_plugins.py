"""Template helpers of the plugin templates."""

from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def http_url(value):
    """Return ``value`` if it is an http(s) URL (safe to link to), else ``""``."""
    text = str(value or "")
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return ""
    return text if scheme in ("http", "https") else ""
