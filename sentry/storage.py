"""
Storage: turn prepared events into rows.

One transaction per batch of events (a batch of one for the synchronous
client): find or create each touched group (exactly once, even with
concurrent writers) and count its occurrences with one statement, insert the
``Message`` rows together, and add the summed value and per-minute counts
with one upsert per table.
"""

import datetime as dt
import logging

from django.db import IntegrityError, connections, transaction
from django.db.models import F, Value
from django.db.models.fields import DateTimeField
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from . import packing
from .conf import settings
from .constants import FILTERED_KEYS, STATUS_RESOLVED, STATUS_UNRESOLVED
from .db import (
    DEFERRED,
    get_write_alias,
    insert_new,
    run_in_transaction,
    take_write_lock,
    upsert_counters,
)
from .grouping import chain_cause
from .models import (
    FilterValue,
    GroupedMessage,
    GroupUser,
    Message,
    MessageCountByMinute,
    MessageFilterValue,
    OccurrenceValue,
    Project,
    ProjectCountByHour,
    ValueCountByHour,
    get_score,
    next_short_id,
)
from .occurrences import event_columns
from .releases.environments import KEY as ENVIRONMENT_KEY
from .releases.models import Release
from .releases.resolve import reopening_events
from .search.index import index_groups
from .tags import (  # noqa: F401 (re-exported: the names counters had here)
    MAX_KEY_LENGTH,
    MAX_VALUE_LENGTH,
    OCCURRENCE_COLUMN_KEYS,
    TAG_PREFIX,
    TREND_KEYS,
    USER_KEYS,
    event_tag,
    event_values,
    identity_hash,
    user_identity,
)
from .workflow.models import FIRST_SEEN, REGRESSED, UNMUTED, GroupActivity
from .workflow.mute import unmute_reached, unmute_text

logger = logging.getLogger("sentry.errors")

#: What makes two events one group: their fields, and the group's columns.
GROUP_KEY = ("project_id", "logger", "view", "checksum")
GROUP_KEY_COLUMNS = GROUP_KEY


def group_filter(key):
    """Return the ``filter()`` arguments of the group of ``key``."""
    return dict(zip(GROUP_KEY, key, strict=True))


#: The text columns of an event (``Message``, ``GroupedMessage``).
TEXT_FIELDS = (
    "logger",
    "class_name",
    "message",
    "traceback",
    "view",
    "url",
    "server_name",
    "site",
)
#: What stands for a NUL character in a text column.
NUL_MARK = "\ufffd"


def storable(text):
    """
    Return ``text`` as a text column can hold it: NUL replaced by U+FFFD.

    PostgreSQL's text types cannot hold U+0000 at all (the driver refuses
    the whole statement), so a single NUL sent by a client would make its
    event unrecordable there. U+FFFD is what the other undecodable input
    (lone surrogates, bad UTF-8) already becomes, and visible where shown.
    The pickled ``data`` is bytes and keeps the NUL.
    """
    if text is None or "\x00" not in text:
        return text
    return text.replace("\x00", NUL_MARK)


def make_storable(event):
    """Make the text fields of a prepared event storable, in place."""
    for name in TEXT_FIELDS:
        value = event.get(name)
        if type(value) is str and "\x00" in value:
            event[name] = value.replace("\x00", NUL_MARK)
    return event


class DuplicateEvent(Exception):
    """The event's ``message_id`` is stored already."""

    expected = True


class StoreResult:
    """What storing one event did."""

    __slots__ = (
        "message_id",
        "group_id",
        "created",
        "regressed",
        "stored",
        "duplicate",
        "muted",
        "unmuted",
    )

    def __init__(
        self, message_id, group_id=None, created=False, regressed=False, stored=True
    ):
        self.message_id = message_id
        self.group_id = group_id
        self.created = created
        self.regressed = regressed
        self.stored = stored
        self.duplicate = False
        # The group is muted after this batch: nobody is told of the event.
        self.muted = False
        # This event ended the group's mute (the one that crossed the line).
        self.unmuted = False

    def __repr__(self):
        flags = [
            name
            for name in ("created", "regressed", "stored", "duplicate", "unmuted")
            if getattr(self, name)
        ]
        return f"<StoreResult {self.message_id} group={self.group_id} {flags}>"


