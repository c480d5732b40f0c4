"""
RSS feeds of the latest occurrences and of the unresolved errors.

Both take the stream's filters as query parameters (``?level=40&logger=shop``)
and are readable by a dashboard session or with ``?token=<API token>``, so
that a feed reader can subscribe without logging in.
"""

from django.contrib.syndication.views import Feed
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from .api.tokens import FEED_READ, ApiToken
from .conf import settings
from .constants import LEVEL_NAMES, STATUS_UNRESOLVED
from .filters import get_filters
from .models import GroupedMessage, Message
from .views.access import can_view

ITEMS = 50


def check_access(request):
    """Let staff sessions, ``feed:read`` tokens and (SENTRY_PUBLIC) everyone in."""
    if settings.PUBLIC:
        return
    token = request.GET.get("token")
    # Only tokens with feed:read: a token in a URL ends up in access logs, so
    # the tokens meant for it should open nothing but the feeds.
    user = ApiToken.objects.authenticate(token, FEED_READ) if token else request.user
    if user is None or not user.is_authenticated or not can_view(user):
        raise PermissionDenied


class ErrorFeed(Feed):
    """Shared parts: access, filters and the links back to the dashboard."""

    def __call__(self, request, *args, **kwargs):
        check_access(request)
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request, *args, **kwargs):
        return request

    def link(self, request):
        return reverse("sentry:index")

    def item_pubdate(self, item):
        return getattr(item, "datetime", None) or item.last_seen


class MessageFeed(ErrorFeed):
    """The latest occurrences, newest first."""

    title = "Latest errors"
    description = "The latest occurrences of errors recorded by django-sentry."

    def items(self, request):
        queryset = Message.objects.all()
        for stream_filter in get_filters(request):
            if stream_filter.column == "status":
                continue  # occurrences have no status
            value = stream_filter.get_value()
            if value is not None:
                queryset = queryset.filter(**{stream_filter.column: value})
        return queryset.order_by("-datetime", "-pk").defer("data")[:ITEMS]

    def item_title(self, item):
        return f"[{LEVEL_NAMES.get(item.level, item.level)}] {item.title}"

    def item_description(self, item):
        return item.traceback or item.message

    def item_link(self, item):
        return item.get_absolute_url()


class GroupFeed(ErrorFeed):
    """The errors nobody has resolved, most recently seen first."""

    title = "Unresolved errors"
    description = "Errors recorded by django-sentry that are not resolved."

    def items(self, request):
        queryset = GroupedMessage.objects.filter(status=STATUS_UNRESOLVED)
        for stream_filter in get_filters(request):
            if stream_filter.column != "status":
                queryset = stream_filter.apply(queryset)
        return queryset.order_by("-last_seen", "-pk").defer("data")[:ITEMS]

    def item_title(self, item):
        return f"{item.title} ({item.times_seen}×)"

    def item_description(self, item):
        return item.traceback or item.message

    def item_link(self, item):
        return item.get_absolute_url()
