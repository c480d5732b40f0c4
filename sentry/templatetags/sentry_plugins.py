"""Template helpers of the plugin templates."""

from urllib.parse import urlsplit

from django import template
from django.utils.html import format_html

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


@register.filter
def share(count, total):
    """Return ``count`` as a whole percentage of ``total`` (0 to 100)."""
    try:
        count, total = int(count), int(total)
    except (TypeError, ValueError):
        return 0
    if total <= 0 or count <= 0:
        return 0
    # A counter may run ahead of the group's total for a moment: cap it.
    return min(100, max(1, round(100 * count / total)))


@register.simple_tag
def share_bar(percent, label="of the occurrences"):
    """
    Return a bar ``percent`` (0 to 100) wide, with the number beside it.

    An SVG whose width is an attribute, not a ``style``: the dashboard's
    Content-Security-Policy allows no inline style.
    """
    try:
        percent = min(100, max(0, int(percent)))
    except (TypeError, ValueError):
        percent = 0
    return format_html(
        '<span class="share-value" title="{}% {}">'
        '<svg class="share-bar" viewBox="0 0 100 6" preserveAspectRatio="none" '
        'aria-hidden="true"><rect class="track" width="100" height="6"/>'
        '<rect class="fill" width="{}" height="6"/></svg>'
        '<span class="share-text">{}%</span></span>',
        percent,
        label,
        percent,
        percent,
    )