def store_event(event, keep_row=True):
    """
    Write ``event`` (a prepared event dict) to the database.

    With ``keep_row=False`` only the counters move (the flood guard). Return
    a :class:`StoreResult`. An event whose ``message_id`` is stored already
    changes nothing.
    """
    alias = get_write_alias(Message)
    try:
        result = run_in_transaction(
            lambda using: store_batch(using, [event], [keep_row])[0], alias
        )
    except DuplicateEvent:
        # Stored by a concurrent writer after the check for duplicates.
        result = StoreResult(event["message_id"], stored=False)
        result.duplicate = True
        return result
    if result is DEFERRED:
        # Written once the host's transaction is over (see sentry.db).
        result = StoreResult(event["message_id"], stored=keep_row)
    return result


def store_batch(using, events, keep_rows=None, before_commit=None):
    """
    Write prepared events in the current transaction; return their results.

    Run inside a transaction on ``using`` (see :func:`sentry.db.run_in_transaction`):
    the whole batch is stored or nothing is. Occurrences of one error are
    counted with one statement for the batch, the ``Message`` rows are
    inserted together and the value and per-minute counters summed before
    they are written, so a batch costs a few statements per *touched group*,
    not per event. Events whose ``message_id`` is stored already (or repeated
    in the batch) count nothing and are reported as duplicates.

    ``keep_rows`` says, per event, whether it gets a ``Message`` row (the
    flood guard); ``before_commit(using)`` runs last, in the same transaction
    (the digest deletes the queue rows it stored there).
    """
    if keep_rows is None:
        keep_rows = [True] * len(events)
    for event in events:
        make_storable(event)
    results = [
        StoreResult(event["message_id"], stored=keep)
        for event, keep in zip(events, keep_rows, strict=True)
    ]
    take_write_lock(using, GroupedMessage)
    fresh = _fresh(using, events, results)

    # One pass over the events: what each touched group gets, and the
    # release each event comes from (None: it names none).
    groups = {}
    releases = {}
    for index in fresh:
        event = events[index]
        key = (event["project"], event["logger"], event["view"], event["checksum"])
        release = releases[index] = event_tag(event, "release")
        group = groups.get(key)
        if group is None:
            groups[key] = group = _GroupBatch(index, event["datetime"])
        group.add(index, event["datetime"], release)

    # The batch's releases exist before any group names them: one INSERT.
    _create_releases(using, events, releases)
    # Projects that get a new group are locked before any group row (their
    # short id counters), so that no writer waits for a project's counter
    # while holding a group another writer waits for.
    _lock_projects_of_new_groups(using, sorted(groups))
    # Resolved groups the batch touches are reopened in one statement
    # (those resolved in a release once counted, below).
    reopened = _reopen(using, sorted(groups))
    new_groups = []
    muted = {}
    in_release = {}
    guard = FloodGuard.from_settings(timezone.now())
    # Sorted: concurrent batches take the groups' row locks in one order.
    for key in sorted(groups):
        group = groups[key]
        wanted = [i for i in group.indexes if results[i].stored]
        group_id, created, is_muted, kept, resolved_in = _count_group(
            using, key, group, events, guard, len(wanted)
        )
        # Past the flood guard's bound: counted, but no row.
        for index in wanted[kept:]:
            results[index].stored = False
        first = results[group.first]
        first.created = created
        if key in reopened:
            first.regressed = True
            group.regressed = group.first
        for index in group.indexes:
            results[index].group_id = group_id
        if created:
            event = events[group.first]
            text = (event["message"], event["class_name"], key[2], event["traceback"])
            new_groups.append((group_id, *text))
        if is_muted:
            muted[group_id] = group
        if resolved_in is not None and group.has_release:
            in_release[group_id] = (key[0], resolved_in, group)
    # Resolved in a release, and the batch has events of releases: reopened
    # by the first event of a newer one. The rows are locked by their count
    # above, so exactly one writer reopens each.
    _reopen_in_release(using, in_release, releases, results)
    # In this transaction, one statement for the batch: a group is never
    # without its search text (see sentry.search.index).
    index_groups(using, new_groups)

    kept = [i for i in fresh if results[i].stored]
    # Packed before the transaction by the digest, or now; either way
    # against dictionaries that may come from this process's cache, which
    # are checked here.
    packing.pack_events(using, [events[i] for i in kept if "_packed" not in events[i]])
    packing.verify(using, [events[i] for i in kept])
    rows = _insert_messages(using, [(events[i], results[i]) for i in kept])
    value_ids, values = _count_values(
        using, [(events[i], results[i].group_id) for i in fresh]
    )
    _link_values(
        using,
        [
            (rows[events[i]["message_id"]], results[i].group_id, values[n])
            for n, i in enumerate(fresh)
            if results[i].stored
        ],
        value_ids,
    )
    _count_users(using, [(events[i], results[i].group_id) for i in fresh])
    unmuted = _unmute(using, muted, events, results)
    _record_history(using, groups.values(), releases, results, unmuted)
    if before_commit is not None:
        before_commit(using)
    return results


