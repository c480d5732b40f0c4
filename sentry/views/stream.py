"""The stream: every error, one row each, and its live-update endpoint."""

from urllib.parse import urlencode

from django.db.models import Case, When
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from .. import projects, trends
from ..conf import settings
from ..models import GroupedMessage, Message
from ..plugins.dashboard import stream_row_tags
from ..projects import visible_occurrences
from ..releases import environments
from ..stream import PROJECT, SINCE, SORTS, StreamQuery, as_message_id, as_short_id
from ..templatetags.sentry_tags import isotime, reltime
from ..workflow.mute import state_text
from .access import can_change, dashboard_view
from .actions import MAX_MATCHING
from .groups import MUTE_DURATIONS
from .responses import json_response


@dashboard_view
def index(request):
    """Show one page of the stream; a pasted event ID opens that occurrence."""
    stream = StreamQuery(request)
    message_id = as_message_id(stream.query)
    if message_id:
        occurrence = find_occurrence(message_id, request.user)
        if occurrence is not None:
            return redirect(occurrence)
    short_id = as_short_id(stream.query)
    if short_id:
        group = find_group(request, *short_id)
        if group is not None:
            return redirect(group)

    environments.remember(request)
    page = stream.page()
    gather_rows(request, page.items, stream.scope)

    return render(
        request,
        "sentry/index.html",
        {
            "stream": stream,
            "page": page,
            "rows": page.items,
            "filters": [describe_filter(f) for f in stream.filters],
            "sorts": [(name, label) for name, (label, *_) in SORTS.items()],
            "since_choices": [(name, label) for name, (label, _) in SINCE.items()],
            "active": stream.active(),
            "state": stream.state().urlencode(),
            "full_path": request.get_full_path(),
            "missing_message_id": message_id,
            "switcher": switcher(stream),
            "environments": environments.selector(request, stream),
            "poll_interval": poll_interval(),
            "can_change": can_change(request.user),
            "mute_durations": MUTE_DURATIONS,
            "max_matching": f"{MAX_MATCHING:,}",
        },
    )


@dashboard_view(json=True)
def poll(request):
    """Return the stream's first page as JSON, for live updates."""
    stream = StreamQuery(request)
    page = stream.page(first=True)
    gather_rows(request, page.items, stream.scope)
    return json_response(
        {"rows": [row_json(group) for group in page.items], "more": page.has_next}
    )


@dashboard_view
def search(request):
    """Send a search to the stream (which opens an occurrence or a short id)."""
    query = request.GET.copy()
    return redirect(reverse("sentry:index") + "?" + query.urlencode())


def poll_interval():
    """Return ``SENTRY_POLL_INTERVAL`` in seconds; 0 (off) when it is not a number."""
    value = settings.POLL_INTERVAL
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return 0
    return value


def find_occurrence(message_id, user):
    """Return the occurrence with this ``message_id`` ``user`` may see, or None."""
    # One query; another project's occurrence is "not found" like a missing one.
    return (
        visible_occurrences(Message.objects.all(), user)
        .filter(message_id=message_id)
        .only("message_id", "group_id")
        .first()
    )


def find_group(request, slug, number):
    """Return the visible group ``SLUG-number`` names, or None. One query."""
    groups = GroupedMessage.objects.filter(
        project__slug__iexact=slug, short_id=number
    ).only("id")
    # Slugs that differ only in case: the exact one first.
    return (
        projects.visible_groups(groups, request.user)
        .order_by(Case(When(project__slug=slug, then=0), default=1), "project_id")
        .first()
    )


def switcher(stream):
    """
    Return what the header's project switcher shows on the stream.

    Switching keeps the rest of the stream's state (filters, sort, search)
    and starts on the first page: the hidden fields carry it.
    """
    state = stream.state()
    state.pop(PROJECT, None)
    return {
        "projects": stream.projects,
        "current": stream.project_slug,
        "keep": [(name, value) for name, values in state.lists() for value in values],
    }


