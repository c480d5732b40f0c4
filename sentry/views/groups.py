"""An error's pages: details (trend, latest occurrence), occurrences, one occurrence."""

from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from .. import group_tags, navigation, pagination, projects, trends
from ..display import Event, pretty_json
from ..models import GroupedMessage, Message
from ..params import can_be_stored
from ..plugins.dashboard import group_actions, group_panels, group_widgets
from ..projects import visible_occurrences
from ..search import MAX_QUERY_LENGTH, SearchError, apply_to_occurrences, parse
from ..tags import MAX_KEY_LENGTH as MAX_TAG_KEY_LENGTH
from ..tags import TAG_PREFIX
from ..workflow.mute import DURATIONS
from .access import can_change, dashboard_view

PAGE_SIZE = 50
RELEASE_KEY = TAG_PREFIX + "release"
MUTE_DURATIONS = [(name, label) for name, (label, _) in DURATIONS.items()]
MESSAGE_ID_LENGTH = 32
#: Columns an occurrence list needs; ``data`` and ``traceback`` can be large.
LIST_FIELDS = (
    "id",
    "group_id",
    "message_id",
    "message",
    "class_name",
    "level",
    "datetime",
    "url",
    "server_name",
    "site",
    "release",
    "environment",
    "user",
)


@dashboard_view
def group(request, group_id):
    """Show an error: its trend over a chosen range and its latest occurrence."""
    group = get_group(request, group_id)
    range_name = request.GET.get("range")
    if range_name not in trends.RANGES:
        range_name = trends.DEFAULT_RANGE

    message = group.message_set.order_by("-datetime", "-pk").first()
    trend = trends.group_trend(group.pk, range_name)
    tags = group_tags.top_values(group)

    return render(
        request,
        "sentry/group/details.html",
        {
            **group_context(request, group, "details"),
            "message": message,
            "event": Event(message) if message else None,
            "trend": trend,
            "sidebar_tags": tags,
            # "Seen in releases": the release counters the sidebar read.
            "group_releases": next((t for t in tags if t.key == RELEASE_KEY), None),
            "range_name": range_name,
            "ranges": [(name, label) for name, (label, _) in trends.RANGES.items()],
        },
    )


@dashboard_view
def group_messages(request, group_id):
    """List an error's occurrences, newest first, a page at a time; ``q`` narrows."""
    group = get_group(request, group_id)
    query = (request.GET.get("q") or "").strip()[: MAX_QUERY_LENGTH + 1]

    occurrences = group.message_set.only(*LIST_FIELDS)
    search_error = None
    try:
        occurrences = apply_to_occurrences(occurrences, parse(query), group.pk)
    except SearchError as exc:
        # Shown above an empty list; never the whole list unfiltered.
        search_error = exc
        occurrences = occurrences.none()
    page = pagination.paginate(
        occurrences, "datetime", "datetime", request.GET, PAGE_SIZE
    )

    return render(
        request,
        "sentry/group/messages.html",
        {
            **group_context(request, group, "messages"),
            "page": page,
            "query": query,
            "search_error": search_error,
            "query_state": urlencode({"q": query}) if query else "",
        },
    )


@dashboard_view
def group_tags_tab(request, group_id):
    """
    List an error's tags: every key with its top values, or one key's values.

    ``?key=<key>`` (a counter key: ``tag:environment``, ``server_name``)
    shows all of that key's values, most frequent first, a page at a time.
    """
    group = get_group(request, group_id)
    key = request.GET.get("key")
    if key is not None and not can_be_stored(key, MAX_TAG_KEY_LENGTH):
        raise Http404("No such tag.")

    if key is None:
        tags, page = group_tags.top_values(group, group_tags.OVERVIEW_VALUES), None
    else:
        tags, page = None, group_tags.key_values(group, key, request.GET)

    return render(
        request,
        "sentry/group/tags.html",
        {
            **group_context(request, group, "tags"),
            "tags": tags,
            "key": key,
            "key_name": group_tags.shown_name(key) if key else None,
            "page": page,
        },
    )


@dashboard_view
def message(request, group_id, message_id):
    """Show one occurrence with its place among the group's: "N of M" and links."""
    group = get_group(request, group_id)
    message = get_object_or_404(
        Message, group=group, message_id=checked_message_id(message_id)
    )
    query = (request.GET.get("q") or "").strip()[: MAX_QUERY_LENGTH + 1]

    nav = navigation.navigate(message, query)

    return render(
        request,
        "sentry/group/message.html",
        {
            **group_context(request, group, "messages"),
            "message": message,
            "event": Event(message),
            "nav": nav,
        },
    )


@dashboard_view(json=True)
def message_json(request, group_id, message_id):
    """Return an occurrence's stored data as pretty JSON."""
    message = get_object_or_404(
        visible_occurrences(Message.objects.only("data"), request.user),
        group_id=group_id,
        message_id=checked_message_id(message_id),
    )
    return HttpResponse(
        pretty_json(message.data), content_type="application/json; charset=utf-8"
    )


def checked_message_id(message_id):
    """Return ``message_id``; a 404 when no stored one can equal it (a NUL)."""
    if not can_be_stored(message_id, MESSAGE_ID_LENGTH):
        raise Http404("No such occurrence.")
    return message_id


def get_group(request, group_id):
    """Return the group a page is about, if the user may see it; else a 404."""
    # The project comes along: the page shows the short id, plugins read it.
    groups = GroupedMessage.objects.select_related("project").defer("data")
    return get_object_or_404(projects.visible_groups(groups, request.user), pk=group_id)


def group_context(request, group, tab):
    """Return what every tab of a group page shows around its content."""
    return {
        "group": group,
        "tab": tab,
        "can_change": can_change(request.user),
        "mute_durations": MUTE_DURATIONS,
        "plugin_widgets": group_widgets(request, group),
        "plugin_actions": group_actions(request, group),
        "plugin_panels": group_panels(request, group),
    }