class _GroupBatch:
    """
    The occurrences of one group in a batch.

    With the releases of its earliest and its newest event that name one
    (and when that newest one happened), and the index of the event that
    reopened the group, if one did.
    """

    __slots__ = (
        "first",
        "indexes",
        "earliest",
        "latest",
        "first_release",
        "first_release_at",
        "last_release",
        "last_release_at",
        "regressed",
    )

    def __init__(self, first, when):
        self.first = first
        self.indexes = []
        self.earliest = self.latest = when
        self.first_release = self.last_release = None
        self.first_release_at = self.last_release_at = None
        self.regressed = None

    def add(self, index, when, release=None):
        self.indexes.append(index)
        if when < self.earliest:
            self.earliest = when
        if when > self.latest:
            self.latest = when
        if release is not None:
            if self.first_release is None or when < self.first_release_at:
                self.first_release, self.first_release_at = release, when
            if self.last_release is None or when >= self.last_release_at:
                self.last_release, self.last_release_at = release, when

    @property
    def has_release(self):
        return self.last_release is not None


def _create_releases(using, events, releases):
    """
    Create the releases the batch's events name that do not exist yet.

    One ``INSERT ... ON CONFLICT DO NOTHING``: a release another writer
    creates meanwhile is left as it is (first seen by that writer).
    """
    names = {
        (events[index]["project"], name)
        for index, name in releases.items()
        if name is not None
    }
    if not names:
        return
    now = timezone.now()
    Release.objects.using(using).bulk_create(
        [
            Release(project_id=project_id, version=name, date_added=now)
            for project_id, name in sorted(names)
        ],
        ignore_conflicts=True,
    )


def _reopen_in_release(using, in_release, releases, results):
    """
    Reopen the groups resolved in a release that an event of a newer one hit.

    ``in_release`` is ``{group_id: (project_id, resolved_in, group batch)}``.
    The first event (in the batch's order) of a release newer than the one
    the group was resolved in reopens it (:mod:`sentry.releases.resolve`);
    one ``UPDATE`` for those reopened.
    """
    if not in_release:
        return
    found = reopening_events(
        using,
        {
            group_id: (
                project_id,
                resolved_in,
                [(index, releases[index]) for index in group.indexes],
            )
            for group_id, (project_id, resolved_in, group) in in_release.items()
        },
    )
    if not found:
        return
    GroupedMessage.objects.using(using).filter(
        pk__in=sorted(found), status=STATUS_RESOLVED
    ).update(
        status=STATUS_UNRESOLVED,
        resolved_at=None,
        resolved_in_release=None,
        resolved_in_next=False,
    )
    for group_id, index in found.items():
        in_release[group_id][2].regressed = index
        results[index].regressed = True


def _unmute(using, muted, events, results):
    """
    End the mutes the batch's events met; mark which events stay unheard.

    Return ``{group_id: (event index, reason, limit, until)}``. The event that
    crossed a count threshold is the one the history and the plugins get;
    for users or a date, the group's first event of the batch.
    """
    unmuted = {}
    reached = unmute_reached(using, muted, timezone.now()) if muted else {}
    for group_id, group in muted.items():
        found = reached.get(group_id)
        if found is None:
            for index in group.indexes:
                results[index].muted = True
            continue
        reason, times_seen, limit, until = found
        position = 0
        if reason == "count":
            # times_seen before the batch, and how many of its events it
            # took to reach the limit.
            before = times_seen - len(group.indexes)
            position = min(max(limit - before, 1), len(group.indexes)) - 1
        index = group.indexes[position]
        results[index].unmuted = True
        # The events before it were still muted.
        for earlier in group.indexes[:position]:
            results[earlier].muted = True
        unmuted[group_id] = (index, reason, limit, until)
    return unmuted


