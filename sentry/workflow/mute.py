"""
Muting, resolving and reopening groups, each change written to their history.

A mute has one condition, given as a dict (the API's body, or the
dashboard's form read into one):

* ``{}``: forever (until someone unmutes it);
* ``{"minutes": N}`` or ``{"until": "<ISO 8601>"}``: until a moment;
* ``{"count": N}``: until it is seen N more times;
* ``{"users": N}``: until N more users are affected.

The count and users thresholds are stored as the values ``times_seen`` and
``users`` must reach (computed by the database from the row as it is, so a
concurrent write is never missed), and checked by :mod:`sentry.storage` in
the transaction that counts the events: exactly one batch sees a threshold
crossed, and records the unmute. A mute by date needs no write to end: the
group reads as unmuted once the moment has passed (:func:`unmuted_now`), and
the first event after it records the unmute.
"""

import datetime as dt

from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Least
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..constants import STATUS_RESOLVED, STATUS_UNRESOLVED
from ..models import GroupedMessage
from ..params import parse_int
from .models import MUTED, RESOLVED, UNMUTED, UNRESOLVED, GroupActivity

#: The dashboard's mute durations: name -> (label, minutes).
DURATIONS = {
    "1h": ("for an hour", 60),
    "24h": ("for 24 hours", 24 * 60),
    "7d": ("for 7 days", 7 * 24 * 60),
}
#: The largest duration, count or number of users a mute takes.
MAX_MINUTES = 10 * 366 * 24 * 60
MAX_NUMBER = 10**9
#: The largest threshold: what a ``PositiveIntegerField`` holds everywhere.
MAX_THRESHOLD = 2**31 - 1
CONDITIONS = ("minutes", "until", "count", "users")


#: Most groups one transaction of a change (mute, resolve...) writes.
CHUNK = 500


class MuteError(ValueError):
    """A mute condition that cannot be read: the message says why."""


class TooManyGroups(Exception):
    """More groups than a change may write at once: nothing was changed."""

    def __init__(self, limit):
        super().__init__(
            f"More than {limit:,} errors match: nothing was changed. Narrow the "
            f"search (a project, a level, a date) to at most {limit:,} and try again."
        )
        self.limit = limit


def read_condition(body, now=None):
    """
    Return ``body`` (a dict) checked: ``{}`` or one of :data:`CONDITIONS`.

    ``until`` comes back as an aware datetime; raise :class:`MuteError`.
    """
    if not isinstance(body, dict):
        raise MuteError("The body must be a JSON object.")
    unknown = sorted(set(body) - set(CONDITIONS))
    if unknown:
        raise MuteError(
            f"Unknown field {unknown[0]!r}; use one of {', '.join(CONDITIONS)}."
        )
    if len(body) > 1:
        raise MuteError("Give at most one condition: " + ", ".join(CONDITIONS) + ".")
    if not body:
        return {}
    ((name, value),) = body.items()
    if name == "until":
        return {"until": _moment(value, now or timezone.now())}
    limit = MAX_MINUTES if name == "minutes" else MAX_NUMBER
    # bool is an int in Python: true is not a number of minutes.
    if type(value) is not int or not 1 <= value <= limit:
        raise MuteError(f"{name!r} must be a whole number from 1 to {limit}.")
    return {name: value}


def _moment(value, now):
    if not isinstance(value, str) or len(value) > 64:
        raise MuteError("'until' must be an ISO 8601 date and time.")
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        moment = None
    if moment is None:
        raise MuteError("'until' must be an ISO 8601 date and time.")
    if timezone.is_naive(moment):
        # No offset given: UTC, the dashboard's and the API's time.
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        # In UTC from here: the history tells the moment as "... UTC".
        moment = moment.astimezone(dt.UTC)
    except OverflowError:
        # Year 1 at +23:00, year 9999 at -23:00: no moment in UTC.
        raise MuteError("'until' is out of range.") from None
    if moment <= now:
        raise MuteError("'until' must be in the future.")
    if moment > now + dt.timedelta(minutes=MAX_MINUTES):
        raise MuteError("'until' is too far in the future (ten years at most).")
    return moment


