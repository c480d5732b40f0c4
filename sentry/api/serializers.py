"""How groups and occurrences look in the JSON API."""

from django.urls import reverse

from ..constants import LEVEL_NAMES
from ..models import format_short_id


def _iso(value):
    return value.isoformat() if value else None


def group_summary(group, request):
    """Return a group as JSON; list groups with ``select_related("project")``."""
    slug = group.project.slug
    return {
        "id": group.pk,
        "project": slug,
        "short_id": format_short_id(slug, group.short_id),
        "title": group.title,
        "logger": group.logger,
        "level": LEVEL_NAMES.get(group.level, str(group.level)),
        "class_name": group.class_name,
        "culprit": group.view,
        "status": "resolved" if group.is_resolved else "unresolved",
        "muted": group.is_muted,
        "times_seen": group.times_seen,
        "users": group.users,
        "first_seen": _iso(group.first_seen),
        "last_seen": _iso(group.last_seen),
        "resolved_at": _iso(group.resolved_at),
        "first_release": group.first_release,
        "last_release": group.last_release,
        # What reopens it: null (any event) or the release an event must be
        # newer than; "resolved_in_next": resolved "in the next release".
        "resolved_in_release": (
            group.resolved_in_release if group.is_resolved else None
        ),
        "resolved_in_next": group.is_resolved and group.resolved_in_next,
        "score": group.score,
        "url": request.build_absolute_uri(group.get_absolute_url()),
        "api_url": request.build_absolute_uri(
            reverse("sentry:api-group", kwargs={"group_id": group.pk})
        ),
    }


def occurrence_summary(message, request):
    return {
        "message_id": message.message_id,
        "group_id": message.group_id,
        "datetime": _iso(message.datetime),
        "message": message.message,
        "class_name": message.class_name,
        "level": LEVEL_NAMES.get(message.level, str(message.level)),
        "logger": message.logger,
        "culprit": message.view,
        "url": message.url,
        "server_name": message.server_name,
        "site": message.site,
        # Kept per occurrence since 0024 (null in rows stored before).
        "release": message.release,
        "environment": message.environment,
        "user": message.user,
        "api_url": request.build_absolute_uri(
            reverse("sentry:api-occurrence", kwargs={"message_id": message.message_id})
        ),
    }


def occurrence_detail(message, request):
    return {
        **occurrence_summary(message, request),
        "traceback": message.traceback,
        "data": message.data or {},
    }
