"""
A group's tags as its pages show them, read from the per-group value counters.

Every write keeps ``MessageFilterValue`` exact (:mod:`sentry.storage`,
:mod:`sentry.tags`), so the sidebar and the Tags tab cost one query each
whatever the number of occurrences, and do not depend on which occurrences
retention has kept. A value's share is its count over the group's
``times_seen``: the part of the group's events that carried it.
"""

from urllib.parse import urlencode

from django.db.models import Case, Count, F, IntegerField, Value, When, Window
from django.db.models.functions import RowNumber
from django.urls import reverse

from . import pagination
from .models import MessageFilterValue
from .tags import (
    COLUMN_KEYS,
    DERIVED_TAGS,
    TAG_PREFIX,
    key_name,
    key_order,
    search_term,
    value_label,
)

#: Values per key in the sidebar.
SIDEBAR_VALUES = 5
#: Values per key on the Tags tab's overview.
OVERVIEW_VALUES = 10
#: Most keys shown (the known ones first): a client can send a new tag name
#: with every event, and a page must stay the same size.
MAX_KEYS = 60
#: Values per page of one key's distribution.
PAGE_SIZE = 50
#: The keys the pages list first, in this order.
KNOWN_KEYS = tuple(TAG_PREFIX + name for name in DERIVED_TAGS) + COLUMN_KEYS


class TagValue:
    """One value of a key: how often the group's events carried it."""

    __slots__ = ("key", "value", "times_seen", "percent", "label", "url")

    def __init__(self, key, value, times_seen, total, occurrences_url):
        self.key = key
        self.value = value
        self.times_seen = times_seen
        # Both counters move in one transaction; min() only keeps a row
        # edited by hand (or a group merged) from drawing past the bar.
        self.percent = min(100, round(times_seen * 100 / total)) if total else 0
        self.label = value_label(key, value)
        self.url = occurrences_url + "?" + urlencode({"q": search_term(key, value)})


class TagKey:
    """A key with its most frequent values and the number of its values."""

    __slots__ = ("key", "name", "distinct", "values")

    def __init__(self, key, distinct):
        self.key = key
        self.name = key_name(key)
        self.distinct = distinct
        self.values = []

    @property
    def more(self):
        return self.distinct > len(self.values)


def occurrences_url(group):
    return reverse("sentry:messages", args=[group.pk])


def top_values(group, per_key=SIDEBAR_VALUES, max_keys=MAX_KEYS):
    """
    Return a :class:`TagKey` for each key of ``group``, with its top values.

    One query: the rows are ranked within their key by the database, which
    returns ``per_key`` of each (and each key's number of values). The known
    keys come first (release, environment, ..., level), then the event's own
    tags by name; at most ``max_keys`` keys.
    """
    known = Case(
        *[When(key=key, then=Value(index)) for index, key in enumerate(KNOWN_KEYS)],
        default=Value(len(KNOWN_KEYS)),
        output_field=IntegerField(),
    )
    rows = (
        MessageFilterValue.objects.filter(group_id=group.pk)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("key"),
                order_by=(F("times_seen").desc(), F("value").asc()),
            ),
            distinct=Window(Count("pk"), partition_by=F("key")),
            known=known,
        )
        .filter(rank__lte=per_key)
        .order_by("known", "key", "rank")
        .values_list("key", "value", "times_seen", "distinct")[: per_key * max_keys]
    )
    url = occurrences_url(group)
    keys = {}
    for key, value, times_seen, distinct in rows:
        tag = keys.get(key)
        if tag is None:
            if len(keys) == max_keys:
                break
            tag = keys[key] = TagKey(key, distinct)
        tag.values.append(TagValue(key, value, times_seen, group.times_seen, url))
    return sorted(keys.values(), key=lambda tag: key_order(tag.key))


def key_values(group, key, params, page_size=PAGE_SIZE):
    """
    Return a page of every value of ``key``, most frequent first. One query.

    Keyset pagination (:mod:`sentry.pagination`) on the counter's
    ``times_seen``: the ``(group, key, -times_seen)`` index serves any page.
    """
    page = pagination.paginate(
        MessageFilterValue.objects.filter(group_id=group.pk, key=key).only(
            "pk", "key", "value", "times_seen"
        ),
        "times_seen",
        "int",
        params,
        page_size,
    )
    url = occurrences_url(group)
    page.items = [
        TagValue(row.key, row.value, row.times_seen, group.times_seen, url)
        for row in page.items
    ]
    return page
