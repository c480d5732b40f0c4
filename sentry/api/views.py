"""
JSON API: ``api/v1/...`` under the dashboard's prefix.

Read: the groups (with the stream's filters and sorts), one group, its
occurrences, one occurrence. Write: unresolve (resolve, mute, unmute, the
history and comments are in :mod:`sentry.api.workflow`). Lists are paged
by ``?limit=`` (at most 100) and ``?offset=``; a ``next`` link says whether
there is more, without counting the table. Lists take ``?q=`` in the search
language (:mod:`sentry.search`); a query it cannot read is a 400 naming the
term and why.
"""

from django.http import JsonResponse
from django.shortcuts import get_object_or_404

from .. import projects
from ..constants import STATUS_UNRESOLVED
from ..filters import get_filters
from ..group_tags import top_values
from ..models import GroupedMessage, Message
from ..params import can_be_stored, parse_int
from ..search import SearchError, apply_to_groups, apply_to_occurrences, parse
from ..workflow.mute import set_status
from .auth import api_view, error
from .serializers import group_summary, occurrence_detail, occurrence_summary

SORTS = {
    "priority": "-score",
    "date": "-last_seen",
    "new": "-first_seen",
    "freq": "-times_seen",
    "users": "-users",
}
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
#: Deepest offset: beyond any table this app keeps, within every database's
#: OFFSET (``offset + limit`` must not overflow a 64-bit integer).
MAX_OFFSET = 2**31 - 1
MESSAGE_ID_LENGTH = 32
#: How many values per key a group's detail lists (servers, sites, urls...).
TOP_VALUES = 10


def _page(request, queryset, serialize):
    """
    Return a page of ``queryset``: one row more than asked says "next".

    None when ``limit`` or ``offset`` is not a whole number in range
    (ASCII digits; ``offset`` at most :data:`MAX_OFFSET`).
    """
    limit = _number(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _number(request, "offset", 0, 0, MAX_OFFSET)
    if limit is None or offset is None:
        return None
    rows = list(queryset[offset : offset + limit + 1])
    next_url = None
    if len(rows) > limit:
        query = request.GET.copy()
        query["offset"] = offset + limit
        query["limit"] = limit
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {
        "results": [serialize(row, request) for row in rows[:limit]],
        "next": next_url,
    }


def _number(request, name, default, minimum, maximum):
    text = request.GET.get(name)
    if text is None:
        return default
    # A limit over the maximum is clamped, as documented; anything else
    # that is not a number in range is refused.
    if name == "limit":
        value = parse_int(text)
        return None if value is None else min(max(value, minimum), maximum)
    return parse_int(text, minimum=minimum, maximum=maximum)


def _invalid_parameter(request):
    """Return the name of a parameter no stored value can match (NUL), or None."""
    for name, values in request.GET.lists():
        if not can_be_stored(name) or not all(map(can_be_stored, values)):
            return name
    return None


def _search(request):
    """Return ``q`` read as a query; raise :class:`~sentry.search.SearchError`."""
    return parse((request.GET.get("q") or "").strip())


def _search_error(exc):
    """Return the 400 for a query that cannot be read: which term and why."""
    return JsonResponse(
        {
            "detail": f"The search cannot be read: {exc.reason}.",
            "term": exc.term,
            "reason": exc.reason,
        },
        status=400,
    )


def _groups(request):
    """Return the groups the user may see, each with its project (one join)."""
    return projects.visible_groups(
        GroupedMessage.objects.all(), request.user
    ).select_related("project")


@api_view()
def groups(request):
    invalid = _invalid_parameter(request)
    if invalid is not None:
        return error(400, f"{invalid!r} holds a NUL character.")
    try:
        project = projects.requested_project(request)
    except projects.UnknownProject as exc:
        return error(400, str(exc))
    try:
        search = _search(request)
    except SearchError as exc:
        return _search_error(exc)
    queryset = _groups(request)
    if project is not None:
        queryset = queryset.filter(project=project)
    for stream_filter in get_filters(request, search):
        problem = stream_filter.error()
        if problem is not None:
            return error(400, problem)
        queryset = stream_filter.apply(queryset)
    queryset = apply_to_groups(queryset, search)
    sort = SORTS.get(request.GET.get("sort", "priority"))
    if sort is None:
        return error(400, f"Unknown sort; use one of {', '.join(SORTS)}.")
    queryset = queryset.order_by(sort, "-pk").defer("data", "traceback")
    page = _page(request, queryset, group_summary)
    if page is None:
        return error(
            400, f"limit and offset must be whole numbers (offset <= {MAX_OFFSET})."
        )
    return JsonResponse(page)


@api_view()
def group(request, group_id):
    group = get_object_or_404(_groups(request).defer("data"), pk=group_id)
    latest = group.message_set.order_by("-datetime", "-pk").first()
    # The Tags sidebar's query: bounded however many values a key has.
    values = {
        tag.key: [
            {"value": value.value, "times_seen": value.times_seen}
            for value in tag.values
        ]
        for tag in top_values(group, per_key=TOP_VALUES)
    }
    return JsonResponse(
        {
            **group_summary(group, request),
            "top_values": values,
            "latest_occurrence": occurrence_detail(latest, request) if latest else None,
        }
    )


@api_view()
def occurrences(request, group_id):
    group = get_object_or_404(
        _groups(request).select_related(None).only("pk"), pk=group_id
    )
    queryset = (
        Message.objects.filter(group=group)
        .order_by("-datetime", "-pk")
        .defer("data", "traceback")
    )
    try:
        queryset = apply_to_occurrences(queryset, _search(request), group.pk)
    except SearchError as exc:
        return _search_error(exc)
    page = _page(request, queryset, occurrence_summary)
    if page is None:
        return error(
            400, f"limit and offset must be whole numbers (offset <= {MAX_OFFSET})."
        )
    return JsonResponse(page)


@api_view()
def occurrence(request, message_id):
    if not can_be_stored(message_id, MESSAGE_ID_LENGTH):
        return error(404, "Not found.")
    message = get_object_or_404(
        Message.objects.filter(
            group__in=_groups(request).select_related(None).values("pk")
        ),
        message_id=message_id.lower(),
    )
    return JsonResponse(occurrence_detail(message, request))


def _set_status(request, group_id, status):
    groups = _groups(request)
    if not groups.filter(pk=group_id).exists():
        return error(404, "No such group.")
    # Recorded in the group's history, with the token's user.
    set_status(groups.filter(pk=group_id), status, request.user)
    group = groups.defer("data").get(pk=group_id)
    return JsonResponse(group_summary(group, request))


@api_view(methods=("POST",), write=True)
def unresolve(request, group_id):
    return _set_status(request, group_id, STATUS_UNRESOLVED)