def form_condition(post):
    """
    Return the mute condition the dashboard's form asks for (a dict).

    ``for`` names a duration (1h, 24h, 7d) or ``forever``; ``until`` a date
    and time; ``count`` or ``users`` a number. Nothing: forever.
    """
    chosen = (post.get("for") or "").strip()
    if chosen not in ("", "forever", *DURATIONS):
        raise MuteError(f"Unknown duration {chosen!r}.")
    given = {}
    if chosen in DURATIONS:
        given["minutes"] = DURATIONS[chosen][1]
    for name in ("until", "count", "users"):
        value = (post.get(name) or "").strip()
        if not value:
            continue
        if name != "until":
            value = parse_int(value)
            if value is None:
                raise MuteError(f"{name!r} must be a whole number.")
        given[name] = value
    # The stream's form has every field at once: two filled in is a mistake
    # to point out, not a choice to make for the user ("forever" is the
    # choice of none).
    if len(given) > 1:
        raise MuteError(
            "Give one condition: a duration, a date, a number of times or "
            "a number of users."
        )
    return given


def describe(condition):
    """Return how a mute is told in the history: "Muted for 60 minutes"."""
    if "minutes" in condition:
        return f"Muted for {condition['minutes']} minutes"
    if "until" in condition:
        until = condition["until"]
        if isinstance(until, str):
            until = parse_datetime(until)
        return f"Muted until {until:%Y-%m-%d %H:%M} UTC"
    if "count" in condition:
        return f"Muted until seen {condition['count']} more times"
    if "users" in condition:
        return f"Muted until {condition['users']} more users are affected"
    return "Muted forever"


def state_text(group):
    """Return how a muted group's condition is told: "Muted until seen 40 times"."""
    parts = []
    if group.muted_until is not None:
        parts.append(f"until {group.muted_until.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC")
    if group.muted_until_times_seen is not None:
        parts.append(f"until seen {group.muted_until_times_seen} times")
    if group.muted_until_users is not None:
        parts.append(f"until {group.muted_until_users} users are affected")
    return "Muted " + (", ".join(parts) if parts else "forever")


def mute_changes(condition, now):
    """Return the column values that mute a group under ``condition``."""
    until = condition.get("until")
    if "minutes" in condition:
        until = now + dt.timedelta(minutes=condition["minutes"])
    count, users = condition.get("count"), condition.get("users")
    return {
        # Muting a resolved group makes it an unresolved, muted one: muting
        # is a state of unresolved groups.
        "status": STATUS_UNRESOLVED,
        "resolved_at": None,
        "resolved_in_release": None,
        "resolved_in_next": False,
        "muted": True,
        "muted_until": until,
        "muted_until_times_seen": _threshold("times_seen", count),
        "muted_until_users": _threshold("users", users),
    }


def _threshold(column, more):
    """Return ``column + more``, at most :data:`MAX_THRESHOLD`, or None."""
    if more is None:
        return None
    # Capped before the sum: PostgreSQL's integer overflows past 2**31 - 1.
    return Least(F(column), Value(MAX_THRESHOLD - more)) + more


def mute(groups, condition, user, now=None, limit=None):
    """Mute the groups of ``groups`` (a queryset); return how many."""
    now = now or timezone.now()
    data = {
        key: value.isoformat() if isinstance(value, dt.datetime) else value
        for key, value in condition.items()
    }
    text = describe(condition)

    def change(ids):
        return GroupedMessage.objects.filter(pk__in=ids).update(
            **mute_changes(condition, now)
        )

    return _change(groups, change, MUTED, user, now, text=text, data=data, limit=limit)


def unmute(groups, user, now=None, limit=None):
    """Unmute the muted groups of ``groups``; return how many."""
    now = now or timezone.now()

    def change(ids):
        return GroupedMessage.objects.filter(pk__in=ids, muted=True).update(muted=False)

    return _change(groups.filter(muted=True), change, UNMUTED, user, now, limit=limit)


