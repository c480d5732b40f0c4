"""The JSON API's index page: its endpoints and feeds, for people to read."""

import re

from django.shortcuts import render
from django.urls import reverse

from ..api import urls as api_urls
from .access import dashboard_view

#: What each endpoint does, by URL name: (method, scope, what it answers).
#: A new endpoint without an entry here fails its test, not silently.
ENDPOINTS = {
    "api-groups": (
        "GET",
        "event:read",
        "The errors, with the stream's filters (status, level, logger, "
        "server_name, site, project) and sort (priority, date, new, freq).",
    ),
    "api-group": (
        "GET",
        "event:read",
        "One error: its fields, its most frequent values per key and its "
        "latest occurrence in full.",
    ),
    "api-occurrences": ("GET", "event:read", "An error's occurrences, newest first."),
    "api-resolve": (
        "POST",
        "event:write",
        'Resolve the error: no body (any new event reopens it), {"release": '
        '"<name>"} or {"next_release": true} (only a newer release reopens '
        "it); answers it.",
    ),
    "api-unresolve": ("POST", "event:write", "Unresolve the error; answers it."),
    "api-mute": (
        "POST",
        "event:write",
        'Mute the error: {} forever, {"minutes": N}, {"until": "<ISO 8601>"}, '
        '{"count": N} more occurrences or {"users": N} more users; answers it.',
    ),
    "api-unmute": ("POST", "event:write", "Unmute the error; answers it."),
    "api-history": (
        "GET",
        "event:read",
        "The error's history, newest first: kind, date, user, release, text.",
    ),
    "api-comments": (
        "POST",
        "event:write",
        'Comment on the error: {"text": "..."}; answers the new history entry.',
    ),
    "api-comment": (
        "PATCH, DELETE",
        "event:write",
        'Edit one of your comments ({"text": "..."}; POST works too) or '
        "delete it; the author's only.",
    ),
    "api-occurrence": (
        "GET",
        "event:read",
        "One occurrence in full: its traceback text and structured data.",
    ),
}

# "<sentry_id:group_id>" reads "<group_id>": a fixed, short route string.
_CONVERTER = re.compile(r"<[a-z_]+:([a-z_]+)>")


def endpoints(prefix):
    """Return ``[(method, path, scope, text, link), ...]`` of the API's URLs."""
    rows = []
    for pattern in api_urls.urlpatterns:
        method, scope, text = ENDPOINTS[pattern.name]
        route = str(pattern.pattern)
        path = prefix + _CONVERTER.sub(r"<\1>", route)
        link = path if method == "GET" and "<" not in route else None
        rows.append((method, path, scope, text, link))
    return rows


@dashboard_view
def index(request):
    """List the JSON API's endpoints and the feeds (the API docs, in the app)."""
    return render(
        request,
        "sentry/api_index.html",
        {"endpoints": endpoints(reverse("sentry:api-index"))},
    )
