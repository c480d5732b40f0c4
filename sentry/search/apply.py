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

from django.db.models import BigIntegerField, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
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
#: An error's values of a term read to choose how to find their occurrences
#: (see _linked); past it, the term is checked on each occurrence.
FEW_VALUES = 100
#: Occurrences with the values (their counters' sum) up to which their ids
#: are read from their links and put in the list's query. They are its
#: parameters, and an occurrence's page puts its search in one statement
#: three times (sentry.navigation): 20 terms x 500 x 3 stay within SQLite's
#: default limit of 32,766.
FEW_OCCURRENCES = 500
#: Past FEW_OCCURRENCES, a value with fewer than one occurrence in this many
#: of those searched is still read from its links (by a subquery); a
#: commoner one is checked on each occurrence as the list is read.
RARE_SHARE = 100


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
        # The value counters of the term (served by the (group, key, ...)
        # index when the group is known: has:user.id, or a wildcard, reads
        # this group's values of the key, not every group's).
        match = {"key": keys.stored(term.key)}
        if group_id is not None:
            match["group_id"] = group_id
        if not isinstance(term, Has):
            match[f"value__{LOOKUPS[term.mode]}"] = term.value
        if term.negated:
            return _not_linked(match)
        return _linked(match)
    if isinstance(term, Has):
        if column in keys.GROUP_COLUMNS:
            return _negated(Q(), term)
        return _negated(~Q(**{f"{column}__isnull": True}) & ~Q(**{column: ""}), term)
    return _negated(_column_match(column, term), term)


def _linked(match):
    """
    Return "linked to a value counter that meets ``match``" (``match``:
    lookups on ``MessageFilterValue``; with ``group_id``, one error's).

    Two shapes, for the two ways its list is read fastest. The occurrences
    are listed newest first from the ``(group, -datetime)`` index; a value
    that few of them carry is best found from its links -- their ids are
    read first (at most :data:`FEW_OCCURRENCES`), then those rows and no
    other; one that many carry (a browser half the users have) is best
    checked on each occurrence as the index yields them, the first page
    being full after a few dozen (a subquery per occurrence: its links,
    through their ``(message, value)`` index, each looked up among the
    counters). A planner cannot tell which from its statistics (it guesses
    the average value's share: it read a hot value's 20,000 links and
    sorted them, 200 ms on PostgreSQL; and SQLite read the whole error's
    index for a value two occurrences had), so the counters say it: they
    count each value's occurrences, and the errors' counts how many were
    searched. Two to four queries, bounded ones.
    """
    counters = MessageFilterValue.objects.filter(**match)
    found = list(counters.values_list("pk", "times_seen")[: FEW_VALUES + 1])
    if not found:
        return NOTHING
    if len(found) > FEW_VALUES:
        return _checked_each(match)
    ids = [pk for pk, _ in found]
    links = OccurrenceValue.objects.filter(value_id__in=ids)
    counted = sum(n for _, n in found)
    if counted <= FEW_OCCURRENCES:
        occurrences = list(
            links.values_list("message_id", flat=True)[: FEW_OCCURRENCES + 1]
        )
        if len(occurrences) <= FEW_OCCURRENCES:  # as counted, unless edited
            return Q(pk__in=occurrences) if occurrences else NOTHING
    total = _scope_total(match)
    if total is not None and counted * RARE_SHARE < total:
        # More than a page of ids, but rare among the occurrences searched:
        # still read from its links (the database joins them), not found by
        # checking a hundred or more occurrences for each one shown.
        return Q(pk__in=links.values("message_id"))
    return _checked_each(match)


def _scope_total(match):
    """Return the occurrences counted in the error searched, or in all errors."""
    groups = GroupedMessage.objects.all()
    if "group_id" in match:
        groups = groups.filter(pk=match["group_id"])
    return groups.aggregate(n=Sum("times_seen"))["n"]


def _not_linked(match):
    """
    Return "linked to no counter that meets ``match``" (a ``!key:value``).

    Checked on each occurrence: those without the value come at once, unless
    nearly all have it. Not ``NOT IN`` the value's links: PostgreSQL checks
    a set too large for its memory by reading it again for each occurrence
    (minutes, for ``!has:user.id`` over a million). For one error, a value
    all its occurrences were counted with leaves none, said without reading
    them (``!has:user.id`` where every event named its user); so does one
    all occurrences of all errors were counted with, for the occurrences of
    all errors (the feed). Two queries, over the value's counters and the
    errors' counts.
    """
    counted = MessageFilterValue.objects.filter(**match).aggregate(n=Sum("times_seen"))[
        "n"
    ]
    if not counted:
        return Q()  # no occurrence has it
    # Equal, not "at least": an error's count edited by hand (lowered) says
    # nothing of its occurrences.
    if counted == _scope_total(match):
        return NOTHING
    return ~_checked_each(match)


def _checked_each(match):
    """
    Return "linked to a counter that meets ``match``", checked per occurrence.

    Its links (the ``(message, value)`` index), each looked up in the set of
    the counters' ids, built once. A scalar subquery compared with ``>``,
    not EXISTS: PostgreSQL turns an EXISTS into a join read from the links'
    side (the shape avoided here), and guesses that an ``IS NULL`` or ``=``
    of an expression keeps 1 row in 200, which made it plan to read
    thousands of rows and compile the plan (JIT) for 20-270 ms; ``>`` it
    guesses keeps a third. ``value_id + 0``, not ``value_id``, which SQLite
    would look up in that index once for each of the counters (50,000 for
    ``has:user.id``).
    """
    counters = MessageFilterValue.objects.filter(**match)
    first_link = (
        OccurrenceValue.objects.annotate(counter=F("value_id") + 0)
        .filter(message_id=OuterRef("pk"), counter__in=counters.values("pk"))
        .values("value_id")[:1]
    )
    found = Coalesce(Subquery(first_link), 0, output_field=BigIntegerField())
    return Q(GreaterThan(found, 0))


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