def _record_history(using, groups, releases, results, unmuted):
    """Write what the batch did to its groups into their history: one INSERT."""
    now = timezone.now()
    entries = []
    for group in groups:
        first = results[group.first]
        if first.created:
            entries.append(
                GroupActivity(
                    group_id=first.group_id,
                    kind=FIRST_SEEN,
                    date=group.earliest,
                    message_id=first.message_id,
                )
            )
        elif group.regressed is not None:
            # With the event that reopened it, and that event's release.
            entries.append(
                GroupActivity(
                    group_id=first.group_id,
                    kind=REGRESSED,
                    date=now,
                    message_id=results[group.regressed].message_id,
                    release=releases[group.regressed],
                )
            )
    for group_id, (index, reason, limit, until) in sorted(unmuted.items()):
        entries.append(
            GroupActivity(
                group_id=group_id,
                kind=UNMUTED,
                # A mute by date ended when the date came, not at this event.
                date=until if reason == "until" else now,
                message_id=results[index].message_id,
                text=unmute_text(reason, limit, until),
                data={"reason": reason},
            )
        )
    if entries:
        GroupActivity.objects.using(using).bulk_create(entries)


def _fresh(using, events, results):
    """Return the indexes of the events that are not stored yet, in order."""
    ids = [event["message_id"] for event in events]
    stored = set()
    connection = connections[using]
    quote = connection.ops.quote_name
    # Plain SQL: building the ORM's query cost the synchronous client more
    # than running it (about a tenth of a capture).
    select = (
        f"SELECT {quote('message_id')} FROM {quote(Message._meta.db_table)} "
        f"WHERE {quote('message_id')} IN "
    )
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            cursor.execute(select + f"({', '.join(['%s'] * len(part))})", part)
            stored.update(row[0] for row in cursor.fetchall())
    fresh = []
    for index, message_id in enumerate(ids):
        if message_id in stored:
            result = results[index]
            result.stored = False
            result.duplicate = True
        else:
            stored.add(message_id)
            fresh.append(index)
    return fresh


def _reopen(using, keys):
    """
    Reopen the resolved groups among ``keys``; return the keys reopened.

    Only those resolved plainly (any event reopens them): one statement.
    Groups resolved in a release are left to :func:`_reopen_in_release`.
    """
    connection = connections[using]
    groups = GroupedMessage.objects.using(using)
    if connection.vendor not in ("sqlite", "postgresql"):
        return {
            key
            for key in keys
            if groups.filter(
                **group_filter(key),
                status=STATUS_RESOLVED,
                resolved_in_release__isnull=True,
            ).update(status=STATUS_UNRESOLVED, resolved_at=None)
        }
    quote = connection.ops.quote_name
    table = quote(GroupedMessage._meta.db_table)
    columns = ", ".join(quote(name) for name in GROUP_KEY_COLUMNS)
    reopened = set()
    with connection.cursor() as cursor:
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(part))
            cursor.execute(
                f"UPDATE {table} SET {quote('status')} = %s, "
                f"{quote('resolved_at')} = NULL "
                f"WHERE {quote('status')} = %s "
                f"AND {quote('resolved_in_release')} IS NULL "
                f"AND ({columns}) IN (VALUES {values}) "
                f"RETURNING {columns}",
                [STATUS_UNRESOLVED, STATUS_RESOLVED, *(v for key in part for v in key)],
            )
            reopened.update(tuple(row) for row in cursor.fetchall())
    return reopened


def _lock_projects_of_new_groups(using, keys):
    """
    Lock the short id counters of the projects ``keys`` would add groups to.

    SQLite has one writer at a time (:func:`sentry.db.take_write_lock`):
    nothing to do. Elsewhere one indexed query finds the groups that exist
    (new groups are rare); the projects of the others are locked in order.
    """
    if not keys or connections[using].vendor == "sqlite":
        return
    existing = set()
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        existing.update(
            GroupedMessage.objects.using(using)
            .filter(
                checksum__in={key[3] for key in part},
                project_id__in={key[0] for key in part},
            )
            .values_list(*GROUP_KEY)
        )
    projects = Project.objects.using(using)
    for project_id in sorted({key[0] for key in keys if key not in existing}):
        # A write that changes nothing: the row lock is what is wanted.
        projects.filter(pk=project_id).update(last_short_id=F("last_short_id"))


def group_data(event):
    """
    Return what a new group keeps of its first occurrence beyond the columns.

    Small (the stream reads it for every row): the type of the chain's first
    cause, so that two errors that differ only by their cause can be told
    apart in the stream.
    """
    cause = chain_cause(event.get("data"))
    return {"cause": cause} if cause else None


