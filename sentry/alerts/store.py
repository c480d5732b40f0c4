"""
The channels and rules saved on the dashboard, read for delivering; the log.

Rows are turned into :class:`~sentry.alerts.config.Channel` and
:class:`~sentry.alerts.config.Rule` objects by the parser that reads the
settings (``config._channel`` and ``config._rule``): what a saved rule may
say is what a declared one may say.

Reading the rows for every event would cost two queries per event: a
process reads them at most once every :data:`CACHE_SECONDS`, and at once
after it saved or deleted one itself. Another process (another gunicorn
worker, the digest) sees a change within :data:`CACHE_SECONDS`.
"""

import dataclasses
import logging
import os
import threading
import time

from django.core.signals import setting_changed
from django.db import OperationalError, connections, transaction
from django.db.models.signals import post_delete, post_save

from ..db import get_write_alias, outside_host_transaction
from . import config
from .models import (
    ERROR_MAX_LENGTH,
    KEEP_DELIVERIES,
    NAME_MAX_LENGTH,
    AlertChannel,
    AlertDelivery,
    AlertRule,
)

logger = logging.getLogger("sentry.errors")

#: Seconds a process keeps the saved channels and rules before reading them again.
CACHE_SECONDS = 5

_lock = threading.Lock()
_cache = {"expires": 0.0, "rows": None}
_reported = set()


def _after_fork():
    # A fork while a delivery thread held the lock would leave the child a
    # lock nobody releases (gunicorn forks its workers from a master that
    # may have delivered).
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def forget(**kwargs):
    """Make the next :func:`saved` read the rows again (connected to signals)."""
    _cache["expires"] = 0.0


def connect_signals():
    """Forget the cached rows whenever this process saves or deletes one."""
    # And when the settings change (a test's override_settings, say).
    setting_changed.connect(forget, dispatch_uid="sentry-alerts-settings")
    for model in (AlertChannel, AlertRule):
        post_save.connect(forget, sender=model, dispatch_uid=f"sentry-alerts-{model}")
        post_delete.connect(
            forget, sender=model, dispatch_uid=f"sentry-alerts-del-{model}"
        )


def _report(text, *args):
    # Once per process and problem, not once per event.
    message = text % args
    if message not in _reported:
        _reported.add(message)
        logger.error(text, *args)


def saved_rows():
    """
    Return ``(channels, rules)``: the enabled rows, cached (see above).

    Never raises: a database that cannot be read (tables not made yet, a
    broken host transaction) gives the rows read last, or none.
    """
    now = time.monotonic()
    rows = _cache["rows"]
    if rows is not None and _cache["expires"] > now:
        return rows
    try:
        alias = get_write_alias(AlertRule)
        rows = outside_host_transaction(_read, alias)
    except Exception as exc:
        _report("Alert channels and rules saved on the dashboard unread: %r", exc)
        return _cache["rows"] or ([], [])
    with _lock:
        _cache["rows"] = rows
        _cache["expires"] = now + CACHE_SECONDS
    return rows


def _read(alias):
    channels = list(AlertChannel.objects.using(alias).filter(enabled=True))
    rules = list(
        AlertRule.objects.using(alias).filter(enabled=True).select_related("project")
    )
    return channels, rules


def merge(declared_channels, declared_rules):
    """
    Return ``(channels, rules)``: the declared ones and the saved ones.

    A saved row the parser cannot read (a channel's name taken by the
    settings since, a rule whose channels are all disabled or gone) is left
    out and logged once; the others still deliver.
    """
    channel_rows, rule_rows = saved_rows()
    channels = dict(declared_channels)
    scope = {}
    for row in channel_rows:
        if row.name in declared_channels:
            _report(
                "Alert channel %r saved on the dashboard is not used: the "
                "settings declare a channel of that name",
                row.name,
            )
            continue
        try:
            channels[row.name] = config._channel(row.name, row.spec())
        except config.ConfigError as exc:
            _report("Alert channel saved on the dashboard not used: %s", exc)
            continue
        scope[row.name] = row.project_id
    rules = list(declared_rules)
    for row in rule_rows:
        try:
            rule = read_rule(row, channels, scope)
        except config.ConfigError as exc:
            _report("Alert rule %s saved on the dashboard not used: %s", row.pk, exc)
            continue
        if rule is not None:
            rules.append(rule)
    return channels, rules


