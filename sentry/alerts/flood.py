"""
Under a flood of new errors, one summary instead of a message for each.

A ``"new"`` rule sends its first ``K`` messages of a minute (UTC, per
project and kind of channel; ``K`` is the rule's ``flood_limit`` or
:setting:`SENTRY_ALERT_FLOOD_LIMIT`) as usual. Each further new error of
that minute is collected, and once the minute is over (and
:data:`GRACE` seconds more, for the decisions still under way) one
message says "N more new errors in <project>", linked to the project's
stream. Every message takes a numbered slot in
:class:`~sentry.alerts.state.AlertFlood` with an insert one writer only can
win, and the summary claims slot 0 the same way: exact, and one summary,
with any number of processes.

The summary is sent by a timer in the plugin's own thread
(:func:`sentry.postprocess.call_later`). A process that exits before its
timer loses it; the collected errors stay in the table, and the next
summary this rule sends to this kind of channel (any process's) also sends
the summaries of the last day's minutes nobody summed up.
"""

import datetime as dt
import logging
import os
import threading
from typing import NamedTuple

from django.db import DatabaseError

from .. import postprocess
from ..conf import settings
from ..db import get_write_alias, insert_new
from ..models import Project
from . import config, rules
from .messages import summary_facts
from .state import AlertFlood

logger = logging.getLogger("sentry.errors")

#: Seconds after the end of a minute before its summary is sent.
GRACE = 5.0
#: How far back a summary looks for minutes nobody summed up.
LATE = dt.timedelta(days=1)
UNIQUE = ("rule_key", "target", "project_id", "minute", "slot")


class Minute(NamedTuple):
    """One minute of one rule's new errors, in one project, for one kind."""

    rule_key: str
    target: str
    project_id: int
    minute: dt.datetime


def limit(rule):
    """Return the rule's new-error messages a minute; 0 for no limit."""
    if rule.flood_limit is None:
        return settings.ALERT_FLOOD_LIMIT
    return rule.flood_limit


def holds(plugin, rule, group):
    """
    Return whether ``rule``'s message about new ``group`` is held back.

    Held back: past the rule's limit for this minute, it is collected into
    the minute's summary, which ``plugin`` (whose kind is asking) is set to
    send once the minute is over.
    """
    most = limit(rule)
    if rule.when != "new" or not most:
        return False
    moment = rules.now()
    key = Minute(
        rule.key, plugin.kind, group.project_id, moment.replace(second=0, microsecond=0)
    )
    try:
        slot = _take_slot(key, most)
    except DatabaseError:
        # The count cannot be kept just now: better a message too many than
        # a new error nobody hears of.
        logger.exception("Flood limit of alert rule %s not applied", rule.key)
        return False
    if slot <= most:
        return False
    _schedule(plugin, key, moment)
    return True


def _take_slot(key, most):
    """Take the minute's next slot; return its number."""
    using = get_write_alias(AlertFlood)
    taken = _rows(key, using).filter(slot__gt=0)
    # Each lost insert is another writer's won one: it ends. Slots are
    # taken in turn, so the highest is their number, read from the end of
    # the unique index (ORDER BY ... LIMIT 1: PostgreSQL's MAX() read the
    # whole range when its statistics were behind the flood). Counting them
    # read the minute's rows for each new error: N errors read N*N/2.
    while True:
        slot = (taken.order_by("-slot").values_list("slot", flat=True).first() or 0) + 1
        row = {**key._asdict(), "slot": slot, "collected": slot > most}
        if insert_new(using, AlertFlood, [row], UNIQUE):
            break
    if slot == 1:
        # Once a minute at most: the rows of long-past minutes go.
        old = AlertFlood.objects.using(using).filter(
            rule_key=key.rule_key,
            target=key.target,
            project=key.project_id,
            minute__lt=key.minute - LATE,
        )
        old.delete()
    return slot


def _rows(key, using):
    return AlertFlood.objects.using(using).filter(
        rule_key=key.rule_key,
        target=key.target,
        project=key.project_id,
        minute=key.minute,
    )


_lock = threading.Lock()
_scheduled = set()


def _schedule(plugin, key, moment):
    with _lock:
        if key in _scheduled:
            return
        _scheduled.add(key)
    due = key.minute + dt.timedelta(minutes=1, seconds=GRACE)
    delay = min((due - moment).total_seconds(), 60 + GRACE)
    postprocess.call_later(plugin, delay, lambda: summarise(plugin, key))


def summarise(plugin, key):
    """Send the summary of ``key``'s minute, and of any nobody sent."""
    with _lock:
        _scheduled.discard(key)
    for minute in [key, *_unsent(key)]:
        _send(plugin, minute)


def _unsent(key):
    """Return the rule's minutes before ``key``'s with no summary sent."""
    using = get_write_alias(AlertFlood)
    recent = AlertFlood.objects.using(using).filter(
        rule_key=key.rule_key,
        target=key.target,
        minute__lt=key.minute,
        minute__gte=key.minute - LATE,
    )
    collected = set(recent.filter(collected=True).values_list("project", "minute"))
    sent = set(recent.filter(slot=0).values_list("project", "minute"))
    return [
        Minute(key.rule_key, key.target, project_id, minute)
        for project_id, minute in sorted(collected - sent)
    ]


def _send(plugin, key):
    using = get_write_alias(AlertFlood)
    claim = {**key._asdict(), "slot": 0, "collected": False}
    if not insert_new(using, AlertFlood, [claim], UNIQUE):
        return  # another process sends it
    count = _rows(key, using).filter(collected=True).count()
    channels, known = config.usable()
    rule = next((rule for rule in known if rule.key == key.rule_key), None)
    project = Project.objects.using(using).filter(pk=key.project_id).first()
    if not count or rule is None or project is None:
        return  # nothing collected, or the rule or project is gone
    about = summary_facts(project, count, key.minute)
    for name in rule.channels:
        if channels[name].kind == key.target:
            plugin.deliver_with_retries(
                channels[name], None, None, about, rule=rule.key
            )


def forget_all():
    """Forget the summaries this process has set to send (the tests')."""
    with _lock:
        _scheduled.clear()


def _after_fork():
    # The parent's timers are not the child's (sentry.postprocess forgets
    # its workers at a fork): the child schedules its own summaries.
    global _lock, _scheduled
    _lock = threading.Lock()
    _scheduled = set()


os.register_at_fork(after_in_child=_after_fork)