def gather_rows(request, groups, scope=None):
    """
    Attach each row's URLs, project, sparkline and plugin tags (one query).

    The rows come with their project (``StreamQuery.page`` joins it). With a
    ``scope`` (:class:`sentry.stream.Scope`) the count, first and last seen
    shown are those of the events with its value, and the sparkline too
    where the key keeps hourly counts per value.
    """
    ids = [group.pk for group in groups]
    if scope is not None and scope.has_trend:
        series = trends.hourly_value_counts(
            ids, scope.stored, scope.value, trends.SPARKLINE_HOURS
        )
    else:
        series = trends.hourly_counts(ids, trends.SPARKLINE_HOURS)
    tags = stream_row_tags(request, groups) or {}
    if scope is not None:
        # After the plugins: they see the groups as stored. The rows are
        # shown, never saved.
        for group in groups:
            group.all_times_seen = group.times_seen
            group.times_seen = group.scoped_times_seen
            group.first_seen = group.scoped_first_seen
            group.last_seen = group.scoped_last_seen
    urls = RowUrls()
    stream_url = reverse("sentry:index")
    now = timezone.now()
    for group in groups:
        group.url, group.resolve_url, group.unresolve_url = urls.of(group.pk)
        project = group.project
        group.project_slug = project.slug
        group.project_name = project.name
        group.project_url = f"{stream_url}?{urlencode({PROJECT: project.slug})}"
        group.trend = series[group.pk]
        group.plugin_tags = tags.get(group.pk, [])
        # Worked out here rather than by filters: a page draws 50 rows.
        group.row_title = Truncator(group.title).chars(200)
        group.cause = group_cause(group)
        group.last_seen_iso = isotime(group.last_seen)
        group.last_seen_text = reltime(group.last_seen, now)
        group.muted_text = state_text(group) if group.is_muted else None


class RowUrls:
    """Reverse each row URL once per page; rows only put in their id."""

    # reverse() is the slowest part of drawing a row: 50 rows, 3 URLs each.
    PLACEHOLDER = "9081726354"

    def __init__(self):
        self.patterns = [
            reverse(name, args=[self.PLACEHOLDER])
            for name in ("sentry:group", "sentry:resolve", "sentry:unresolve")
        ]

    def of(self, pk):
        return [pattern.replace(self.PLACEHOLDER, str(pk)) for pattern in self.patterns]


def describe_filter(stream_filter):
    """Return what the page shows of a filter: a list, or a text box past the cap."""
    choices = stream_filter.get_choices_cached()
    value = stream_filter.get_value()
    # Past max_choices the filter becomes a text box that suggests the
    # values: the page stays the same size however many a client sent.
    limit = stream_filter.max_choices
    more = len(choices) > limit
    if more:
        choices = dict(list(choices.items())[:limit])
    return {
        "label": stream_filter.label,
        "column": stream_filter.column,
        "value": value,
        "choices": choices,
        "more": more,
        # A value from the URL that is not among the choices stays chosen.
        "other_value": value if value is not None and value not in choices else None,
        # Filters without a default offer "any value".
        "has_any": stream_filter.default is None,
    }


def group_cause(group):
    """Return the type of what caused a group's error (see storage.group_data)."""
    data = group.data
    cause = data.get("cause") if isinstance(data, dict) else None
    return cause if isinstance(cause, str) else None


def row_json(group):
    """Return what sentry.js needs to draw or update a stream row."""
    return {
        "id": group.pk,
        "title": group.row_title,
        "culprit": group.view,
        "cause": group.cause,
        "short_id": group.qualified_short_id,
        "level": group.level_name,
        "logger": group.logger,
        "project": group.project_slug,
        "project_name": group.project_name,
        "project_url": group.project_url,
        "status": group.status,
        "resolved": group.is_resolved,
        "muted": group.muted_text,
        "times_seen": group.times_seen,
        "users": group.users,
        "last_seen": group.last_seen_iso,
        "first_seen": isotime(group.first_seen),
        "trend": group.trend,
        "tags": [[str(label), str(value)] for label, value in group.plugin_tags],
        "url": group.url,
        "resolve_url": group.resolve_url,
        "unresolve_url": group.unresolve_url,
    }
