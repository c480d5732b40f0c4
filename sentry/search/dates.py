"""
Read the value of ``firstSeen:`` / ``lastSeen:`` into bounds on a datetime column.

``-24h`` is within the last 24 hours, ``+7d`` longer ago than 7 days (units:
``m`` minutes, ``h`` hours, ``d`` days, ``w`` weeks). A date (``2026-12-01``)
is that day in UTC; a date and time (``2026-12-01T08:00``, ISO 8601, UTC
unless it names an offset) is from then on. ``>``, ``>=``, ``<`` and ``<=``
compare with a date, a date and time or a relative time (``<-7d``: before a
week ago).
"""

import datetime as dt

UNITS = {
    "m": dt.timedelta(minutes=1),
    "h": dt.timedelta(hours=1),
    "d": dt.timedelta(days=1),
    "w": dt.timedelta(weeks=1),
}
#: Most digits in a relative amount: 999999 weeks is past any date anyway.
MAX_DIGITS = 6
COMPARISONS = (">=", "<=", ">", "<")
LOOKUPS = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt"}


def bounds(value, now):
    """
    Return ``((lookup, datetime), ...)`` for ``value``.

    Raise ValueError when it is not a date, OverflowError when it is
    outside the calendar.
    """
    for operator in COMPARISONS:
        if value.startswith(operator):
            return ((LOOKUPS[operator], point(value[len(operator) :], now)),)
    if value[:1] == "+":
        return (("lt", now - _relative(value[1:])),)
    if value[:1] == "-":
        return (("gte", now - _relative(value[1:])),)
    moment = absolute(value)
    if len(value) == len("2026-12-01"):
        return (("gte", moment), ("lt", moment + dt.timedelta(days=1)))
    return (("gte", moment),)


def point(value, now):
    """Return the moment ``value`` names: ``-24h`` (ago) or an absolute date."""
    if value[:1] == "-":
        return now - _relative(value[1:])
    return absolute(value)


def _relative(value):
    amount, unit = value[:-1], value[-1:]
    if unit not in UNITS or len(amount) > MAX_DIGITS:
        raise ValueError(value)
    number = int(amount) if amount.isascii() and amount.isdigit() else None
    if number is None:
        raise ValueError(value)
    return UNITS[unit] * number


def absolute(value):
    """Return ``2026-12-01`` or an ISO 8601 date and time as an aware datetime."""
    # The shape first, so that fromisoformat only sees what starts like a
    # date (it reads several other forms, such as week dates).
    if len(value) < 10 or value[4] != "-" or value[7] != "-":
        raise ValueError(value)
    if not all(value[i].isascii() and value[i].isdigit() for i in (0, 1, 2, 3)):
        raise ValueError(value)
    if len(value) > 10 and value[10] not in "T ":
        raise ValueError(value)
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    # In UTC here, as the database will want it: 0001-01-01T00:00+14:00 is
    # before the first day a datetime holds (OverflowError: out of range).
    return moment.astimezone(dt.UTC)