def set_status(groups, status, user, now=None, limit=None):
    """
    Resolve or reopen the groups of ``groups`` that are not so; return how many.

    Resolving ends a mute: a resolved group is reopened by its next event,
    and that regression must be heard.
    """
    now = now or timezone.now()
    # Either way, not resolved in a release any more (sentry.releases).
    values = {"status": status, "resolved_in_release": None, "resolved_in_next": False}
    if status == STATUS_RESOLVED:
        values.update(resolved_at=now, muted=False)
        kind = RESOLVED
        # A group resolved in a release is resolved plainly from now on.
        changing = ~Q(status=status) | Q(resolved_in_release__isnull=False)
    else:
        values.update(resolved_at=None)
        kind = UNRESOLVED
        changing = ~Q(status=status)

    def change(ids):
        return GroupedMessage.objects.filter(changing, pk__in=ids).update(**values)

    return _change(groups.filter(changing), change, kind, user, now, limit=limit)


def _change(groups, change, kind, user, now, text="", data=None, limit=None):
    """
    Apply ``change`` to the groups' ids and record it, :data:`CHUNK` at a time.

    Each chunk is one transaction (its ``UPDATE`` and its history rows), so
    that changing thousands of groups never holds the database's write lock
    (all of it, on SQLite) for longer than one chunk takes. With ``limit``,
    more groups than that raise :class:`TooManyGroups` and change nothing.
    """
    ids = groups.order_by().values_list("pk", flat=True)
    ids = list(ids if limit is None else ids[: limit + 1])
    if limit is not None and len(ids) > limit:
        raise TooManyGroups(limit)
    changed = 0
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        with transaction.atomic(using=groups.db):
            changed += change(part)
            record(part, kind, user, now, text=text, data=data)
    return changed


def record(group_ids, kind, user, now, text="", data=None):
    """Add one history entry per group, in one statement."""
    user_id = getattr(user, "pk", None) if user is not None else None
    GroupActivity.objects.bulk_create(
        [
            GroupActivity(
                group_id=group_id,
                kind=kind,
                date=now,
                user_id=user_id,
                text=text,
                data=data,
            )
            for group_id in group_ids
        ]
    )


def muted_now(now):
    """Return the condition of groups muted at ``now`` (``is:muted``)."""
    return Q(muted=True) & (Q(muted_until__isnull=True) | Q(muted_until__gt=now))


def not_muted_now(now):
    """Return the condition of groups not muted at ``now`` (the default stream)."""
    return Q(muted=False) | Q(muted_until__lte=now)


def unmute_reached(using, group_ids, now):
    """
    Unmute those of ``group_ids`` whose condition is met; return them.

    Run by the storage inside the batch's transaction, after the groups were
    counted: their rows are locked by that count until it commits (SQLite
    has one writer at a time), so exactly one batch unmutes a group. Return
    ``{group_id: (reason, times_seen)}``; ``reason`` is ``until``, ``count``
    or ``users``.
    """
    if not group_ids:
        return {}
    groups = GroupedMessage.objects.using(using)
    reached = (
        Q(muted_until__lte=now)
        | Q(times_seen__gte=F("muted_until_times_seen"))
        | Q(users__gte=F("muted_until_users"))
    )
    rows = list(
        groups.filter(pk__in=sorted(group_ids), muted=True)
        .filter(reached)
        .values_list(
            "pk",
            "muted_until",
            "times_seen",
            "muted_until_times_seen",
            "users",
            "muted_until_users",
        )
    )
    if not rows:
        return {}
    groups.filter(pk__in=[row[0] for row in rows]).update(muted=False)
    unmuted = {}
    for pk, until, times_seen, seen_limit, users, users_limit in rows:
        if seen_limit is not None and times_seen >= seen_limit:
            unmuted[pk] = ("count", times_seen, seen_limit, until)
        elif users_limit is not None and users >= users_limit:
            unmuted[pk] = ("users", times_seen, users_limit, until)
        else:
            unmuted[pk] = ("until", times_seen, None, until)
    return unmuted


def unmute_text(reason, limit, until):
    """Return how an automatic unmute is told in the history."""
    if reason == "count":
        return f"Unmuted: seen {limit} times"
    if reason == "users":
        return f"Unmuted: {limit} users affected"
    return f"Unmuted: the mute ended at {until:%Y-%m-%d %H:%M} UTC"
