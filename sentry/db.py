"""
Database plumbing for writes: which connection, which transaction, upserts.

An error is usually recorded while the host's own transaction is failing or
about to be rolled back. Rows written inside that transaction would vanish
with it (or could not be written at all once it is broken), so when the host
is inside an ``atomic`` block the app writes through a connection of its own
to the same database and commits independently.
"""

import logging
import sqlite3
import threading
import time

from django.db import (
    DatabaseError,
    IntegrityError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.db.models import F, Value
from django.db.models.functions import Greatest, Least

from .conf import settings

logger = logging.getLogger("sentry.errors")

#: Returned by :func:`run_in_transaction` when the write had to wait.
DEFERRED = object()

_local = threading.local()


def get_write_alias(model):
    """Return the database alias the app's rows are written to."""
    if settings.QUEUE_DATABASE and is_queue_model(model):
        return settings.QUEUE_DATABASE
    return settings.DATABASE_USING or router.db_for_write(model)


def is_queue_model(model):
    """Return whether ``model`` lives in ``SENTRY_QUEUE_DATABASE`` when set."""
    return model._meta.label_lower == "sentry.queuedevent"


def secure_queue_connection(sender, connection, **kwargs):
    """
    Make SQLite zero the pages and cells the queue's connections free.

    Connected to ``connection_created``. Queue rows hold events as they
    arrived, unscrubbed; deleted (once digested) or rewritten (claimed), the
    space they took would otherwise keep their bytes in the file until
    reused. Only the queue's alias is touched -- which, without
    ``SENTRY_QUEUE_DATABASE``, is the database the app's tables share with
    the site (see docs/operations.rst). ``SENTRY_QUEUE_SECURE_DELETE =
    False`` leaves the connection as SQLite was built (many builds zero
    already).
    """
    if connection.vendor != "sqlite" or not settings.QUEUE_SECURE_DELETE:
        return
    from django.apps import apps

    if connection.alias != get_write_alias(apps.get_model("sentry", "QueuedEvent")):
        return
    connection.connection.execute("PRAGMA secure_delete = ON")


def reclaimable_queue_connection(sender, connection, **kwargs):
    """
    Make a new, empty SQLite queue database give freed pages back (``auto_vacuum``).

    Connected to ``connection_created``. A digested batch frees the pages
    its raw rows took -- about 6 KB an event -- and SQLite keeps free pages
    in the file for reuse: on a small database, the free pages a burst of
    events left behind can be half the file. With ``auto_vacuum =
    INCREMENTAL`` a drain that empties the queue can give them back
    (:func:`give_back_free_pages`). The mode can only be chosen while the
    database has no table (then ``VACUUM`` of the empty file applies it at
    once, also after ``journal_mode = WAL`` wrote its header): an existing
    database keeps its mode. ``SENTRY_QUEUE_VACUUM = False`` leaves it alone.
    """
    if connection.vendor != "sqlite" or not settings.QUEUE_VACUUM:
        return
    from django.apps import apps

    if connection.alias != get_write_alias(apps.get_model("sentry", "QueuedEvent")):
        return
    raw = connection.connection
    try:
        if (
            raw.in_transaction
            or raw.execute("SELECT EXISTS (SELECT 1 FROM sqlite_master)").fetchone()[0]
        ):
            return
        raw.execute("PRAGMA auto_vacuum = INCREMENTAL")
        raw.execute("VACUUM")
    except sqlite3.Error:
        # A read-only or busy file: it keeps its mode, the connection works.
        pass


def truncate_log(alias):
    """
    Empty SQLite's write-ahead log of ``alias`` if nobody needs it; else copy it.

    Called when a drain has emptied the queue: the log keeps every page
    written since it last restarted, raw queue payloads included, until
    frames are overwritten. ``TRUNCATE`` copies it into the database (whose
    copies of the queue's pages are zeroed by ``secure_delete``) and cuts the
    file to nothing; it needs every reader on the newest snapshot and no
    writer, so it is tried without waiting (a zero busy timeout), and when
    it cannot run a ``PASSIVE`` checkpoint is done instead: the next drain
    that empties the queue tries again. Return whether the log was emptied.
    """
    connection = connections[alias]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            timeout = cursor.fetchone()[0]
            cursor.execute("PRAGMA busy_timeout = 0")
            try:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy = cursor.fetchone()[0]
            finally:
                cursor.execute(f"PRAGMA busy_timeout = {int(timeout)}")
            if busy:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            return not busy
    except DatabaseError:
        return False


#: Free pages a queue database keeps, as a share of the pages in use: the
#: room the next burst of events takes without growing the file.
KEEP_FREE = 0.1


def give_back_free_pages(alias):
    """
    Cut the free pages of SQLite database ``alias`` down to :data:`KEEP_FREE`.

    Called when a drain has emptied the queue, before the log is truncated.
    Only a database made with ``auto_vacuum = INCREMENTAL`` can give pages
    back (see :func:`reclaimable_queue_connection`); for the others this is
    one ``PRAGMA``. The pages beyond the share kept are released with
    ``incremental_vacuum``, a short write transaction, tried without waiting
    (a zero busy timeout): when another connection writes, the next drain
    that empties the queue tries again. Return the number of pages given back.
    """
    connection = connections[alias]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return 0
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA auto_vacuum")
            if cursor.fetchone()[0] != 2:  # INCREMENTAL
                return 0
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA freelist_count")
            free = cursor.fetchone()[0]
            surplus = free - int((pages - free) * KEEP_FREE)
            if surplus <= 0:
                return 0
            cursor.execute("PRAGMA busy_timeout")
            timeout = cursor.fetchone()[0]
            cursor.execute("PRAGMA busy_timeout = 0")
            try:
                # executescript() runs the pragma to its end; execute() would
                # stop after its first step, which frees one page.
                connection.connection.executescript(
                    f"PRAGMA incremental_vacuum({int(surplus)})"
                )
            finally:
                cursor.execute(f"PRAGMA busy_timeout = {int(timeout)}")
            cursor.execute("PRAGMA freelist_count")
            return free - cursor.fetchone()[0]
    except (DatabaseError, sqlite3.Error):
        return 0


def run_in_transaction(func, alias, retries=3):
    """
    Call ``func(alias)`` in a transaction of its own and return its result.

    Outside the host's transactions that is a plain transaction. Inside one,
    the write must neither vanish with a rollback of the host nor fail
    because the host's transaction is broken:

    * on servers with row locking (PostgreSQL...) it goes through a second
      connection of this thread to the same database, which commits at once;
    * on SQLite, where a second connection would wait for the host's write
      lock, it is deferred until the host's transaction is over (the end of
      the request, or the next write), and :data:`DEFERRED` is returned;
    * inside Django's ``TestCase``, whose rollback must undo everything, it
      is written in a savepoint of the test's transaction, or deferred while
      the innermost block is broken.
    """
    connection = connections[alias]
    if (
        connection.connection is None
        and threading.current_thread() is not threading.main_thread()
    ):
        # Opened for us in a thread that may never see request_finished (an
        # executor thread of an async server): leave it closed, as found.
        try:
            return _run(func, alias, retries)
        finally:
            if not connection.in_atomic_block:
                connection.close()
    return _run(func, alias, retries)


def _run(func, alias, retries):
    connection = connections[alias]
    if connection.in_atomic_block:
        if any(
            getattr(block, "_from_testcase", False)
            for block in connection.atomic_blocks
        ):
            if connection.needs_rollback:
                return _defer(func, alias)
            return _attempt(func, alias, 1)
        if connection.vendor != "sqlite":
            try:
                return _on_second_connection(func, alias)
            except DatabaseError:
                logger.warning(
                    "Second connection failed; deferring the write", exc_info=True
                )
        return _defer(func, alias)
    flush_deferred(alias)
    return _attempt(func, alias, retries)


def outside_host_transaction(func, alias):
    """
    Call ``func(alias)`` where the host's open transaction cannot get in the way.

    Inside a host transaction on a server with row locking, that transaction
    may be broken (an error caught after a failed query), or not see what a
    second connection committed (``REPEATABLE READ``): ``func`` then runs on
    a second connection of its own, as :func:`run_in_transaction` writes.
    Elsewhere it runs as is.
    """
    if connections[alias].vendor != "sqlite" and in_host_transaction(alias):
        return _on_second_connection(func, alias)
    return func(alias)


def _on_second_connection(func, alias):
    # The ORM looks connections up by alias, per thread: for the length of
    # this write, this thread's alias points at a fresh connection.
    original = connections[alias]
    second = connections.create_connection(alias)
    connections[alias] = second
    try:
        if second.vendor == "postgresql":
            with second.cursor() as cursor:
                # Never wait long for a row the host's transaction has locked.
                cursor.execute("SET lock_timeout = '2s'")
        return _attempt(func, alias, 1)
    finally:
        connections[alias] = original
        second.close()


def _defer(func, alias):
    pending = _pending()
    pending.append((func, alias))
    try:
        transaction.on_commit(lambda: flush_deferred(alias), using=alias)
    except Exception:
        pass
    return DEFERRED


def _pending():
    pending = getattr(_local, "pending", None)
    if pending is None:
        pending = _local.pending = []
    return pending


def flush_deferred(alias=None, **kwargs):
    """Write what was deferred while a host transaction was open."""
    pending = getattr(_local, "pending", None)
    if not pending:
        return
    waiting = []
    for func, func_alias in list(pending):
        if alias is not None and func_alias != alias:
            waiting.append((func, func_alias))
            continue
        connection = connections[func_alias]
        if in_host_transaction(func_alias) or (
            connection.in_atomic_block and connection.needs_rollback
        ):
            waiting.append((func, func_alias))
            continue
        try:
            _attempt(func, func_alias, 3)
        except Exception as exc:
            if not getattr(exc, "expected", False):
                logger.error("Unable to write a deferred error", exc_info=True)
    _local.pending = waiting


def in_host_transaction(alias):
    """Return whether a transaction of the host (not a test's) is open on ``alias``."""
    connection = connections[alias]
    return connection.in_atomic_block and not all(
        getattr(block, "_from_testcase", False) for block in connection.atomic_blocks
    )


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


def take_write_lock(alias, model):
    """
    Start the current transaction as a writer (SQLite).

    A SQLite transaction that reads first and writes later must upgrade its
    lock, and when another connection writes meanwhile the upgrade fails at
    once with "database is locked", whatever the timeout. A write that
    changes nothing takes the lock up front, waiting for it as long as the
    connection's timeout allows. Other databases lock rows, not the file:
    nothing to do there.
    """
    connection = connections[alias]
    if connection.vendor != "sqlite":
        return
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET id = id WHERE 0")


def upsert_counters(
    alias, model, rows, unique, add=(), greatest=(), least=(), returning=None
):
    """
    Insert ``rows`` into ``model``'s table or add to the rows already there.

    ``rows`` are dicts of column values. On a conflict on the ``unique``
    columns the ``add`` columns are summed, ``greatest`` columns keep the
    larger value and ``least`` columns the smaller one: the counter update is
    one statement, exact under concurrent writers.

    With ``returning`` (a column, such as ``"id"``), return a dict from each
    row's ``unique`` values (a tuple, in that order) to that column's value
    in the table, read in the same statement.
    """
    found = {}
    if not rows:
        return found
    connection = connections[alias]
    columns = list(rows[0])
    rows = sorted(rows, key=lambda row: tuple(str(row[c]) for c in unique))
    if connection.vendor not in ("sqlite", "postgresql"):
        _upsert_portable(alias, model, rows, unique, add, greatest, least)
        if returning is not None:
            manager = model._base_manager.using(alias)
            for row in rows:
                key = {column_field(model, c): row[c] for c in unique}
                found[tuple(row[c] for c in unique)] = manager.filter(
                    **key
                ).values_list(column_field(model, returning), flat=True)[0]
        return found
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
    prepare = [(column, fields[column].get_db_prep_save) for column in columns]
    # A batch repeats the same few times and ids in every row: adapt each once.
    cache = {}

    def prepared(column, get_prep, value):
        key = (column, value)
        try:
            return cache[key]
        except KeyError:
            result = cache[key] = get_prep(value, connection)
            return result
        except TypeError:  # unhashable
            return get_prep(value, connection)

    returned = ""
    if returning is not None:
        returned = " RETURNING " + ", ".join(quote(c) for c in (*unique, returning))
    # A batch's counters in few statements, each within the parameter limits
    # of SQLite (32,766) and PostgreSQL (65,535).
    chunk = max(1, 20000 // len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            sql = (
                f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "
                f"VALUES {', '.join([placeholders] * len(part))} "
                f"ON CONFLICT ({', '.join(quote(c) for c in unique)}) "
                f"DO UPDATE SET {', '.join(updates)}{returned}"
            )
            params = [
                prepared(column, get_prep, row[column])
                for row in part
                for column, get_prep in prepare
            ]
            cursor.execute(sql, params)
            if returning is not None:
                for *key, value in cursor.fetchall():
                    found[tuple(key)] = value
    return found


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


def insert_new(alias, model, rows, unique):
    """
    Insert the ``rows`` of ``model`` not there yet; return the ones inserted.

    ``rows`` are dicts of column values; a row whose ``unique`` columns are
    taken is left out, in one statement (``ON CONFLICT DO NOTHING
    RETURNING``): with concurrent writers, each row is reported inserted by
    exactly one of them.
    """
    if not rows:
        return []
    connection = connections[alias]
    columns = list(rows[0])
    if connection.vendor not in ("sqlite", "postgresql"):
        return _insert_new_portable(alias, model, rows)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields = {f.column: f for f in model._meta.concrete_fields}
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    names = ", ".join(quote(c) for c in columns)
    inserted = []
    chunk = max(1, 20000 // len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            cursor.execute(
                f"INSERT INTO {table} ({names}) "
                f"VALUES {', '.join([placeholders] * len(part))} "
                f"ON CONFLICT ({', '.join(quote(c) for c in unique)}) DO NOTHING "
                f"RETURNING {names}",
                [
                    fields[column].get_db_prep_save(row[column], connection)
                    for row in part
                    for column in columns
                ],
            )
            inserted += [dict(zip(columns, row, strict=True)) for row in cursor]
    return inserted


def _insert_new_portable(alias, model, rows):
    """Insert row by row, each in a savepoint, for backends without ``ON CONFLICT``."""
    manager = model._base_manager.using(alias)
    inserted = []
    for row in rows:
        try:
            with transaction.atomic(using=alias):
                manager.create(**{column_field(model, c): v for c, v in row.items()})
        except IntegrityError:
            continue
        inserted.append(row)
    return inserted
