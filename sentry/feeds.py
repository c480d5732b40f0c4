"""
RSS feeds of the latest occurrences and of the unresolved errors.

Both take the stream's filters as query parameters (``?level=40&logger=shop``)
and a search (``?q=environment:production``, :mod:`sentry.search`; a query it
cannot read is a 400), and are readable by a dashboard session or with
``?token=<API token>``, so that a feed reader can subscribe without logging in.

Titles and descriptions carry event text, which anyone who can send an event
wrote. Feed readers render both as HTML (RSS says the description is HTML),
so the text is HTML-escaped before the feed escapes it again for XML: a
reader shows ``<img src=x onerror=...>`` as those characters. Characters
XML 1.0 cannot carry (most control characters) become U+FFFD.
"""

import re

from django.contrib.auth.models import AnonymousUser
from django.contrib.syndication.views import Feed
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.urls import reverse
from django.utils.html import escape

from . import projects
from .api.tokens import FEED_READ, ApiToken
from .conf import settings
from .constants import LEVEL_NAMES, STATUS_UNRESOLVED
from .filters import get_filters
from .models import GroupedMessage, Message
from .search import SearchError, group_condition, occurrence_condition, parse
from .views.access import can_view

ITEMS = 50
#: Any character XML 1.0 does not allow (its "Char" production). One
#: character class, no quantifier: a single linear pass.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text):
    """Return ``text`` with what XML 1.0 cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(text))


def feed_title(text):
    """Return event text as an item title: plain text, escaped as HTML."""
    return escape(xml_text(text))


def feed_description(text):
    """Return event text as an item description: inert, preformatted HTML."""
    return f"<pre>{escape(xml_text(text))}</pre>"


def check_access(request):
    """
    Let staff sessions, ``feed:read`` tokens and (SENTRY_PUBLIC) everyone in.

    Return the user whose projects the feed shows: the token's, else the
    session's (an anonymous visitor under ``SENTRY_PUBLIC``).
    """
    token = request.GET.get("token")
    # Only tokens with feed:read: a token in a URL ends up in access logs, so
    # the tokens meant for it should open nothing but the feeds.
    if token:
        user = ApiToken.objects.authenticate(token, FEED_READ)
    else:
        user = getattr(request, "user", None)
    if settings.PUBLIC:
        return user if user is not None else AnonymousUser()
    if user is None or not user.is_authenticated or not can_view(user):
        raise PermissionDenied
    return user


class ErrorFeed(Feed):
    """Shared parts: access, filters and the links back to the dashboard."""

    def __call__(self, request, *args, **kwargs):
        # On the request, not on self: one feed object serves every request.
        request.feed_reader = check_access(request)
        try:
            request.feed_search = parse((request.GET.get("q") or "").strip())
            # Built here, so that a key this feed cannot narrow by is a 400
            # too, not an error while the items are listed.
            request.feed_condition = self.search_condition(request.feed_search)
        except SearchError as exc:
            # A feed reader shows no page: the status says it, the body why.
            return HttpResponseBadRequest(
                f"The search cannot be read: {exc.reason}.\n",
                content_type="text/plain; charset=utf-8",
            )
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request, *args, **kwargs):
        # ?project=<slug>: a feed of a project that does not exist (or that
        # the reader may not see) does not exist either.
        try:
            request.feed_project = projects.requested_project(
                request, request.feed_reader
            )
        except projects.UnknownProject as exc:
            raise Http404(str(exc)) from None
        return request

    def search_condition(self, query):
        """Return ``query`` as a condition on this feed's items."""
        raise NotImplementedError

    def groups(self, request):
        """Return the groups the reader may see, of the project asked for."""
        groups = projects.visible_groups(
            GroupedMessage.objects.all(), request.feed_reader
        )
        if request.feed_project is not None:
            groups = groups.filter(project=request.feed_project)
        return groups

    def link(self, request):
        return reverse("sentry:index")

    def item_pubdate(self, item):
        return getattr(item, "datetime", None) or item.last_seen


class MessageFeed(ErrorFeed):
    """The latest occurrences, newest first."""

    title = "Latest errors"
    description = "The latest occurrences of errors recorded by django-sentry."

    def search_condition(self, query):
        return occurrence_condition(query)

    def items(self, request):
        queryset = Message.objects.filter(group__in=self.groups(request).values("pk"))
        for stream_filter in get_filters(request):
            queryset = stream_filter.apply_to_occurrences(queryset)
        queryset = queryset.filter(request.feed_condition)
        return queryset.order_by("-datetime", "-pk").defer("data")[:ITEMS]

    def item_title(self, item):
        return feed_title(f"[{LEVEL_NAMES.get(item.level, item.level)}] {item.title}")

    def item_description(self, item):
        return feed_description(item.traceback or item.message)

    def item_link(self, item):
        return item.get_absolute_url()


class GroupFeed(ErrorFeed):
    """The errors nobody has resolved, most recently seen first."""

    title = "Unresolved errors"
    description = "Errors recorded by django-sentry that are not resolved."

    def search_condition(self, query):
        return group_condition(query)

    def items(self, request):
        search = request.feed_search
        queryset = self.groups(request)
        if not search.names_status:
            queryset = queryset.filter(status=STATUS_UNRESOLVED)
        for stream_filter in get_filters(request):
            if stream_filter.column != "status":
                queryset = stream_filter.apply(queryset)
        queryset = queryset.filter(request.feed_condition)
        return (
            queryset.select_related("project")
            .order_by("-last_seen", "-pk")
            .defer("data")[:ITEMS]
        )

    def item_title(self, item):
        return feed_title(
            f"{item.qualified_short_id} {item.title} ({item.times_seen}×)"
        )

    def item_description(self, item):
        return feed_description(item.traceback or item.message)

    def item_link(self, item):
        return item.get_absolute_url()
