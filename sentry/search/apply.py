"""
Narrow a queryset to a parsed query: groups (stream, API, feed) or occurrences.

A group has columns (level, logger, status, first and last seen) and
per-group value counters (``MessageFilterValue``: servers, sites, URLs,
users and tags): ``key:value`` on a counted key is "seen at least once with
that value", an existence subquery served by the ``(key, value)`` index.
A prefix (``key:abc*``, case ignored) is the form an index can serve (one on
the upper-cased value, for PostgreSQL); a suffix or a part (``*abc``,
``*abc*``) reads every value of the key.

An occurrence (``Message``) has its level, logger, server, site, URL, time,
release and environment as columns; its other values (tags, the user's
fields) are linked to it by ``OccurrenceValue`` rows: ``key:value`` is
"linked to a counter of that key and value", through the counters'
``(key, value)`` index and the links' ``(value, message)`` one.
"""

from django.db.models import Q
from django.utils import timezone

from ..models import GroupedMessage, MessageFilterValue, OccurrenceValue
from ..workflow.mute import muted_now
from . import keys
from .grammar import Has, Muted, Seen, Status, Word
from .text import free_text_filter, occurrence_text_filter

#: How each form of value compares. The wildcard forms ignore case: SQLite's
#: LIKE (which Django's ``startswith`` is there) ignores it whatever Django
#: asks, so ignoring it everywhere gives one answer on every backend.
LOOKUPS = {
    "exact": "exact",
    "prefix": "istartswith",
    "suffix": "iendswith",
    "contains": "icontains",
}
#: A condition no row meets (Django answers it without a query).
NOTHING = Q(pk__in=[])


def apply_to_groups(queryset, query):
    """Return the ``GroupedMessage`` rows of ``queryset`` that meet ``query``."""
    condition = group_condition(query)
    return queryset.filter(condition) if condition else queryset


def apply_to_occurrences(queryset, query, group_id=None):
    """
    Return the ``Message`` rows of ``queryset`` that meet ``query``.

    ``group_id``: the occurrences are all of that group (its occurrences
    tab), and only its value counters are looked at.
    """
    condition = occurrence_condition(query, group_id)
    return queryset.filter(condition) if condition else queryset


def group_condition(query):
    """Return ``query`` as a condition on groups (a ``Q``; empty: all)."""
    condition = free_text_filter(query.words) if query.words else Q()
    for term in query.terms:
        if not isinstance(term, Word):
            condition &= _group_condition(term)
    return condition


def occurrence_condition(query, group_id=None):
    """
    Return ``query`` as a condition on occurrences (a ``Q``; empty: all).

    ``group_id``: as for :func:`apply_to_occurrences`.
    """
    condition = occurrence_text_filter(query.words) if query.words else Q()
    for term in query.terms:
        if not isinstance(term, Word):
            condition &= _occurrence_condition(term, group_id)
    return condition


def _group_condition(term):
    if isinstance(term, Status):
        return _negated(Q(status=term.status), term)
    if isinstance(term, Muted):
        return _negated(muted_now(timezone.now()), term)
    if isinstance(term, Seen):
        return _seen(term.field, term)
    if isinstance(term, Has):
        if term.key in keys.GROUP_COLUMNS:
            return _negated(Q(), term)  # every group has a level and a logger
        rows = MessageFilterValue.objects.filter(key=keys.stored(term.key))
        return _negated(Q(pk__in=rows.values("group_id")), term)
    column = keys.GROUP_COLUMNS.get(term.key)
    if column is not None:
        return _negated(_column_match(column, term), term)
    rows = MessageFilterValue.objects.filter(
        key=keys.stored(term.key),
        **{f"value__{LOOKUPS[term.mode]}": term.value},
    )
    return _negated(Q(pk__in=rows.values("group_id")), term)


def _occurrence_condition(term, group_id=None):
    if isinstance(term, Status):
        return _negated(Q(group__status=term.status), term)
    if isinstance(term, Muted):
        muted = muted_now(timezone.now())
        return _negated(Q(group__in=GroupedMessage.objects.filter(muted)), term)
    if isinstance(term, Seen):
        return _seen("datetime", term)
    column = keys.OCCURRENCE_COLUMNS.get(keys.NAMED.get(term.key, term.key))
    if column is None:
        counters = MessageFilterValue.objects.filter(key=keys.stored(term.key))
        if group_id is not None:
            # Served by the (group, key, ...) index: has:user.id, or a
            # wildcard, reads this group's values of the key, not every
            # group's.
            counters = counters.filter(group_id=group_id)
        if not isinstance(term, Has):
            counters = counters.filter(**{f"value__{LOOKUPS[term.mode]}": term.value})
        links = OccurrenceValue.objects.filter(value__in=counters.values("pk"))
        return _negated(Q(pk__in=links.values("message_id")), term)
    if isinstance(term, Has):
        if column in keys.GROUP_COLUMNS:
            return _negated(Q(), term)
        return _negated(~Q(**{f"{column}__isnull": True}) & ~Q(**{column: ""}), term)
    return _negated(_column_match(column, term), term)


def _column_match(column, term):
    if column == "level":
        return Q(level=int(term.value))
    return Q(**{f"{column}__{LOOKUPS[term.mode]}": term.value})


def _seen(column, term):
    condition = Q()
    for lookup, moment in term.bounds:
        condition &= Q(**{f"{column}__{lookup}": moment})
    return _negated(condition, term)


def _negated(condition, term):
    if not term.negated:
        return condition
    # "not every group": none. ~Q() would be an empty condition, i.e. all.
    return ~condition if condition else NOTHING
