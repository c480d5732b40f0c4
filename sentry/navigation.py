"""
Stepping through a group's occurrences: first, previous, next, latest, "N of M".

Occurrences are ordered oldest first by ``(datetime, id)``: the id breaks
ties, so two occurrences stored in the same microsecond are both reached
and each has one place. Occurrence 1 is the oldest, M the latest.

The position and the count are one query (``COUNT(*)`` subqueries over
ranges of the ``(group, -datetime)`` index, see :func:`_counts`); each neighbour
is one query that seeks in the same index with ``LIMIT 1``. On SQLite the
index holds the id too (every SQLite index ends with the rowid), so the
tie-break is read from it; on PostgreSQL the index is on ``(group_id,
datetime)`` only and the few rows of one instant are sorted by id after
the seek. Five queries whatever the group's size.

A search (``q=``, the occurrences tab's) narrows what is stepped through,
as long as the occurrence shown meets it; one that does not (or a search
that cannot be read) steps through the whole group instead. Most of what a
search narrows by is not in the index, so its matches are counted up to
:data:`MAX_COUNTED` only ("Event 12 of 1,000+"): past that the page would
read every row of a large group for a number, where the list it came from
reads a page of them.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, Exists, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from .models import GroupedMessage, Message
from .search import SearchError, apply_to_occurrences, parse

#: Most matches of a search counted for "N of M" ("1,000+" past it).
MAX_COUNTED = 1000


@dataclass
class Navigation:
    """Where an occurrence stands among its siblings, and the links around it."""

    #: 1 for the oldest; None past MAX_COUNTED (a search's matches only).
    position: int | None
    #: How many; None past MAX_COUNTED (a search's matches only).
    total: int | None
    first: str | None
    previous: str | None
    next: str | None
    latest: str | None
    #: The search the links keep ("" when stepping through the whole group).
    query: str

    #: The group's id, for the links.
    group_id: int
    #: The occurrence shown.
    current: str

    @property
    def position_text(self):
        return _number(self.position)

    @property
    def total_text(self):
        return _number(self.total)

    @property
    def urls(self):
        """Return ``{"first": url, ...}`` of the links to other occurrences."""
        names = ("first", "previous", "next", "latest")
        return {
            name: occurrence_url(self.group_id, getattr(self, name), self.query)
            for name in names
            if getattr(self, name) not in (None, self.current)
        }

    @property
    def list_url(self):
        """Return the occurrences tab, with the search the links keep."""
        url = reverse("sentry:messages", kwargs={"group_id": self.group_id})
        return url + ("?" + urlencode({"q": self.query}) if self.query else "")


def navigate(message, query=""):
    """Return the :class:`Navigation` of ``message`` among its group's occurrences."""
    siblings = Message.objects.filter(group_id=message.group_id)
    narrowed = _narrowed(siblings, query, message.group_id)
    if narrowed is not None:
        counts = _counted_matches(narrowed, message)
        if counts["here"]:
            return _links(narrowed, message, counts, query)
    return _links(siblings, message, _counts(siblings, message), "")


def _narrowed(siblings, query, group_id):
    """Return ``siblings`` narrowed to ``query``; None for no (readable) search."""
    if not query:
        return None
    try:
        return apply_to_occurrences(siblings, parse(query), group_id)
    except SearchError:
        return None


def _counts(siblings, message):
    """
    Return the rows' count, the message's place and whether it is among them.

    One statement of scalar subqueries, each a ``COUNT(*)`` over a range of
    the ``(group, -datetime)`` index: the rows before the message's instant
    and the whole group are read from the index alone (an index-only scan on
    PostgreSQL: no ``id`` is needed), and only the rows of its own instant
    are compared by id.
    """
    when, pk = message.datetime, message.pk
    rows = siblings.order_by()
    counts = _one_row(
        message,
        total=_count(rows),
        before=_count(rows.filter(datetime__lt=when)),
        tied=_count(rows.filter(datetime=when, pk__lte=pk)),
        here=Exists(rows.filter(pk=pk)),
    )
    counts["position"] = counts.pop("before") + counts.pop("tied")
    return counts


def _counted_matches(narrowed, message):
    """Return :func:`_counts` of a search's matches; None past MAX_COUNTED."""
    when, pk = message.datetime, message.pk
    rows = narrowed.order_by()
    not_after = rows.filter(Q(datetime__lt=when) | Q(datetime=when, pk__lte=pk))
    counts = _one_row(
        message,
        total=_count(_at_most(rows)),
        position=_count(_at_most(not_after)),
        here=Exists(rows.filter(pk=pk)),
    )
    for name in ("total", "position"):
        if counts[name] > MAX_COUNTED:
            counts[name] = None
    return counts


def _one_row(message, **subqueries):
    """Return the values of ``subqueries``, computed in one statement."""
    return (
        GroupedMessage.objects.filter(pk=message.group_id)
        .values("pk")
        .annotate(**subqueries)
        .values(*subqueries)
        .get()
    )


def _at_most(rows):
    """Return the rows of ``rows``, at most ``MAX_COUNTED + 1`` of them."""
    return Message.objects.filter(pk__in=rows.values("pk")[: MAX_COUNTED + 1])


def _count(rows):
    """Return ``SELECT COUNT(*)`` of ``rows`` as a subquery (0 for none)."""
    counted = rows.values("group_id").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted), 0)


def _links(siblings, message, counts, query):
    when, pk = message.datetime, message.pk
    ids = siblings.values_list("message_id", flat=True)
    older = ids.filter(datetime__lte=when).filter(Q(datetime__lt=when) | Q(pk__lt=pk))
    newer = ids.filter(datetime__gte=when).filter(Q(datetime__gt=when) | Q(pk__gt=pk))
    return Navigation(
        position=counts["position"],
        total=counts["total"],
        first=ids.order_by("datetime", "pk").first(),
        previous=older.order_by("-datetime", "-pk").first(),
        next=newer.order_by("datetime", "pk").first(),
        latest=ids.order_by("-datetime", "-pk").first(),
        query=query,
        group_id=message.group_id,
        current=message.message_id,
    )


def _number(count):
    return f"{MAX_COUNTED:,}+" if count is None else f"{count:,}"


def occurrence_url(group_id, message_id, query=""):
    """Return the URL of an occurrence, keeping the search ``query``."""
    url = reverse(
        "sentry:message", kwargs={"group_id": group_id, "message_id": message_id}
    )
    return url + ("?" + urlencode({"q": query}) if query else "")
