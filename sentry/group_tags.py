"""
A group's tags as its pages show them, read from the per-group value counters.

Every write keeps ``MessageFilterValue`` exact (:mod:`sentry.storage`,
:mod:`sentry.tags`), so the sidebar and the Tags tab cost one query each
whatever the number of occurrences, and do not depend on which occurrences
retention has kept. A value's share is its count over the group's
``times_seen``: the part of the group's events that carried it.

A value links to the group's occurrences that have it: an occurrence keeps
its server, site, URL, logger, level, release and environment as columns,
and its other values as links to these counters (``OccurrenceValue``,
:mod:`sentry.search.apply`).
"""

import unicodedata
from urllib.parse import urlencode

from django.db import connections
from django.urls import reverse

from . import pagination
from .models import MessageFilterValue
from .search.keys import LANGUAGE, NAMED
from .tags import (
    KNOWN_KEYS,
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
#: Most values of a key counted for "N values" (past it: "more than N").
MAX_COUNTED = 1000
#: Values per page of one key's distribution.
PAGE_SIZE = 50


def shadowed(key):
    """
    Return whether ``key`` is an SDK tag named like a key of the search.

    A tag ``level`` or ``user.email`` (anyone with the DSN can send one) is
    counted as ``tag:level``; shown as ``level`` it would pass for the
    event's level, and ``level:"..."`` searches the level, not the tag.
    """
    if not key.startswith(TAG_PREFIX):
        return False
    # Without its invisible characters (zero-width, direction marks: the
    # Cf category), which would make "lev\u200bel" look like "level".
    name = "".join(c for c in key_name(key) if unicodedata.category(c) != "Cf")
    name = name.lower()
    return name in NAMED or name in LANGUAGE


def shown_name(key):
    """Return how the pages name a counter key: a shadowed tag keeps ``tag:``."""
    return key if shadowed(key) else key_name(key)


class TagValue:
    """One value of a key: how often the group's events carried it."""

    __slots__ = ("key", "value", "times_seen", "percent", "label", "url")

    def __init__(self, key, value, times_seen, total, url):
        self.key = key
        self.value = value
        self.times_seen = times_seen
        # Both counters move in one transaction; min() only keeps a row
        # edited by hand (or a group merged) from drawing past the bar.
        self.percent = min(100, round(times_seen * 100 / total)) if total else 0
        self.label = value_label(key, value)
        if shadowed(key):
            # No search finds it: no link rather than a link to another key.
            self.url = None
        else:
            self.url = url + "?" + urlencode({"q": search_term(key, value)})


class TagKey:
    """A key with its most frequent values and the number of its values."""

    __slots__ = ("key", "name", "distinct", "values")

    def __init__(self, key, distinct):
        self.key = key
        self.name = shown_name(key)
        self.distinct = distinct
        self.values = []

    @property
    def more(self):
        return self.distinct > len(self.values)

    @property
    def distinct_text(self):
        """Return how many values the key has, as the pages say it."""
        if self.distinct > MAX_COUNTED:
            return f"more than {MAX_COUNTED:,} values"
        return f"{self.distinct} value{'' if self.distinct == 1 else 's'}"


def search_url(group):
    """Return where a value is searched: the group's occurrences."""
    return reverse("sentry:messages", args=[group.pk])


def top_values(group, per_key=SIDEBAR_VALUES, max_keys=MAX_KEYS):
    """
    Return a :class:`TagKey` for each key of ``group``, with its top values.

    One query, whose cost does not grow with the number of values: the
    group's keys are found by skipping from one to the next in the
    ``(group, key, -times_seen, -id)`` index (at most ``max_keys`` of them, plus
    the known keys, so that a client sending many tag names cannot push
    ``release`` or ``environment`` out), each key's ``per_key`` most frequent
    values are read from the same index, and its values are counted up to
    :data:`MAX_COUNTED`. The known keys come first (release, environment,
    ..., level), then the event's own tags by name.
    """
    queryset = MessageFilterValue.objects.all()
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    table = quote(MessageFilterValue._meta.db_table)
    key = quote("key")
    known = " UNION ".join(["SELECT %s"] * len(KNOWN_KEYS))
    # A key's values are walked in the order of the (group, key,
    # -times_seen, -id) index, ties newest first: each step reads the first
    # row after the previous one, so no step sorts or skips more than
    # ``per_key`` rows.
    after = (
        "x.times_seen < p.times_seen OR (x.times_seen = p.times_seen AND x.id < p.id)"
    )
    first = f"""SELECT x.id FROM {table} x WHERE x.group_id = %s AND x.{key} = {{name}}
                {{condition}} ORDER BY x.times_seen DESC, x.id DESC LIMIT 1"""
    sql = f"""
        WITH RECURSIVE scan(name, n) AS (
            SELECT MIN({key}), 1 FROM {table} WHERE group_id = %s
            UNION ALL
            SELECT (SELECT MIN({key}) FROM {table}
                    WHERE group_id = %s AND {key} > scan.name), n + 1
            FROM scan WHERE scan.name IS NOT NULL AND n < %s
        ),
        names(name) AS (
            SELECT name FROM scan WHERE name IS NOT NULL UNION {known}
        ),
        counted(name, total) AS (
            -- Ordered as the index is, so that it is the index that is read
            -- (PostgreSQL otherwise scans the group's rows for the key).
            SELECT name, (SELECT COUNT(*) FROM (
                SELECT 1 FROM {table} WHERE group_id = %s AND {key} = names.name
                ORDER BY times_seen DESC, id DESC LIMIT %s) AS capped)
            FROM names
        ),
        walk(name, total, r, pick) AS (
            SELECT name, total, 1, ({first.format(name="counted.name", condition="")})
            FROM counted WHERE total > 0
            UNION ALL
            SELECT walk.name, walk.total, walk.r + 1, ({
        first.format(name="walk.name", condition=f"AND ({after})")
    })
            FROM walk JOIN {table} p ON p.id = walk.pick WHERE walk.r < %s
        )
        SELECT walk.name, m.value, m.times_seen, walk.total
        FROM walk JOIN {table} m ON m.id = walk.pick
        ORDER BY walk.name, walk.r
    """
    params = [
        group.pk,
        group.pk,
        max_keys,
        *KNOWN_KEYS,
        group.pk,
        MAX_COUNTED + 1,
        group.pk,
        group.pk,
        per_key,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    url = search_url(group)
    keys = {}
    for name, value, times_seen, total in rows:
        tag = keys.get(name)
        if tag is None:
            tag = keys[name] = TagKey(name, total)
        tag.values.append(TagValue(name, value, times_seen, group.times_seen, url))
    return sorted(keys.values(), key=lambda tag: key_order(tag.key))


def key_values(group, key, params, page_size=PAGE_SIZE):
    """
    Return a page of every value of ``key``, most frequent first. One query.

    Keyset pagination (:mod:`sentry.pagination`) on the counter's
    ``times_seen``, ties newest first: the ``(group, key, -times_seen, -id)``
    index serves any page without sorting.
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
    url = search_url(group)
    page.items = [
        TagValue(row.key, row.value, row.times_seen, group.times_seen, url)
        for row in page.items
    ]
    return page