class FloodGuard:
    """
    The flood guard's bound for one batch: ``SENTRY_THRASHING_LIMIT`` rows
    of one group per ``SENTRY_THRASHING_TIMEOUT`` seconds.

    Its state is in the group's row (``flood_started``, ``flood_stored``),
    which every write updates and so locks until its transaction ends: the
    bound holds whatever the number of processes and machines writing. A
    window starts with the first occurrence stored after the previous one
    ended (not sliding), at the time it is written.
    """

    def __init__(self, now, timeout, limit):
        self.now = now
        self.cutoff = now - dt.timedelta(seconds=timeout)
        self.limit = limit

    @classmethod
    def from_settings(cls, now):
        """Return the guard in force, or None when it is off."""
        timeout, limit = settings.THRASHING_TIMEOUT, settings.THRASHING_LIMIT
        if not timeout or not limit or timeout < 0 or limit < 0:
            return None
        return cls(now, timeout, limit)

    def kept(self, started, stored, wanted):
        """Return ``(started, stored, kept)`` after a write wanting ``wanted`` rows."""
        stored = stored or 0
        if started is None or started <= self.cutoff:
            kept = min(wanted, self.limit)
            return (self.now if wanted else started), kept, kept
        total = max(min(stored + wanted, self.limit), stored)
        return started, total, total - stored


def _count_group(using, key, group, events, guard=None, wanted=None):
    """
    Count a batch's occurrences of one group.

    Return ``(id, created, muted, kept, resolved_in)``: ``kept`` of the
    ``wanted`` rows (all by default) may be written, as the flood guard
    ``guard`` allows; ``resolved_in`` is the release the group is resolved
    in, if it is resolved in one.
    """
    count = len(group.indexes)
    if wanted is None:
        wanted = count
    counted = _count(using, key, group, guard, wanted)
    if counted is not None:
        group_id, muted, kept, resolved_in = counted
        return group_id, False, muted, kept, resolved_in
    project_id, logger, view, checksum = key
    event = events[group.first]
    flood = {}
    kept = wanted
    if guard is not None:
        started, stored, kept = guard.kept(None, 0, wanted)
        flood = {
            "flood_started": started,
            "flood_stored": stored,
            "flood_kept": kept,
        }
    try:
        with transaction.atomic(using=using):
            # In the savepoint: a group created meanwhile gives its number back.
            created = GroupedMessage(
                short_id=next_short_id(using, project_id),
                project_id=project_id,
                logger=logger,
                view=view,
                checksum=checksum,
                class_name=event["class_name"],
                level=event["level"],
                message=event["message"],
                traceback=event["traceback"],
                data=group_data(event),
                times_seen=count,
                first_seen=group.earliest,
                last_seen=group.latest,
                score=get_score(count, group.latest),
                first_release=group.first_release,
                last_release=group.last_release,
                **flood,
            )
            # Indexed with the batch's other new groups, by store_batch().
            created.save(using=using, force_insert=True, search_index=False)
        return created.pk, True, False, kept, None
    except IntegrityError:
        # Another writer created it between our update and insert.
        group_id, muted, kept, resolved_in = _count(using, key, group, guard, wanted)
        return group_id, False, muted, kept, resolved_in


#: The columns of a ``Message`` row, in the order they are inserted.
MESSAGE_COLUMNS = (
    "group_id",
    "message_id",
    "logger",
    "class_name",
    "level",
    "message",
    "traceback",
    "view",
    "checksum",
    "data",
    "datetime",
    "url",
    "server_name",
    "site",
    "release",
    "environment",
    "user",
)