def read_rule(row, channels, scope=None):
    """
    Return the :class:`config.Rule` of a saved rule, or None when it sends nowhere.

    Its channels that are disabled or gone are dropped; a channel of another
    project is refused (:class:`config.ConfigError`).
    """
    names = [name for name in row.channel_names if name in channels]
    if not names:
        return None
    for name in names:
        owner = (scope or {}).get(name)
        if owner is not None and owner != row.project_id:
            raise config.ConfigError(
                f"channel {name!r} belongs to another project than the rule"
            )
    spec = row.spec()
    spec["channels"] = names
    rule = config._rule(row.pk, spec, channels)
    return dataclasses.replace(rule, key=row.key)


def record(channel, group, ok, *, rule="", status=None, error="", attempts=1):
    """
    Log one delivery's outcome; keep the channel's newest ones only.

    Never raises, and never holds deliveries up for long: on SQLite the
    write waits at most :data:`LOG_WAIT_SECONDS` for another writer, and
    an entry that could not be written waits for the next one (at most
    :data:`MAX_PENDING` wait; past that they are dropped and reported to
    ``sentry.errors``).
    """
    entry = {
        "channel": str(channel.name)[:NAME_MAX_LENGTH],
        "rule": str(rule)[:200],
        "group_id": getattr(group, "pk", None),
        "ok": bool(ok),
        "status": status if isinstance(status, int) and 0 <= status < 32768 else None,
        "error": str(error)[:ERROR_MAX_LENGTH],
        "attempts": max(1, min(int(attempts), 32767)),
    }
    with _lock:
        _pending.append(entry)
        if len(_pending) > MAX_PENDING:
            del _pending[0]
            _report("Alert delivery log full: entries dropped (database locked)")
        entries = list(_pending)
        _pending.clear()
    try:
        alias = get_write_alias(AlertDelivery)
        outside_host_transaction(lambda using: _write(using, entries), alias)
    except OperationalError:
        # Locked by a long writer: written with the next delivery.
        with _lock:
            _pending[:0] = entries[-MAX_PENDING:]
    except Exception as exc:
        logger.error(
            "Delivery to alert channel %r not logged: %r", entry["channel"], exc
        )


#: Seconds a delivery log write waits for another SQLite writer.
LOG_WAIT_SECONDS = 1
#: Entries kept in memory while the database is locked.
MAX_PENDING = 100
_pending = []


def _write(using, entries):
    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            timeout = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA busy_timeout = {LOG_WAIT_SECONDS * 1000}")
        try:
            return _insert(using, entries)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {int(timeout)}")
    return _insert(using, entries)


def _insert(using, entries):
    from ..models import GroupedMessage

    groups = {e["group_id"] for e in entries if e["group_id"] is not None}
    if groups:
        # Deleted since (or not visible yet): logged without its group.
        groups = set(
            GroupedMessage.objects.using(using)
            .filter(pk__in=groups)
            .values_list("pk", flat=True)
        )
    rows = []
    for entry in entries:
        if entry["group_id"] not in groups:
            entry = {**entry, "group_id": None}
        rows.append(AlertDelivery(**entry))
    deliveries = AlertDelivery.objects.using(using)
    with transaction.atomic(using=using):
        deliveries.bulk_create(rows)
        # The oldest past the newest KEEP_DELIVERIES of each channel go.
        for name in {entry["channel"] for entry in entries}:
            older = (
                deliveries.filter(channel=name)
                .order_by("-id")
                .values_list("id", flat=True)[KEEP_DELIVERIES : KEEP_DELIVERIES + 1]
            )
            last = list(older)
            if last:
                deliveries.filter(channel=name, id__lte=last[0]).delete()
