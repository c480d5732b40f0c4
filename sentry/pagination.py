"""
Keyset ("cursor") pagination: pages that cost the same at any depth.

A page is read with ``ORDER BY <column>, pk`` (both descending) and
``LIMIT page_size + 1``: the extra row only says whether there is a next
page, so no ``COUNT(*)`` is ever run. A cursor names the last (or first) row
of a page by its sort value and primary key, and the next page starts right
after it with ``column <= value AND (column < value OR pk < pk)``; the first
half is what lets the database seek in its index instead of skipping rows as
``OFFSET`` does.
"""

import datetime as dt
import math

from django.db.models import Q
from django.utils import timezone

from .params import parse_int

#: Query parameters that carry a cursor.
AFTER = "after"
BEFORE = "before"
#: Longer than any cursor make_cursor writes.
MAX_CURSOR_LENGTH = 64


class Page:
    """One page of rows with the cursors of its neighbours."""

    def __init__(self, items, next_cursor=None, previous_cursor=None):
        self.items = items
        self.next_cursor = next_cursor
        self.previous_cursor = previous_cursor

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    @property
    def has_next(self):
        return self.next_cursor is not None

    @property
    def has_previous(self):
        return self.previous_cursor is not None

    @property
    def is_first(self):
        return not self.has_previous


def encode_value(value):
    """Return a sort value as URL-safe text."""
    if isinstance(value, dt.datetime):
        # Microseconds since the epoch: exact, and no "+" to escape.
        return str(_to_micros(value))
    if isinstance(value, float):
        return repr(value)
    return str(int(value))


#: What a float cursor may hold: ``repr()`` of a finite float writes nothing else.
_FLOAT_CHARS = frozenset("0123456789+-.e")
#: Longer than any ``repr()`` of a float.
_MAX_FLOAT_LENGTH = 32


def decode_value(text, kind):
    """Return the sort value written by :func:`encode_value`, or None."""
    # Strict: float() and int() would also read Unicode digits, spaces,
    # underscores and "nan"; a cursor holds only what encode_value wrote.
    if kind == "datetime":
        negative = text.startswith("-")
        micros = parse_int(text[1:] if negative else text)
        if micros is None:
            return None
        try:
            return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
                microseconds=-micros if negative else micros
            )
        except OverflowError:
            return None
    if kind == "float":
        if len(text) > _MAX_FLOAT_LENGTH or not set(text) <= _FLOAT_CHARS:
            return None
        try:
            value = float(text)
        except ValueError:
            return None
        return value if math.isfinite(value) else None
    return parse_int(text)


def _to_micros(value):
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_cursor(text, kind):
    """Return ``(value, pk)`` from a cursor, or None when it is not one."""
    if not text or "_" not in text or len(text) > MAX_CURSOR_LENGTH:
        return None
    value_text, _, pk_text = text.rpartition("_")
    value = decode_value(value_text, kind)
    pk = parse_int(pk_text)
    if value is None or pk is None:
        return None
    if kind == "datetime" and not _storable(value):
        return None
    return value, pk


def _storable(value):
    return (
        dt.datetime(1, 1, 2, tzinfo=dt.UTC)
        < value
        < dt.datetime(9999, 12, 30, tzinfo=dt.UTC)
    )


def make_cursor(obj, column):
    return f"{encode_value(getattr(obj, column))}_{obj.pk}"


def paginate(queryset, column, kind, params, page_size):
    """
    Return a :class:`Page` of ``queryset`` sorted by ``column`` descending.

    ``kind`` is ``"datetime"``, ``"float"`` or ``"int"`` (how the cursor is
    parsed); ``params`` holds the request's ``after``/``before`` cursors.
    Runs one query.
    """
    after = parse_cursor(params.get(AFTER), kind)
    before = None if after else parse_cursor(params.get(BEFORE), kind)
    if before:
        # Walk back: ascending from the cursor, then flip the rows.
        value, pk = before
        rows = list(
            queryset.filter(
                Q(**{f"{column}__gte": value}),
                Q(**{f"{column}__gt": value}) | Q(pk__gt=pk),
            ).order_by(column, "pk")[: page_size + 1]
        )
        more_before = len(rows) > page_size
        items = rows[:page_size][::-1]
        return Page(
            items,
            next_cursor=make_cursor(items[-1], column) if items else None,
            previous_cursor=make_cursor(items[0], column)
            if items and more_before
            else None,
        )
    if after:
        value, pk = after
        queryset = queryset.filter(
            Q(**{f"{column}__lte": value}),
            Q(**{f"{column}__lt": value}) | Q(pk__lt=pk),
        )
    rows = list(queryset.order_by(f"-{column}", "-pk")[: page_size + 1])
    items = rows[:page_size]
    return Page(
        items,
        next_cursor=make_cursor(items[-1], column) if len(rows) > page_size else None,
        previous_cursor=make_cursor(items[0], column) if after and items else None,
    )