def _insert_messages(using, pairs):
    """
    Insert the ``Message`` rows of a batch: a few multi-row ``INSERT``\\ s.

    Return a dict from each event's ``message_id`` to its row's id.
    """
    ids = {}
    if not pairs:
        return ids
    connection = connections[using]
    returning = connection.vendor in ("sqlite", "postgresql")
    quote = connection.ops.quote_name
    meta = Message._meta
    binary = connection.Database.Binary
    prepare_datetime = meta.get_field("datetime").get_db_prep_save
    row = "(" + ", ".join(["%s"] * len(MESSAGE_COLUMNS)) + ")"
    columns = ", ".join(quote(meta.get_field(c).column) for c in MESSAGE_COLUMNS)
    try:
        with connection.cursor() as cursor:
            for start in range(0, len(pairs), 1000):
                part = pairs[start : start + 1000]
                params = []
                for event, result in part:
                    data, traceback, _ = event["_packed"]
                    shown = event_columns(event.get("data"))
                    params += (
                        result.group_id,
                        event["message_id"],
                        event["logger"],
                        event["class_name"],
                        event["level"],
                        event["message"],
                        None if traceback is None else binary(traceback),
                        event["view"],
                        event["checksum"],
                        None if data is None else binary(data),
                        prepare_datetime(event["datetime"], connection),
                        event["url"],
                        event["server_name"],
                        event["site"],
                        shown["release"],
                        shown["environment"],
                        shown["user"],
                    )
                cursor.execute(
                    f"INSERT INTO {quote(meta.db_table)} ({columns}) "
                    f"VALUES {', '.join([row] * len(part))}"
                    + (
                        f" RETURNING {quote('id')}, {quote('message_id')}"
                        if returning
                        else ""
                    ),
                    params,
                )
                if returning:
                    ids.update((message_id, pk) for pk, message_id in cursor.fetchall())
    except IntegrityError:
        # Stored by another writer since _fresh() looked. No savepoint: the
        # caller's transaction is rolled back, counting included, and the
        # batch can be tried again.
        raise DuplicateEvent([event["message_id"] for event, _ in pairs]) from None
    if not returning:
        wanted = [event["message_id"] for event, _ in pairs]
        for start in range(0, len(wanted), 1000):
            rows = Message.objects.using(using).filter(
                message_id__in=wanted[start : start + 1000]
            )
            ids.update((m, pk) for pk, m in rows.values_list("pk", "message_id"))
    return ids


# Count one occurrence in its group and return the group's id, in one
# statement: increments and the score are computed by the database from the
# row as it is, so concurrent writers never lose an update. The group's last
# release becomes the batch's newest one unless the group has seen a newer
# event already (every right-hand side reads the row as it was). RETURNING
# says whether it is muted, and what release it is resolved in.
COUNT_SQL = {
    "sqlite": (
        "UPDATE {table} SET times_seen = times_seen + %s,"
        " first_seen = MIN(first_seen, %s), last_seen = MAX(last_seen, %s),"
        " score = LN(times_seen + %s) * 600"
        " + MAX((julianday(last_seen) - 2440587.5) * 86400.0, %s),"
        " last_release = CASE WHEN %s >= last_seen"
        " THEN COALESCE(%s, last_release) ELSE last_release END{flood}"
        " WHERE project_id = %s AND logger = %s AND view = %s AND checksum = %s"
        " RETURNING id, muted, status, resolved_in_release{flood_kept}"
    ),
    "postgresql": (
        "UPDATE {table} SET times_seen = times_seen + %s,"
        " first_seen = LEAST(first_seen, %s), last_seen = GREATEST(last_seen, %s),"
        " score = LN(times_seen + %s) * 600"
        " + GREATEST(EXTRACT(EPOCH FROM last_seen)::float, %s),"
        " last_release = CASE WHEN %s >= last_seen"
        " THEN COALESCE(%s::varchar, last_release) ELSE last_release END{flood}"
        " WHERE project_id = %s AND logger = %s AND view = %s AND checksum = %s"
        " RETURNING id, muted, status, resolved_in_release{flood_kept}"
    ),
}
#: The flood guard's columns, moved in the same statement (see FloodGuard.kept,
#: the same in Python). Every expression reads the row as it was before the
#: update. Parameters: cutoff, wanted, limit (for flood_kept), cutoff,
#: wanted, limit (flood_stored), cutoff, wanted, now (flood_started).
FLOOD_SQL = (
    ", flood_kept = CASE WHEN flood_started IS NULL OR flood_started <= %s"
    " THEN {least}(%s, %s) ELSE {greatest}({least}(COALESCE(flood_stored, 0) + %s,"
    " %s), COALESCE(flood_stored, 0)) - COALESCE(flood_stored, 0) END"
    ", flood_stored = CASE WHEN flood_started IS NULL OR flood_started <= %s"
    " THEN {least}(%s, %s) ELSE {greatest}({least}(COALESCE(flood_stored, 0) + %s,"
    " %s), COALESCE(flood_stored, 0)) END"
    ", flood_started = CASE WHEN (flood_started IS NULL OR flood_started <= %s)"
    " AND %s > 0 THEN %s ELSE flood_started END"
)


