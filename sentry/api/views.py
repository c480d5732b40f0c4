"""
JSON API: ``api/v1/...`` under the dashboard's prefix.

Read: the groups (with the stream's filters and sorts), one group, its
occurrences, one occurrence. Write: resolve and unresolve. Lists are paged
by ``?limit=`` (at most 100) and ``?offset=``; a ``next`` link says whether
there is more, without counting the table.
"""

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from ..constants import STATUS_RESOLVED, STATUS_UNRESOLVED
from ..filters import get_filters
from ..models import GroupedMessage, Message, MessageFilterValue
from .auth import api_view, error
from .serializers import group_summary, occurrence_detail, occurrence_summary

SORTS = {
    "priority": "-score",
    "date": "-last_seen",
    "new": "-first_seen",
    "freq": "-times_seen",
}
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
#: How many values per key a group's detail lists (servers, sites, urls...).
TOP_VALUES = 10


def _page(request, queryset, serialize):
    """Return a page of ``queryset``: one row more than asked says "next"."""
    try:
        limit = min(max(int(request.GET.get("limit", DEFAULT_LIMIT)), 1), MAX_LIMIT)
        offset = max(int(request.GET.get("offset", 0)), 0)
    except ValueError:
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


@api_view()
def groups(request):
    queryset = GroupedMessage.objects.all()
    for stream_filter in get_filters(request):
        queryset = stream_filter.apply(queryset)
    sort = SORTS.get(request.GET.get("sort", "priority"))
    if sort is None:
        return error(400, f"Unknown sort; use one of {', '.join(SORTS)}.")
    queryset = queryset.order_by(sort, "-pk").defer("data", "traceback")
    page = _page(request, queryset, group_summary)
    if page is None:
        return error(400, "limit and offset must be whole numbers.")
    return JsonResponse(page)


@api_view()
def group(request, group_id):
    group = get_object_or_404(GroupedMessage.objects.defer("data"), pk=group_id)
    latest = group.message_set.order_by("-datetime", "-pk").first()
    values = {}
    top = MessageFilterValue.objects.filter(group=group).order_by(
        "key", "-times_seen", "value"
    )
    for row in top.values("key", "value", "times_seen"):
        bucket = values.setdefault(row["key"], [])
        if len(bucket) < TOP_VALUES:
            bucket.append({"value": row["value"], "times_seen": row["times_seen"]})
    return JsonResponse(
        {
            **group_summary(group, request),
            "top_values": values,
            "latest_occurrence": occurrence_detail(latest, request) if latest else None,
        }
    )


@api_view()
def occurrences(request, group_id):
    group = get_object_or_404(GroupedMessage.objects.only("pk"), pk=group_id)
    queryset = (
        Message.objects.filter(group=group)
        .order_by("-datetime", "-pk")
        .defer("data", "traceback")
    )
    page = _page(request, queryset, occurrence_summary)
    if page is None:
        return error(400, "limit and offset must be whole numbers.")
    return JsonResponse(page)


@api_view()
def occurrence(request, message_id):
    message = get_object_or_404(Message, message_id=message_id.lower())
    return JsonResponse(occurrence_detail(message, request))


def _set_status(request, group_id, status):
    changes = {"status": status}
    changes["resolved_at"] = timezone.now() if status == STATUS_RESOLVED else None
    if not GroupedMessage.objects.filter(pk=group_id).update(**changes):
        return error(404, "No such group.")
    group = GroupedMessage.objects.defer("data").get(pk=group_id)
    return JsonResponse(group_summary(group, request))


@api_view(methods=("POST",), write=True)
def resolve(request, group_id):
    return _set_status(request, group_id, STATUS_RESOLVED)


@api_view(methods=("POST",), write=True)
def unresolve(request, group_id):
    return _set_status(request, group_id, STATUS_UNRESOLVED)
