"""
Digest: turn a prepared event into rows.

One transaction per event: find or create the group (exactly once, even with
concurrent writers), count the occurrence, write the ``Message`` row and bump
the per-group value and per-minute counters.
"""

from django.db import IntegrityError, connections, transaction
from django.db.models import F, Value
from django.db.models.fields import DateTimeField
from django.db.models.functions import Greatest, Least

from .constants import FILTERED_KEYS, STATUS_RESOLVED, STATUS_UNRESOLVED
from .db import DEFERRED, get_write_alias, run_in_transaction, upsert_counters
from .models import (
    FilterValue,
    GroupedMessage,
    Message,
    MessageCountByMinute,
    MessageFilterValue,
    get_score,
)

#: Longest key and value kept in the value counters (their columns' sizes).
MAX_KEY_LENGTH = 32
MAX_VALUE_LENGTH = 200
#: Counter keys of tags: "tag:<name>".
TAG_PREFIX = "tag:"


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


def store_event(event, keep_row=True):
    """
    Write ``event`` (a prepared event dict) to the database.

    With ``keep_row=False`` only the counters move (the flood guard). Return
    a :class:`StoreResult`. An event whose ``message_id`` is stored already
    changes nothing.
    """
    alias = get_write_alias(Message)
    try:
        result = run_in_transaction(lambda using: _store(event, using, keep_row), alias)
    except DuplicateEvent:
        result = StoreResult(event["message_id"], stored=False)
        result.duplicate = True
        return result
    if result is DEFERRED:
        # Written once the host's transaction is over (see sentry.db).
        result = StoreResult(event["message_id"], stored=keep_row)
    return result


def _store(event, using, keep_row):
    now = event["datetime"]
    key = {
        "logger": event["logger"],
        "view": event["view"],
        "checksum": event["checksum"],
    }
    groups = GroupedMessage.objects.using(using)

    # Writing first takes the write lock at once (SQLite) or the row lock
    # (PostgreSQL), so that the reads below see a settled row.
    regressed = bool(
        groups.filter(**key, status=STATUS_RESOLVED).update(
            status=STATUS_UNRESOLVED, resolved_at=None
        )
    )
    group_id = _count(using, key, now)
    created = False
    if group_id is None:
        try:
            with transaction.atomic(using=using):
                group = groups.create(
                    **key,
                    class_name=event["class_name"],
                    level=event["level"],
                    message=event["message"],
                    traceback=event["traceback"],
                    times_seen=1,
                    first_seen=now,
                    last_seen=now,
                    score=get_score(1, now),
                )
            created = True
            group_id = group.pk
        except IntegrityError:
            # Another writer created it between our update and insert.
            group_id = _count(using, key, now)

    if keep_row:
        try:
            # No savepoint: a duplicate id must undo the counting above too,
            # and leaving the transaction with an error does just that.
            Message.objects.using(using).create(
                group_id=group_id,
                message_id=event["message_id"],
                logger=event["logger"],
                class_name=event["class_name"],
                level=event["level"],
                message=event["message"],
                traceback=event["traceback"],
                view=event["view"],
                checksum=event["checksum"],
                data=event["data"],
                datetime=now,
                url=event["url"],
                server_name=event["server_name"],
                site=event["site"],
            )
        except IntegrityError:
            # Same message_id twice: undo the counting above as well.
            raise DuplicateEvent(event["message_id"]) from None

    _count_values(using, group_id, event, now)
    return StoreResult(
        event["message_id"],
        group_id,
        created=created,
        regressed=regressed,
        stored=keep_row,
    )


# Count one occurrence in its group and return the group's id, in one
# statement: increments and the score are computed by the database from the
# row as it is, so concurrent writers never lose an update.
COUNT_SQL = {
    "sqlite": (
        "UPDATE {table} SET times_seen = times_seen + 1,"
        " first_seen = MIN(first_seen, %s), last_seen = MAX(last_seen, %s),"
        " score = LN(times_seen + 1) * 600"
        " + MAX((julianday(last_seen) - 2440587.5) * 86400.0, %s)"
        " WHERE logger = %s AND view = %s AND checksum = %s RETURNING id"
    ),
    "postgresql": (
        "UPDATE {table} SET times_seen = times_seen + 1,"
        " first_seen = LEAST(first_seen, %s), last_seen = GREATEST(last_seen, %s),"
        " score = LN(times_seen + 1) * 600"
        " + GREATEST(EXTRACT(EPOCH FROM last_seen)::float, %s)"
        " WHERE logger = %s AND view = %s AND checksum = %s RETURNING id"
    ),
}


def _count(using, key, now):
    connection = connections[using]
    sql = COUNT_SQL.get(connection.vendor)
    if sql is None:
        return _count_portable(using, key, now)
    field = GroupedMessage._meta.get_field("last_seen")
    when = field.get_db_prep_save(now, connection)
    params = [when, when, now.timestamp(), key["logger"], key["view"], key["checksum"]]
    table = connection.ops.quote_name(GroupedMessage._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=table), params)
        row = cursor.fetchone()
    return row[0] if row else None


def _count_portable(using, key, now):
    """The same with the ORM, for databases without ``UPDATE ... RETURNING``."""
    groups = GroupedMessage.objects.using(using).filter(**key)
    when = Value(now, output_field=DateTimeField())
    counted = groups.update(
        times_seen=F("times_seen") + 1,
        first_seen=Least(F("first_seen"), when),
        last_seen=Greatest(F("last_seen"), when),
    )
    if not counted:
        return None
    group_id, times_seen, last_seen = groups.values_list(
        "pk", "times_seen", "last_seen"
    ).get()
    GroupedMessage.objects.using(using).filter(pk=group_id).update(
        score=get_score(times_seen, last_seen)
    )
    return group_id


def event_values(event):
    """Return the ``(key, value)`` pairs an event is counted under."""
    values = [
        ("server_name", event["server_name"]),
        ("site", event["site"]),
        ("url", event["url"]),
        ("logger", event["logger"]),
        ("level", str(event["level"])),
    ]
    tags = (event.get("data") or {}).get("tags")
    if isinstance(tags, dict):
        values += [
            (TAG_PREFIX + str(k), v) for k, v in sorted(tags.items()) if v is not None
        ]
    return [
        (key[:MAX_KEY_LENGTH], str(value)[:MAX_VALUE_LENGTH])
        for key, value in values
        if value
    ]


def _count_values(using, group_id, event, now):
    values = event_values(event)
    FilterValue.objects.using(using).bulk_create(
        [
            FilterValue(key=key, value=value)
            for key, value in values
            if key in FILTERED_KEYS
        ],
        ignore_conflicts=True,
    )
    upsert_counters(
        using,
        MessageFilterValue,
        [
            {
                "group_id": group_id,
                "key": key,
                "value": value,
                "times_seen": 1,
                "first_seen": now,
                "last_seen": now,
            }
            for key, value in values
        ],
        unique=("group_id", "key", "value"),
        add=("times_seen",),
        greatest=("last_seen",),
        least=("first_seen",),
    )
    upsert_counters(
        using,
        MessageCountByMinute,
        [
            {
                "group_id": group_id,
                "date": now.replace(second=0, microsecond=0),
                "times_seen": 1,
            }
        ],
        unique=("group_id", "date"),
        add=("times_seen",),
    )
