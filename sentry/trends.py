"""
Events per hour, read from the per-minute counters of the groups
(``MessageCountByMinute``) or the hourly counters of the projects
(``ProjectCountByHour``).

Each function runs one aggregate query, whatever the number of groups or
occurrences: the database sums the minutes into hours, and Python only lays
the sums out as a list with one number per hour (zeros included).
"""

import datetime as dt
import functools

from django.db import connections
from django.db.models import Func, IntegerField, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from .models import MessageCountByMinute, ProjectCountByHour, ValueCountByHour

HOUR = dt.timedelta(hours=1)

#: The ranges of the group page's trend chart: name -> (label, hours).
RANGES = {
    "24h": ("24 hours", 24),
    "7d": ("7 days", 24 * 7),
    "30d": ("30 days", 24 * 30),
}
DEFAULT_RANGE = "24h"
#: Hours shown by the stream's sparklines.
SPARKLINE_HOURS = 24


class HourIndex(Func):
    """
    The whole hours between ``start`` and a datetime column, as an integer.

    Computed by the database so that only small integers come back: turning
    thousands of returned datetimes into Python objects would cost more than
    the query itself.
    """

    output_field = IntegerField()

    def __init__(self, expression, start):
        super().__init__(expression)
        self.start_epoch = int(start.timestamp())

    def as_sqlite(self, compiler, connection, **extra_context):
        # julianday() is the cheapest date function SQLite has (twice as fast
        # as strftime('%s') on a month of counts). The counters' dates are
        # whole minutes, so the 0.36 s nudge only absorbs rounding and never
        # moves a count to the next hour.
        sql, params = compiler.compile(self.source_expressions[0])
        start_julian = self.start_epoch / 86_400 + 2_440_587.5
        return (
            f"CAST((julianday({sql}) - %s) * 24 + 0.0001 AS INTEGER)",
            (*params, start_julian),
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"((EXTRACT(EPOCH FROM {sql})::bigint - %s) / 3600)",
            (*params, self.start_epoch),
        )


#: Databases that compute :class:`HourIndex`; others sum per TruncHour.
HOUR_INDEX_VENDORS = ("sqlite", "postgresql")


def window(hours, now=None):
    """Return ``(start, end)``: the last ``hours`` whole hours up to ``now``."""
    now = now or timezone.now()
    end = now.replace(minute=0, second=0, microsecond=0) + HOUR
    return end - hours * HOUR, end


def hourly_counts(group_ids, hours, now=None):
    """
    Return ``{group_id: [count per hour, oldest first]}`` for ``group_ids``.

    Every id gets ``hours`` numbers. One query.
    """
    start, end = window(hours, now)
    series = {group_id: [0] * hours for group_id in group_ids}
    if not series:
        return series
    counts = MessageCountByMinute.objects.filter(
        group__in=list(series), date__gte=start, date__lt=end
    )
    return _sum_per_hour(counts, "group_id", series, start)


def hourly_value_counts(group_ids, key, value, hours, now=None):
    """
    Return ``{group_id: [count per hour, oldest first]}`` of one key's value.

    Read from ``ValueCountByHour``, kept for the keys of
    :data:`sentry.tags.TREND_KEYS` only (others count nothing here). One query.
    """
    start, end = window(hours, now)
    series = {group_id: [0] * hours for group_id in group_ids}
    if not series:
        return series
    counts = ValueCountByHour.objects.filter(
        group__in=list(series), key=key, value=value, date__gte=start, date__lt=end
    )
    return _sum_per_hour(counts, "group_id", series, start)


def hourly_counts_by_project(project_ids, hours, now=None):
    """
    Return ``{project_id: [count per hour, oldest first]}`` for ``project_ids``.

    Read from the per-project hourly counters (``ProjectCountByHour``): one
    query over ``hours`` rows per project, however many groups, minutes or
    occurrences the projects have.
    """
    start, end = window(hours, now)
    series = {project_id: [0] * hours for project_id in project_ids}
    if not series:
        return series
    counts = ProjectCountByHour.objects.filter(
        project__in=list(series), date__gte=start, date__lt=end
    )
    return _sum_per_hour(counts, "project_id", series, start)


def _sum_per_hour(counts, key, series, start):
    """Add the hourly sums of ``counts``, per ``key``, into ``series``."""
    hours = len(next(iter(series.values())))
    if connections[counts.db].vendor in HOUR_INDEX_VENDORS:
        counts = counts.annotate(hour=HourIndex("date", start))
        to_index = int
    else:
        counts = counts.annotate(hour=TruncHour("date", tzinfo=dt.UTC))
        to_index = functools.partial(_hour_index, start=start)
    rows = counts.values_list(key, "hour").annotate(total=Sum("times_seen")).order_by()
    for key_value, hour, total in rows:
        index = to_index(hour)
        if index is not None and 0 <= index < hours:
            series[key_value][index] += total
    return series


def group_trend(group_id, range_name, now=None):
    """Return a :class:`Trend` of one group over a named range. One query."""
    label, hours = RANGES.get(range_name, RANGES[DEFAULT_RANGE])
    start, end = window(hours, now)
    counts = hourly_counts([group_id], hours, now)[group_id]
    return Trend(counts, start, end, label)


def _hour_index(hour, start):
    if hour is None:
        return None
    if timezone.is_naive(hour):
        hour = hour.replace(tzinfo=dt.UTC)
    return int((hour - start) // HOUR)


class Trend:
    """Counts per hour between ``start`` and ``end``."""

    def __init__(self, counts, start, end, label):
        self.counts = counts
        self.start = start
        self.end = end
        self.label = label

    @property
    def total(self):
        return sum(self.counts)

    @property
    def peak(self):
        return max(self.counts, default=0)
