"""
Database plumbing for writes: which connection, which transaction, upserts.

An error is usually recorded while the host's own transaction is failing or
about to be rolled back. Rows written inside that transaction would vanish
with it (or could not be written at all once it is broken), so when the host
is inside an ``atomic`` block the app writes through a connection of its own
to the same database and commits independently.
"""

import logging
import time

from django.db import DatabaseError, OperationalError, connections, router, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest, Least

from .conf import settings

logger = logging.getLogger("sentry.errors")

SIDE_SUFFIX = "__sentry_side"


def get_write_alias(model):
    """Return the database alias the app's rows are written to."""
    return settings.DATABASE_USING or router.db_for_write(model)


def _side_alias(alias):
    """Register (once) and return a second connection alias for ``alias``."""
    side = alias + SIDE_SUFFIX
    source = connections.settings[alias]
    if connections.settings.get(side, {}).get("NAME") != source["NAME"]:
        connections.settings[side] = {**source, "TEST": {**source.get("TEST", {})}}
    return side


def _inside_host_transaction(connection):
    """Return whether ``connection`` is inside an atomic block of the host."""
    if not connection.in_atomic_block:
        return False
    # Django's TestCase wraps each test in atomic blocks marked as its own;
    # writing on a side connection there would escape the test's rollback.
    return not all(
        getattr(block, "_from_testcase", False) for block in connection.atomic_blocks
    )


def _can_use_side_connection(connection):
    if connection.vendor == "sqlite":
        return not connection.is_in_memory_db()
    return True


def run_in_transaction(func, alias, retries=3):
    """
    Call ``func(alias)`` in a transaction that the host cannot roll back.

    Returns what ``func`` returns. Retries briefly when SQLite reports that
    the database is locked and no outer transaction forbids a retry.
    """
    connection = connections[alias]
    if _inside_host_transaction(connection) and _can_use_side_connection(connection):
        side = _side_alias(alias)
        try:
            return _attempt(func, side, retries)
        except DatabaseError:
            if connection.needs_rollback:
                raise
            # Fall back to a savepoint inside the host's transaction: the row
            # is kept unless the host rolls back.
    return _attempt(func, alias, retries if not connection.in_atomic_block else 1)


def _attempt(func, alias, retries):
    for attempt in range(retries):
        try:
            with transaction.atomic(using=alias):
                return func(alias)
        except OperationalError as exc:
            if attempt + 1 >= retries or "locked" not in str(exc):
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def upsert_counters(alias, model, rows, unique, add=(), greatest=(), least=()):
    """
    Insert ``rows`` into ``model``'s table or add to the rows already there.

    ``rows`` are dicts of column values. On a conflict on the ``unique``
    columns the ``add`` columns are summed, ``greatest`` columns keep the
    larger value and ``least`` columns the smaller one: the counter update is
    one statement, exact under concurrent writers.
    """
    if not rows:
        return
    connection = connections[alias]
    columns = list(rows[0])
    rows = sorted(rows, key=lambda row: tuple(str(row[c]) for c in unique))
    if connection.vendor not in ("sqlite", "postgresql"):
        _upsert_portable(alias, model, rows, unique, add, greatest, least)
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields = {f.column: f for f in model._meta.concrete_fields}
    greatest_fn = "MAX" if connection.vendor == "sqlite" else "GREATEST"
    least_fn = "MIN" if connection.vendor == "sqlite" else "LEAST"
    updates = [f"{quote(c)} = {table}.{quote(c)} + EXCLUDED.{quote(c)}" for c in add]
    updates += [
        f"{quote(c)} = {greatest_fn}({table}.{quote(c)}, EXCLUDED.{quote(c)})"
        for c in greatest
    ]
    updates += [
        f"{quote(c)} = {least_fn}({table}.{quote(c)}, EXCLUDED.{quote(c)})"
        for c in least
    ]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES {', '.join([placeholders] * len(rows))} "
        f"ON CONFLICT ({', '.join(quote(c) for c in unique)}) "
        f"DO UPDATE SET {', '.join(updates)}"
    )
    params = []
    for row in rows:
        for column in columns:
            params.append(fields[column].get_db_prep_save(row[column], connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _upsert_portable(alias, model, rows, unique, add, greatest, least):
    """Update-then-insert, for backends without ``ON CONFLICT``."""
    manager = model._base_manager.using(alias)
    for row in rows:
        key = {column_field(model, c): row[c] for c in unique}
        changes = {}
        for columns, combine in ((add, _add), (greatest, Greatest), (least, Least)):
            for column in columns:
                name = column_field(model, column)
                field = model._meta.get_field(name)
                changes[name] = combine(F(name), Value(row[column], output_field=field))
        if manager.filter(**key).update(**changes):
            continue
        try:
            with transaction.atomic(using=alias):
                manager.create(**{column_field(model, c): v for c, v in row.items()})
        except DatabaseError:
            manager.filter(**key).update(**changes)


def _add(left, right):
    return left + right


def column_field(model, column):
    for field in model._meta.concrete_fields:
        if field.column == column:
            return field.attname
    raise LookupError(column)
