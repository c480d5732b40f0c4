"""
Decide, exactly, whether a rule that counts events fires now.

The counts are the ones recording keeps (``MessageCountByMinute`` and
``GroupedMessage.times_seen``), read after the events' transaction has
committed. A firing is claimed in :class:`~sentry.alerts.state.AlertFiring`
with an insert that one writer only can win, so several processes deciding
at once (each digest, each server) send one message, not one each.

The window of ``{"events": N, "minutes": M}``: at a moment in minute ``t``
(UTC, minute granularity as the counters are), the count is the sum of the
group's per-minute counts from minute ``t - (M - 1)`` on: the current minute
and the ``M - 1`` before it (events stamped up to a minute ahead count
too). The rule fires when that count is ``N`` or more and it has not fired
for the group in the last ``M`` minutes: after firing in minute ``f`` it
fires next in minute ``f + M`` at the earliest, and only on ``N`` events
counted from minute ``f + 1`` on, none of them counted twice.

The rate limit (``"every": E``) is kept in the same table, per group: a
rule fires again for a group only ``E`` minutes (exactly, not in whole
minutes) after it last did.

Each kind of channel (webhook, Slack...) decides on its own, in its
plugin's thread: a rule naming a webhook and a Slack channel fires once for
each of the two kinds.
"""

import datetime as dt
import os
import threading
import weakref
from collections import OrderedDict

from django.db.models import Sum
from django.utils import timezone

from ..db import get_write_alias, insert_new
from ..models import MessageCountByMinute
from .state import AlertFiring

#: Firings remembered by this process (to skip the database until a
#: window is over), at most this many.
REMEMBERED = 10_000


def now():
    """Return the time rules are decided at (the tests set it)."""
    return timezone.now()


def fires(rule, target, group):
    """
    Return whether ``rule`` sends its message about ``group`` now.

    ``target`` is the kind of channel asking. For a counted or rate-limited
    rule, a firing is claimed (and ``True`` returned) by one caller only,
    whichever process it runs in. Call it only for an event
    ``rule.matches``.
    """
    if not rule.remembers:
        return True
    if rule.counted:
        if group.times_seen < rule.count:
            # Neither condition can hold below its count: no query.
            return False
        if not _first_look(rule, target, group):
            # Another event of the same batch: the group was read after the
            # whole batch was committed, and that batch has been decided.
            return False
    moment = now()
    if not _may_fire(rule, _remembered(rule, target, group), moment):
        return False
    using = get_write_alias(AlertFiring)
    if rule.when == "frequency" and counted(group, rule.minutes, moment) < rule.count:
        return False
    last = (
        AlertFiring.objects.using(using)
        .filter(rule_key=rule.key, target=target, group=group.pk)
        .order_by("-seq")
        .values_list("seq", "fired_at")
        .first()
    )
    if last is not None:
        _remember(rule, target, group, last[1])
        if not _may_fire(rule, last[1], moment):
            return False
    seq = last[0] + 1 if last else 1
    row = {
        "rule_key": rule.key,
        "target": target,
        "group_id": group.pk,
        "seq": seq,
        "fired_at": moment,
    }
    won = insert_new(
        using, AlertFiring, [row], ("group_id", "rule_key", "target", "seq")
    )
    if won:
        _remember(rule, target, group, moment)
        # Only the last firing is read: the older ones go, so that an error
        # firing every minute does not leave a row a minute for as long as
        # it is kept. The one before is kept too, so that a caller that read
        # it just now still finds its claim taken.
        AlertFiring.objects.using(using).filter(
            rule_key=rule.key, target=target, group=group.pk, seq__lt=seq - 1
        ).delete()
    return bool(won)


def counted(group, minutes, moment):
    """Return the group's events in the window of ``minutes`` at ``moment``."""
    start = window_start(minutes, moment)
    rows = MessageCountByMinute.objects.using(get_write_alias(MessageCountByMinute))
    total = rows.filter(group=group.pk, date__gte=start).aggregate(n=Sum("times_seen"))
    return total["n"] or 0


def window_start(minutes, moment):
    """Return the first minute counted in a window of ``minutes`` at ``moment``."""
    minute = moment.replace(second=0, microsecond=0)
    return minute - dt.timedelta(minutes=minutes - 1)


def _may_fire(rule, last, moment):
    """Return whether ``rule``, last fired at ``last``, may fire at ``moment``."""
    if last is None:
        return True
    if rule.when == "reaches":
        return False
    if rule.every and moment < last + dt.timedelta(minutes=rule.every):
        return False
    if rule.when == "frequency":
        # Minute granularity, as the counters: fired in minute f, next in
        # minute f + M.
        fired = last.replace(second=0, microsecond=0)
        return moment >= fired + dt.timedelta(minutes=rule.minutes)
    return True


# What this process knows. Two threads (two kinds of channel) may use it at
# once; a weak reference's callback may run in either while it holds the
# lock: hence a re-entrant one.
_lock = threading.RLock()
_fired = OrderedDict()
_looked = {}


def _remembered(rule, target, group):
    with _lock:
        return _fired.get((rule.key, target, group.pk))


def _remember(rule, target, group, fired_at):
    # Only what some process did fire: a window this process believes
    # running is running, so skipping the database meanwhile misses nothing.
    key = (rule.key, target, group.pk)
    with _lock:
        _fired[key] = fired_at
        _fired.move_to_end(key)
        while len(_fired) > REMEMBERED:
            _fired.popitem(last=False)


def _first_look(rule, target, group):
    """
    Return whether ``rule`` has not yet looked at this very ``group`` object.

    The hook gets one group object per batch (read once the batch was
    committed) for all the batch's events of that group: its counts are the
    same for each of them, so one decision covers them all.
    """
    key = (target, group.pk)
    with _lock:
        entry = _looked.get(key)
        if entry is None or entry[0]() is not group:
            entry = (weakref.ref(group, _forget(key)), set())
            _looked[key] = entry
        if rule.key in entry[1]:
            return False
        entry[1].add(rule.key)
        return True


def _forget(key):
    def forget(ref):
        with _lock:
            entry = _looked.get(key)
            if entry is not None and entry[0] is ref:
                del _looked[key]

    return forget


def forget_all():
    """Forget what this process remembers (the tests' fresh start)."""
    with _lock:
        _fired.clear()
        _looked.clear()


def _after_fork():
    # A lock held by another thread at the fork would never be released in
    # the child; what the parent remembered stays true.
    global _lock
    _lock = threading.RLock()


os.register_at_fork(after_in_child=_after_fork)