def _count(using, key, group, guard=None, wanted=None):
    """
    Add a batch's occurrences of ``group`` to the group ``key`` names, if it exists.

    Return ``(id, muted, kept, resolved_in)`` or None: ``kept`` of the
    ``wanted`` rows may be written, as the flood guard ``guard`` allows (all
    without one); ``resolved_in`` is the release the group is resolved in.
    """
    count, earliest, latest = len(group.indexes), group.earliest, group.latest
    if wanted is None:
        wanted = count
    connection = connections[using]
    sql = COUNT_SQL.get(connection.vendor)
    if sql is None:
        return _count_portable(using, key, group, guard, wanted)
    field = GroupedMessage._meta.get_field("last_seen")
    params = [
        count,
        field.get_db_prep_save(earliest, connection),
        field.get_db_prep_save(latest, connection),
        count,
        latest.timestamp(),
        field.get_db_prep_save(group.last_release_at or latest, connection),
        group.last_release,
    ]
    flood = flood_kept = ""
    if guard is not None:
        sqlite = connection.vendor == "sqlite"
        flood = FLOOD_SQL.format(
            least="MIN" if sqlite else "LEAST",
            greatest="MAX" if sqlite else "GREATEST",
        )
        flood_kept = ", flood_kept"
        cutoff = field.get_db_prep_save(guard.cutoff, connection)
        now = field.get_db_prep_save(guard.now, connection)
        limit = guard.limit
        params += [cutoff, wanted, limit, wanted, limit]
        params += [cutoff, wanted, limit, wanted, limit]
        params += [cutoff, wanted, now]
    params += key
    table = connection.ops.quote_name(GroupedMessage._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.format(table=table, flood=flood, flood_kept=flood_kept), params
        )
        row = cursor.fetchone()
    if row is None:
        return None
    kept = row[4] if guard is not None else wanted
    resolved_in = row[3] if row[2] == STATUS_RESOLVED else None
    return row[0], bool(row[1]), kept, resolved_in


def _count_portable(using, key, group, guard=None, wanted=None):
    """The same with the ORM, for databases without ``UPDATE ... RETURNING``."""
    count, earliest, latest = len(group.indexes), group.earliest, group.latest
    if wanted is None:
        wanted = count
    groups = GroupedMessage.objects.using(using).filter(**group_filter(key))
    counted = groups.update(
        times_seen=F("times_seen") + count,
        first_seen=Least(F("first_seen"), Value(earliest, DateTimeField())),
        last_seen=Greatest(F("last_seen"), Value(latest, DateTimeField())),
    )
    if not counted:
        return None
    # The update holds the row's lock until the transaction ends: what is
    # read now is not changed by another writer before it is written back.
    row = groups.values_list(
        "pk",
        "times_seen",
        "last_seen",
        "muted",
        "flood_started",
        "flood_stored",
        "status",
        "resolved_in_release",
    ).get()
    group_id, times_seen, last_seen, muted, started, stored, status, resolved = row
    changes = {"score": get_score(times_seen, last_seen)}
    if group.last_release is not None and group.last_release_at >= last_seen:
        changes["last_release"] = group.last_release
    kept = wanted
    if guard is not None:
        started, stored, kept = guard.kept(started, stored, wanted)
        changes.update(flood_started=started, flood_stored=stored, flood_kept=kept)
    GroupedMessage.objects.using(using).filter(pk=group_id).update(**changes)
    return group_id, muted, kept, resolved if status == STATUS_RESOLVED else None


