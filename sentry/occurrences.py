"""
What an occurrence's row keeps of its event besides the columns it always had.

The occurrences tab lists each occurrence's release, environment and user,
and its search narrows by release and environment. Both would otherwise
mean unpacking every row's data, so the digest copies them into columns of
``Message`` when it stores the event (:func:`event_columns`), as the value
counters read them: the event's own ``release`` / ``environment`` tag wins
over the SDK's field, values cut and made storable alike.

Its other counted values (its tags, its user's id, e-mail, username and IP
address) are linked to it by ``OccurrenceValue`` rows, written with it, and
deleted with it by a database trigger (:data:`SQLITE_TRIGGER`).
"""

from django.db import connections

from .tags import MAX_VALUE_LENGTH, event_tag, storable

#: The SQLite trigger that deletes an occurrence's values with it (migration
#: 0028 makes it, and PostgreSQL's).
SQLITE_TRIGGER_NAME = "sentry_occurrencevalue_forget"
SQLITE_TRIGGER = (
    f"CREATE TRIGGER IF NOT EXISTS {SQLITE_TRIGGER_NAME} AFTER DELETE ON "
    "sentry_message BEGIN DELETE FROM sentry_occurrencevalue "
    "WHERE message_id = OLD.id; END"
)

#: The user's fields that name them in the list, most readable first.
USER_LABEL_FIELDS = ("email", "username", "id", "ip_address")


def event_columns(data):
    """Return ``{"release": ..., "environment": ..., "user": ...}`` of an event."""
    data = data if isinstance(data, dict) else {}
    # As the value counters read them: the event's own tag, else the field.
    columns = {
        name: event_tag({"data": data}, name) for name in ("release", "environment")
    }
    columns["user"] = _cut(user_label(data.get("user")))
    return columns


def user_label(user):
    """Return how the list names an event's user: e-mail, username, id or IP."""
    if not isinstance(user, dict):
        return None
    for field in USER_LABEL_FIELDS:
        value = _text(user.get(field))
        if value:
            return value
    return None


def _text(value):
    """Return a field's value as text (as sentry.tags reads one), or None."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return str(value).strip() or None


def _cut(value):
    if value is None:
        return None
    return storable(value[:MAX_VALUE_LENGTH]) or None


def drop_trigger(using="default", plan=None, **kwargs):
    """
    Drop the SQLite trigger before migrations run (``pre_migrate``).

    A migration that remakes the links' table on SQLite drops the old table
    and renames the new one, which SQLite refuses while a trigger names the
    table. :func:`ensure_trigger` makes it again after the migrations (and
    deletes the links of occurrences deleted meanwhile). Nothing to do when
    nothing is to be migrated.
    """
    connection = connections[using]
    if connection.vendor != "sqlite" or not plan:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS {SQLITE_TRIGGER_NAME}")


def ensure_trigger(using="default", **kwargs):
    """
    Put the SQLite trigger back if a migration dropped it (``post_migrate``).

    SQLite alters a table by making it anew, which drops its triggers: after
    a migration that changes the occurrence table, the trigger is made
    again and the values of occurrences deleted meanwhile are removed.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if "sentry_occurrencevalue" not in tables or "sentry_message" not in tables:
            return
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = %s",
            [SQLITE_TRIGGER_NAME],
        )
        if cursor.fetchone():
            return
        cursor.execute(SQLITE_TRIGGER)
        cursor.execute(
            "DELETE FROM sentry_occurrencevalue WHERE message_id NOT IN "
            "(SELECT id FROM sentry_message)"
        )
