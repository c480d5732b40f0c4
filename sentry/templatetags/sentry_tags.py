"""
Template helpers of the dashboard: relative times, event links, SVG charts.

Everything here builds markup with ``format_html``/``format_html_join`` from
numbers and escaped text; no tag runs a query.
"""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ..display import safe_url
from ..workflow import comments

register = template.Library()


@register.filter
def reltime(value, now=None):
    """Return ``value`` (a datetime) as "3 minutes ago"; sentry.js says the same."""
    if not isinstance(value, dt.datetime):
        return ""
    now = now or timezone.now()
    if timezone.is_naive(value) != timezone.is_naive(now):
        return value.strftime("%Y-%m-%d")
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return "just now"
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            if unit == "day" and count >= 30:
                return value.strftime("%Y-%m-%d")
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"  # pragma: no cover


@register.filter
def isotime(value):
    """Return an aware datetime as an ISO 8601 UTC string for ``<time>``."""
    if not isinstance(value, dt.datetime):
        return ""
    if timezone.is_aware(value):
        value = value.astimezone(dt.UTC)
    return value.isoformat()


@register.simple_tag
def event_link(url, text=None):
    """Return ``url`` as a link when it is http(s), otherwise as plain text."""
    shown = text if text is not None else url
    if safe_url(url):
        return format_html(
            '<a href="{}" rel="nofollow noopener noreferrer" class="external">{}</a>',
            url,
            shown,
        )
    return format_html("<span>{}</span>", shown if shown is not None else "")


@register.simple_tag
def sparkline(counts, width=96, height=22):
    """Return a small bar chart (inline SVG) of hourly counts."""
    counts = [int(count) for count in counts or []]
    if not counts:
        return ""
    peak = max(counts) or 1
    step = width / len(counts)
    bar_width = _num(max(step - 1, 1))
    # Only numbers go into this markup, so it is built as a plain string:
    # this runs for every row of the stream (24 bars each).
    bars = "".join(
        f'<rect x="{_num(index * step)}" y="{height - bar}" '
        f'width="{bar_width}" height="{bar}"></rect>'
        for index, count in enumerate(counts)
        if count
        # Whole pixels; every non-zero hour keeps at least one.
        for bar in (max(round(count / peak * height), 1),)
    )
    label = f"{sum(counts)} in the last {len(counts)} hours"
    return mark_safe(
        f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{label}"><title>{label}</title>'
        f'<line x1="0" y1="{_num(height - 0.5)}" x2="{width}" '
        f'y2="{_num(height - 0.5)}" class="baseline"></line>{bars}</svg>'
    )


@register.simple_tag
def trend_chart(trend, width=720, height=160):
    """Return the group page's chart (inline SVG): events per hour."""
    counts = trend.counts
    if not counts:
        return ""
    top, bottom, left = 14, 18, 0
    plot = height - top - bottom
    peak = max(counts) or 1
    step = (width - left) / len(counts)
    gap = 1 if step >= 3 else 0
    # One path for all the bars: small, whatever the range.
    path = " ".join(
        f"M{_num(left + index * step)} {_num(top + plot)}"
        f"v-{_num(_bar(count, peak, plot))}h{_num(max(step - gap, 0.5))}"
        f"v{_num(_bar(count, peak, plot))}z"
        for index, count in enumerate(counts)
        if count
    )
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="{}">{}</text>',
        [
            (left, height - 4, "start", _label(trend.start)),
            (width, height - 4, "end", _label(trend.end)),
        ],
    )
    return format_html(
        '<svg class="trend" viewBox="0 0 {w} {h}" preserveAspectRatio="none" '
        'role="img" aria-label="{summary}"><title>{summary}</title>'
        '<line x1="0" y1="{top}" x2="{w}" y2="{top}" class="grid"></line>'
        '<line x1="0" y1="{base}" x2="{w}" y2="{base}" class="axis"></line>'
        '<text x="2" y="{peak_y}" class="peak">{peak} / hour</text>'
        '<path d="{path}"></path>{labels}</svg>',
        w=width,
        h=height,
        top=top,
        base=top + plot,
        peak_y=top - 3,
        peak=max(counts),
        path=path,
        labels=labels,
        summary=f"{trend.total} events in the last {trend.label}, "
        f"at most {max(counts)} in an hour",
    )


def _bar(count, peak, height):
    # Every non-zero hour stays visible, however small next to the peak.
    return max(count / peak * height, 1.5) if count else 0


def _num(value):
    if value == int(value):
        return str(int(value))
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _label(moment):
    return moment.strftime("%b %d %H:%M UTC")


@register.filter
def get_item(mapping, key):
    """Return ``mapping[key]`` (None when missing) for template lookups."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def comment_html(text):
    """Return a comment's text escaped, with its http(s) addresses linked."""
    return comments.render(text or "")