def _count_values(using, pairs):
    """
    Add ``(event, group_id)`` pairs to the value, minute and hour counters.

    Return the value counters' ids (a dict from ``(group_id, key, value)``)
    and each event's values (a list, in the order of ``pairs``).
    """
    filter_values = set()
    by_value = {}
    by_minute = {}
    by_hour = {}
    by_value_hour = {}
    values_of_events = []
    for event, group_id in pairs:
        now = event["datetime"]
        hour_of_event = now.replace(minute=0, second=0, microsecond=0)
        values = event_values(event)
        values_of_events.append(values)
        for key, value in values:
            if key in TREND_KEYS:
                bucket = (group_id, key, value, hour_of_event)
                by_value_hour[bucket] = by_value_hour.get(bucket, 0) + 1
            if key in FILTERED_KEYS or key == ENVIRONMENT_KEY:
                filter_values.add((event["project"], key, value))
            row = by_value.get((group_id, key, value))
            if row is None:
                by_value[(group_id, key, value)] = {
                    "group_id": group_id,
                    "key": key,
                    "value": value,
                    "times_seen": 1,
                    "first_seen": now,
                    "last_seen": now,
                }
            else:
                row["times_seen"] += 1
                row["first_seen"] = min(row["first_seen"], now)
                row["last_seen"] = max(row["last_seen"], now)
        minute = (group_id, now.replace(second=0, microsecond=0))
        by_minute[minute] = by_minute.get(minute, 0) + 1
        hour = (event["project"], hour_of_event)
        by_hour[hour] = by_hour.get(hour, 0) + 1
    if filter_values:
        insert_new(
            using,
            FilterValue,
            [
                {"project_id": project_id, "key": key, "value": value}
                for project_id, key, value in sorted(filter_values)
            ],
            unique=("project_id", "key", "value"),
        )
    # The counters' ids come back in the same statement: the occurrences'
    # links to their values (_link_values) need them.
    value_ids = upsert_counters(
        using,
        MessageFilterValue,
        list(by_value.values()),
        unique=("group_id", "key", "value"),
        add=("times_seen",),
        greatest=("last_seen",),
        least=("first_seen",),
        returning="id",
    )
    upsert_counters(
        using,
        MessageCountByMinute,
        [
            {"group_id": group_id, "date": date, "times_seen": count}
            for (group_id, date), count in by_minute.items()
        ],
        unique=("group_id", "date"),
        add=("times_seen",),
    )
    if by_value_hour:
        upsert_counters(
            using,
            ValueCountByHour,
            [
                {
                    "group_id": group_id,
                    "key": key,
                    "value": value,
                    "date": date,
                    "times_seen": count,
                }
                for (group_id, key, value, date), count in by_value_hour.items()
            ],
            unique=("group_id", "key", "value", "date"),
            add=("times_seen",),
        )
    # Last: a project's hour is one row that every batch of the project
    # adds to, so its row lock is held for as short a time as possible.
    upsert_counters(
        using,
        ProjectCountByHour,
        [
            {"project_id": project_id, "date": date, "times_seen": count}
            for (project_id, date), count in by_hour.items()
        ],
        unique=("project_id", "date"),
        add=("times_seen",),
    )
    return value_ids, values_of_events


def _link_values(using, occurrences, value_ids):
    """
    Link occurrences to their values that no ``Message`` column keeps.

    ``occurrences`` are ``(message pk, group_id, values)``; ``value_ids``
    the counters' ids :func:`_count_values` returned. One multi-row
    ``INSERT`` a few thousand links (an event has at most
    ``sentry.tags.MAX_TAGS`` tags and four user fields).
    """
    links = []
    missing = 0
    for pk, group_id, values in occurrences:
        for key, value in values:
            if key in OCCURRENCE_COLUMN_KEYS:
                continue
            value_id = value_ids.get((group_id, key, value))
            if value_id is None:
                # Not expected: the counter was written just now. Should a
                # database give a value back changed, the occurrence is
                # stored all the same, without that link.
                missing += 1
            else:
                links.append((value_id, pk))
    if missing:
        logger.error("%d values of occurrences not linked: no counter id", missing)
    if not links:
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(OccurrenceValue._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(links), 5000):
            part = links[start : start + 5000]
            cursor.execute(
                f"INSERT INTO {table} ({quote('value_id')}, {quote('message_id')}) "
                f"VALUES {', '.join(['(%s, %s)'] * len(part))}",
                [column for link in part for column in link],
            )


def _count_users(using, pairs):
    """
    Count the users ``(event, group_id)`` pairs hit that their groups had not.

    A row per group and user (a hash of who they are) is inserted unless
    it is there; the group's ``users`` grows by the rows that were new.
    Exact with concurrent writers: two batches that add the same user to a
    group hold that group's row lock (taken when it was counted), so the
    second one finds the first one's row.
    """
    seen = set()
    for event, group_id in pairs:
        identity = user_identity(event.get("data"))
        if identity is not None:
            seen.add((group_id, identity_hash(identity)))
    if not seen:
        return
    rows = [{"group_id": group_id, "hash": digest} for group_id, digest in sorted(seen)]
    added = {}
    for row in insert_new(using, GroupUser, rows, unique=("group_id", "hash")):
        added[row["group_id"]] = added.get(row["group_id"], 0) + 1
    groups = GroupedMessage.objects.using(using)
    for group_id, count in sorted(added.items()):
        groups.filter(pk=group_id).update(users=F("users") + count)
